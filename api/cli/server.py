"""``sealtrail serve``: gunicorn, embedded, serving ``wsgi:app``."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        from wsgi import app  # each worker builds its own app (and its own connections)

        return app


def serve(host: str, port: int, workers: int, *, log_level: str = "info") -> None:
    """Run gunicorn in the foreground until interrupted."""
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "loglevel": log_level,
            "accesslog": "-",
            "timeout": 60,
            "graceful_timeout": 10,
        }
    ).run()
