"""The job runner's thread pool for analyze jobs (:class:`DaemonPool`)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


class DaemonPool:
    """A thread pool for analyze jobs whose threads do not hold the process up when it exits: a stopping
    runner hands back the jobs it could not finish (their results are then not recorded), and a
    ThreadPoolExecutor's threads, joined at exit, kept a worker up for as long as such a job ran."""

    def __init__(self, workers: int, name: str) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._workers, self._name, self._started = workers, name, False

    def submit(self, fn: Callable[..., T], *args: object) -> Future:
        if not self._started:  # at the first job: a runner never started (a server that runs no jobs) has no threads
            self._started = True
            for number in range(self._workers):
                threading.Thread(target=self._work, name=f"{self._name}_{number}", daemon=True).start()
        future: Future = Future()
        self._queue.put((future, fn, args))
        return future

    def shutdown(self) -> None:
        """Cancel what has not started; the threads end once their job does."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()  # its done-callbacks run
                item[0].set_running_or_notify_cancel()
        for _ in range(self._workers if self._started else 0):
            self._queue.put(None)

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - the future holds it, as an executor's does
                future.set_exception(exc)
