"""The edition's preparation (web/edition.py): shared over processes, at the lowest priority."""

from __future__ import annotations

import subprocess
import sys


def test_the_shares_of_a_parallel_preparation_cover_every_url_once(app):
    from trendstudie.web.edition import edition_urls

    urls = edition_urls(app.state.data)
    for n in (1, 2, 3):
        shares = [urls[k::n] for k in range(n)]
        assert sorted(u for s in shares for u in s) == sorted(urls)
        assert len({u for s in shares for u in s}) == len(urls)
    # the slowest (the downloads of all indicators) are spread, not all in one share
    assert urls[0] == "/download/indicatoren.xlsx" and urls[1].startswith("/download/")


def test_the_preparation_runs_at_the_lowest_priority():
    """Behind the server's workers (normal priority): a visitor's page is not queued behind it.
    In a process of its own: a test must not lower its own priority."""
    code = "from trendstudie.web.edition import lower_priority; import os; print(lower_priority(), os.nice(0))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["19", "19"]


def test_one_process_per_core_at_most_four():
    from trendstudie.web.edition import processes

    assert 1 <= processes() <= 4
