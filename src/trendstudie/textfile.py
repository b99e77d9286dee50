"""Reading the project's text inputs: one place that turns unreadable files, wrong encodings and
broken YAML into an InputError naming the file, line and column."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import InputError


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
    has it: the knowledge base loads several times faster (the pure-Python parser cost ~1.5 s).
    PyYAML is imported here, on first use: a command answered from caches reads no YAML."""
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        raise InputError(path, f"geen geldige YAML: {getattr(exc, 'problem', None) or exc}",
                         line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None) from None


def load_yaml(path: str | Path) -> Any:
    return parse_yaml(read_text(path), path)


def csv_rows(text: str, path: str | Path, delimiter: str = ",",
             first_line: int = 1) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, cells) of each CSV record, with strict quoting; CRLF and LF both work.
    `first_line` is the file's line number of the text's first line (when lines above were cut off).
    Malformed CSV is an InputError in Dutch: an unclosed quote names the line and field where it
    opens (not the end of the file, where the parser notices it)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    shift = first_line - 1
    previous = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _csv_error(exc, text, path, previous + 1, delimiter, shift) from None
        yield previous + 1 + shift, reader.line_num + shift, cells
        previous = reader.line_num


def _csv_error(exc: csv.Error, text: str, path: str | Path, start: int, delimiter: str, shift: int) -> InputError:
    lines = text.split("\n")
    field = _open_quote_field(lines[start - 1] if start <= len(lines) else "", delimiter)
    if field is not None:
        return InputError(path, 'het aanhalingsteken (") in dit veld wordt op deze regel niet gesloten, zodat de '
                                "volgende regels in het veld belanden; sluit het of haal het weg",
                          line=start + shift, column=field)
    message = str(exc)
    if "expected after" in message:
        problem = "na een afsluitend aanhalingsteken moet een scheidingsteken of het einde van de regel komen"
    elif "NUL" in message:
        problem = "bevat een NUL-teken; is dit wel een tekstbestand?"
    else:
        problem = f"ongeldige CSV ({message})"
    return InputError(path, problem, line=start + shift)


def _open_quote_field(line: str, delimiter: str) -> int | None:
    """The (1-based) field in which `line` leaves a quote open at its end, or None."""
    quoted, field, opened_in = False, 1, None
    i = 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == '"':
                if line.startswith('""', i):
                    i += 1
                else:
                    quoted = False
        elif ch == '"':
            quoted, opened_in = True, field
        elif ch == delimiter:
            field += 1
        i += 1
    return opened_in if quoted else None


class _NotFinite(Exception):
    def __init__(self, token: str):
        self.token = token


def _reject_constant(token: str) -> float:
    raise _NotFinite(token)


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):  # 1e999 and the like overflow to infinity
        raise _NotFinite(token)
    return value


# A JSON string (skipped) or a number or non-standard constant (captured), to find a bad token's place.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)', re.DOTALL)


def parse_json(text: str, path: str | Path) -> Any:
    """JSON text to Python data. Python's json accepts NaN, Infinity and numbers that overflow to
    infinity (1e999); none of them is JSON or a statistic, so each is an InputError naming the
    line and column where it stands. So is malformed or too deeply nested JSON."""
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except _NotFinite as exc:
        line = column = None
        for m in _JSON_TOKEN.finditer(text):
            if m.group(1) == exc.token:
                before = text[: m.start(1)]
                line, column = before.count("\n") + 1, m.start(1) - (before.rfind("\n") + 1) + 1
                break
        raise InputError(path, f"{exc.token} is geen eindig getal (NaN, Infinity en getallen buiten het bereik "
                               "van een kommagetal zijn niet toegestaan)", line=line, column=column) from None
    except json.JSONDecodeError as exc:
        raise InputError(path, f"geen geldige JSON: {exc.msg}", line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise InputError(path, "JSON te diep genest") from None


def load_json(path: str | Path) -> Any:
    return parse_json(read_text(path), path)


__all__ = ["read_text", "parse_yaml", "load_yaml", "parse_json", "load_json", "csv_rows"]
