"""Every `from trendstudie... import X` (and its relative form inside the package) in src/ and
tests/ names something that exists: imports made lazy (inside functions, or a package's
`__getattr__`) are only run when their code runs, so a wrong name would otherwise wait for a user."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"


def _module_of(path: Path) -> str | None:
    """The dotted name of a module under src/ (None for other files)."""
    try:
        rel = path.relative_to(SRC)
    except ValueError:
        return None
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports() -> list[tuple[str, int, str, str]]:
    """(file, line, module, name) of every from-import of trendstudie in src/ and tests/."""
    found = []
    for path in sorted([*SRC.rglob("*.py"), *(REPO / "tests").rglob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        here = _module_of(path)
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            module = node.module or ""
            if node.level:
                if here is None:
                    continue
                package = here.split(".") if path.name == "__init__.py" else here.split(".")[:-1]
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([module] if module else []))
            if module != "trendstudie" and not module.startswith("trendstudie."):
                continue
            for alias in node.names:
                if alias.name != "*":
                    found.append((str(path.relative_to(REPO)), node.lineno, module, alias.name))
    return found


def test_every_trendstudie_import_resolves():
    found = imports()
    assert len(found) > 200  # the walk found the imports at all
    problems = []
    for file, line, module, name in found:
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            problems.append(f"{file}:{line}: {module}: {exc}")
            continue
        if hasattr(mod, name):
            continue
        try:
            importlib.import_module(f"{module}.{name}")
        except ImportError:
            problems.append(f"{file}:{line}: from {module} import {name}: no such name")
    assert not problems, "\n".join(problems)
