"""Real threads for concurrency tests: each on its own database connection, released together by a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection


def threaded(n: int, fn: Callable[[int], Any], *, returning: tuple[type[BaseException], ...] = ()) -> list[Any]:
    """fn(0) … fn(n − 1) in n threads that start at the same moment; their results in order. An exception of a type
    in `returning` is returned as the result instead of raised (a refusal some of the racers are meant to get)."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        try:
            barrier.wait()
            return fn(i)
        except returning as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))
