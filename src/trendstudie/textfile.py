"""Reading the project's text inputs: one place that turns unreadable files, wrong encodings and
broken YAML into an InputError naming the file, line and column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_text(path: str | Path) -> str:
    """The file's text: UTF-8, a leading BOM removed. Unreadable or non-UTF-8 input is an
    InputError naming the line of the first bad byte (guessing an encoding could corrupt names);
    so is a NUL character. Every importer and the group files read through this one function."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(path, f"kan niet gelezen worden: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(path, f"geen geldige UTF-8-tekst (byte {exc.start}); sla het bestand op als UTF-8",
                         line=line) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(path, "bevat een NUL-teken; is dit wel een tekstbestand?", line=line)
    return text


def parse_yaml(text: str, path: str | Path) -> Any:
    """YAML text to Python data (safe loader: no tags are executed). libyaml's loader when PyYAML
    has it: the knowledge base loads several times faster (the pure-Python parser cost ~1.5 s)."""
    try:
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        raise InputError(path, f"geen geldige YAML: {getattr(exc, 'problem', None) or exc}",
                         line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None) from None


def load_yaml(path: str | Path) -> Any:
    return parse_yaml(read_text(path), path)


__all__ = ["read_text", "parse_yaml", "load_yaml"]
