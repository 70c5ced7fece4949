"""Running the app under gunicorn, the production server, from ``plusma serve``."""

from __future__ import annotations

import atexit

from flask import Flask
from gunicorn.app.base import BaseApplication

from engine.config import Settings


class _Server(BaseApplication):
    def __init__(self, settings: Settings, options: dict) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # noqa: ANN201
        # The app (and its database pool) is made in the worker, after the fork.
        from web.app import create_app

        app = create_app(self.settings)
        start_scheduler(app)
        return app


def start_scheduler(app: Flask) -> None:
    """Run the job scheduler in this server process, unless settings leave it to ``plusma worker``."""
    engine = app.extensions["plusma"]
    if not engine.settings.scheduler_in_server:
        return
    from engine.scheduler import JobScheduler

    scheduler = JobScheduler(engine, threads=engine.settings.scheduler_threads).start()
    atexit.register(scheduler.shutdown, False)


def run(settings: Settings, *, host: str, port: int, workers: int = 1, threads: int = 8) -> None:
    _Server(
        settings,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": None,
            "timeout": 60,
            # One control socket per user would be shared by every server started at once.
            "control_socket_disable": True,
        },
    ).run()
