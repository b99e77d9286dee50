"""The web dashboard and API (FastAPI, server-rendered, read-only on the store)."""

from __future__ import annotations

from pathlib import Path


def create_app(database: Path, cache_mb: float | None = None):
    from .app import create_app as _create

    return _create(database, cache_mb)


def serve(host: str = "127.0.0.1", port: int = 8000, database: Path | None = None, workers: int = 1,
          prepare: bool = True) -> None:
    from .app import serve as _serve

    _serve(host, port, database, workers, prepare)


__all__ = ["create_app", "serve"]
