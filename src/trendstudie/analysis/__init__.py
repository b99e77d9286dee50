"""Analysis of indicator values: change over time, peer comparison, statistical neighbours,
comparisons in Dutch words, and a gemeente's profile that brings them together.

    from trendstudie.store import connect
    from trendstudie.analysis import build_profile
    profile = build_profile(connect(path), "GM0193")
"""

from .change import Change, Trend, change, change_between, trend
from .compare import (ChangeComparison, Comparison, PeerGroup, Standing, Value, Values, compare, compare_all,
                      compare_change, latest, peer_groups, standing)
from .neighbours import Neighbour, neighbours
from .phrases import (change_phrase, change_rank_phrase, format_number, rank_phrase, ratio_phrase,
                      trend_phrase)
from .profile import (DomainProfile, GroupComparison, IndicatorProfile, NeighbourComparison, Profile,
                      build_profile, indicator_profile)

__all__ = [
    "Change", "Trend", "change", "change_between", "trend",
    "ChangeComparison", "Comparison", "PeerGroup", "Standing", "Value", "Values", "compare", "compare_all",
    "compare_change", "latest", "peer_groups", "standing",
    "Neighbour", "neighbours",
    "change_phrase", "change_rank_phrase", "format_number", "rank_phrase", "ratio_phrase", "trend_phrase",
    "DomainProfile", "GroupComparison", "IndicatorProfile", "NeighbourComparison", "Profile",
    "build_profile", "indicator_profile",
]
