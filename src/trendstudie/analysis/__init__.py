"""Analysis of indicator values: change over time, peer comparison, statistical neighbours,
comparisons in Dutch words, and a gemeente's profile that brings them together.

    from trendstudie.store import connect
    from trendstudie.analysis import build_profile
    profile = build_profile(connect(path), "GM0193")

The names below are imported from their modules on first use (PEP 562), so that a command that
needs only one small module of this package (`trends` reads `analysis.labels`) does not load the
others and DuckDB with them. (`analysis.change` is the module `change.py`; its function is
`analysis.change.change`.)
"""

from __future__ import annotations

import importlib

_FROM = {
    "change": ("Change", "Trend", "change_between", "trend"),  # `change` itself names the module
    "compare": ("ChangeComparison", "Comparison", "PeerGroup", "Standing", "Value", "Values", "compare",
                "compare_all", "compare_change", "latest", "peer_groups", "standing"),
    "neighbours": ("Neighbour", "neighbours"),
    "phrases": ("change_phrase", "change_rank_phrase", "format_number", "rank_phrase", "ratio_phrase",
                "trend_phrase"),
    "profile": ("DomainProfile", "GroupComparison", "IndicatorProfile", "NeighbourComparison", "Profile",
                "build_profile", "indicator_profile"),
}
_MODULE = {name: module for module, names in _FROM.items() for name in names}

__all__ = [name for names in _FROM.values() for name in names]


def __getattr__(name: str):
    module = _MODULE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
