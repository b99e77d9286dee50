"""Checks that a text does not copy a run of words from the seed studies."""

from __future__ import annotations

import re
from pathlib import Path

_WORD = re.compile(r"[0-9a-zà-ÿ]+(?:['’-][0-9a-zà-ÿ]+)*")


def words(text: str) -> list[str]:
    # Join words broken over a line end by a hyphen, as in the extracted PDFs.
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)
    return _WORD.findall(text.lower())


def ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


class SeedIndex:
    """All runs of `n` consecutive words in the seed studies."""

    def __init__(self, seed_dir: Path, n: int = 10):
        self.n = n
        self.grams: set[tuple[str, ...]] = set()
        for path in sorted(Path(seed_dir).glob("0*.txt")):
            self.grams |= ngrams(words(path.read_text(encoding="utf-8")), n)

    def shared_runs(self, text: str) -> list[str]:
        return [" ".join(g) for g in ngrams(words(text), self.n) if g in self.grams]
