"""The production settings and the container's start command, run outside Docker."""

import json
import subprocess
import sys
import urllib.request

import pytest

from tests.servers import BIN, ROOT, clean_env, database_url_of_this_run, free_port, running

SECRET = "x" * 20 + "-production-test-secret-key-0123456789"


def production_env(**extra: str) -> dict[str, str]:
    defaults = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    return clean_env(**{**defaults, **extra})


def test_production_refuses_to_start_without_its_secrets():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr
    env = production_env(DJANGO_ALLOWED_HOSTS="")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "DJANGO_ALLOWED_HOSTS must list" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_container_start_command_serves_a_healthy_bank():
    port = free_port()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["gunicorn", "config.wsgi:application", "--config", "config/gunicorn.py"]' in dockerfile
    env = production_env(
        DATABASE_URL=database_url_of_this_run(), GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="2"
    )
    with (
        running(
            [str(BIN / "gunicorn"), "config.wsgi:application", "--config", "config/gunicorn.py"],
            env=env,
            ready_url=f"http://127.0.0.1:{port}/healthz",
        ),
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response,
    ):
        assert response.status == 200
        assert response.read() == b'{"status": "ok", "database": "ok"}'


def test_production_logs_are_json_lines_on_stdout():
    script = "import logging; logging.getLogger('bank').warning('hello %s', 'world')"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert {"level": "WARNING", "logger": "bank", "message": "hello world"}.items() <= lines[-1].items()
    assert "time" in lines[-1]
