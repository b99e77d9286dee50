"""The two consoles every command prints through: stdout for what a command answers, stderr for
messages. Rich markup and highlighting are off on both, so text from data and users (group
titles, file paths, arguments such as `[/x]` or `data [kopie]`) is always printed literally;
styling is given explicitly with `style=` or `styled(...)`, never by markup in a string."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

out = Console(markup=False, highlight=False, soft_wrap=True)
err = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line from plain strings and (text, style) pairs; no part is read as markup."""
    return Text.assemble(*parts)
