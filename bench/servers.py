"""Start real server processes on loopback for tests that need them, and always stop them."""

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_of_this_run() -> str:
    """The URL of the database that this test run uses (PostgreSQL), for server processes."""
    settings = connection.settings_dict
    return (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(extra)
    return env


@contextlib.contextmanager
def running(
    command: list[str], *, env: dict[str, str], ready_url: str, timeout: float = 30, echo_log: bool = True
) -> Iterator[None]:
    """Run `command` until the block ends; wait until `ready_url` answers (any HTTP status).
    Its output goes to a log file, printed when the block ends if `echo_log` (pytest shows it only
    for a failing test)."""
    log = Path(tempfile.mkstemp(prefix="server-", suffix=".log")[1])
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(ready_url, timeout=2).close()  # noqa: S310  (loopback URL we built)
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.2)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if echo_log:
            print(f"--- log of {' '.join(command[:4])} ---\n{log.read_text()[-5000:]}")
        log.unlink()
