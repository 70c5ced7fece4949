"""Running the app under gunicorn, the production server, from ``plusma serve``."""

from __future__ import annotations

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

        return create_app(self.settings)


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
