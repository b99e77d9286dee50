"""`trendstudie serve` warms each worker before it takes requests (web/app.py `warm`); the tests'
servers start with prepare=False and skip it, so it is run here once: a name it imports that no
longer exists would otherwise stop every real server at its start."""

from __future__ import annotations


def test_a_worker_warms_up_without_error(app):
    from trendstudie.web.app import warm

    assert warm(app) is app
    # the prognose page's runs are now in the worker's cache
    assert app.state.forecasts.backtest() is app.state.forecasts.backtest()
