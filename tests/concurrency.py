"""Many clients at once: run one action from several threads, released together by a barrier."""

import threading
from collections.abc import Callable

from django.db import connection


def at_once[T](count: int, action: Callable[[int], T], *, timeout: float = 120) -> tuple[list[T], list[BaseException]]:
    """Run `action(index)` in `count` threads that start together; each thread closes its own
    database connection. Returns what the actions returned and what they raised, in finishing order."""
    results: list[T] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def runner(index: int) -> None:
        try:
            barrier.wait()
            results.append(action(index))
        except BaseException as exc:  # collected for the test to assert on
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, errors
