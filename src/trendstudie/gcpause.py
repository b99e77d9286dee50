"""The garbage collector paused while a step makes hundreds of thousands of small objects.

Such a step (harmonising, deriving indicators) creates no reference cycles, but every few hundred
new objects the collector would walk all objects alive, the observations and facts included,
again and again: about a third of the step's time."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
