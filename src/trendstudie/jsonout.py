"""JSON as every command and API route writes it: always valid JSON (RFC 8259).

Python's json writes NaN and Infinity, which no JSON parser accepts. The importers refuse such
numbers, but a computation can still produce one (a ratio over zero inhabitants, a growth rate
from nothing); here it becomes null, JSON's "no value", like every other missing figure. The
encoder then runs with allow_nan=False, so a non-finite number can never slip through.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import IO, Any, Callable


def finite(obj: Any) -> Any:
    """`obj` with every non-finite number (also in nested lists, tuples and dicts) replaced by None;
    numpy scalars and Decimals become plain floats."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    if isinstance(obj, Decimal):
        return finite(float(obj))
    if hasattr(obj, "dtype") and hasattr(obj, "item"):  # a numpy scalar
        return finite(obj.item())
    return obj


def dumps(obj: Any, *, indent: int | None = None, compact: bool = False,
          default: Callable[[Any], Any] | None = None) -> str:
    return json.dumps(finite(obj), ensure_ascii=False, allow_nan=False, indent=indent, default=default,
                      separators=(",", ":") if compact else None)


def dump(obj: Any, stream: IO[str], *, indent: int | None = None, default: Callable[[Any], Any] | None = None) -> None:
    stream.write(dumps(obj, indent=indent, default=default))


__all__ = ["finite", "dumps", "dump"]
