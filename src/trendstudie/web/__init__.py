"""The web dashboard and API (FastAPI, server-rendered, read-only on the store)."""

from __future__ import annotations

from pathlib import Path


def create_app(database: Path):
    from .app import create_app as _create

    return _create(database)


def serve(host: str = "127.0.0.1", port: int = 8000, database: Path | None = None, workers: int = 1) -> None:
    from .app import serve as _serve

    _serve(host, port, database, workers)


__all__ = ["create_app", "serve"]
