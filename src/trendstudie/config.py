"""Paths and settings. Environment variables: TRENDSTUDIE_HOME, TRENDSTUDIE_BUNDLE, TRENDSTUDIE_CBS_URL,
TRENDSTUDIE_KLIMAATMONITOR_KEY (read by `sync`, see sources/external.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import TrendstudieError

DEFAULT_CBS_URL = "https://datasets.cbs.nl/odata/v1"


@dataclass(frozen=True)
class Settings:
    home: Path
    bundle: Path | None
    cbs_url: str

    @property
    def database(self) -> Path:
        return self.home / "trendstudie.duckdb"

    @property
    def cache(self) -> Path:
        return self.home / "cache"

    @property
    def synced(self) -> Path:
        """Where `trendstudie sync` keeps its tables: <synced>/<catalog>/<table>/ (mirror layout)."""
        return self.cache / "odata"

    @property
    def http_cache(self) -> Path:
        return self.cache / "http"


def settings(home: str | Path | None = None, bundle: str | Path | None = None) -> Settings:
    """Resolve settings from explicit arguments, then the environment, then defaults."""
    home_path = Path(home or os.environ.get("TRENDSTUDIE_HOME") or Path.home() / ".trendstudie")
    bundle_value = bundle or os.environ.get("TRENDSTUDIE_BUNDLE")
    bundle_path = Path(bundle_value) if bundle_value else None
    return Settings(
        home=home_path.expanduser(),
        bundle=bundle_path.expanduser() if bundle_path else None,
        cbs_url=os.environ.get("TRENDSTUDIE_CBS_URL", DEFAULT_CBS_URL).rstrip("/"),
    )


def require_bundle(s: Settings) -> Path:
    if s.bundle is None:
        raise TrendstudieError(
            "Geen databundel opgegeven: gebruik --bundle DIR of zet TRENDSTUDIE_BUNDLE."
        )
    if not s.bundle.is_dir():
        raise TrendstudieError(f"Databundel niet gevonden: {s.bundle}")
    return s.bundle


def cores() -> int:
    """The processor cores this process may use (its CPU affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def processes(most: int) -> int:
    """How many processes to run side by side by default: one per core, at most `most` (each holds
    its own data in memory)."""
    return max(1, min(cores(), most))
