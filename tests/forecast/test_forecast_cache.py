"""The forecast's model cache: made once per key however many threads ask at the same time, and
bounded by evicting its oldest entries."""

from __future__ import annotations

import threading
import time

import duckdb

from trendstudie import forecast


def _con():
    con = duckdb.connect()
    con.execute("CREATE TABLE build_info (key VARCHAR, value VARCHAR)")
    con.execute("INSERT INTO build_info VALUES ('built_at', 'test-forecast-cache')")
    return con


def test_threads_asking_at_once_make_it_once():
    con = _con()
    made = []
    start = threading.Barrier(8)

    def make():
        made.append(1)
        time.sleep(0.05)  # widens the window in which the others ask; the count does not depend on it
        return "model"

    def ask(cursor, out):  # each thread its own cursor, as the site's read model gives them
        start.wait()
        out.append(forecast._cached(cursor, "test-one-model", make))

    results: list = []
    threads = [threading.Thread(target=ask, args=(con.cursor(), results)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["model"] * 8
    assert len(made) == 1


def test_the_oldest_entries_go_first():
    con = _con()
    for i in range(forecast.CACHE_ENTRIES + 5):
        forecast._cached(con, f"test-entry-{i}", lambda i=i: i)
    assert len(forecast._cache) <= forecast.CACHE_ENTRIES
    made = []
    last = forecast.CACHE_ENTRIES + 4
    assert forecast._cached(con, f"test-entry-{last}", lambda: made.append(1) or -1) == last  # still there
    assert forecast._cached(con, "test-entry-0", lambda: made.append(1) or -1) == -1  # evicted, made again
    assert made == [1]
