"""Tells this process's scheduler that a job was scheduled, so it wakes for it instead of polling."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime


class JobSignal:
    """Listeners hear the due time of each committed batch of new or rescheduled jobs."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[datetime], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Callable[[datetime], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[datetime], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def notify(self, due: datetime) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(due)
