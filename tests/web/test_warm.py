"""`trendstudie serve` warms each worker before it takes requests (web/app.py `warm`); the tests'
servers start with prepare=False and skip it, so it is run here once: a name it imports that no
longer exists would otherwise stop every real server at its start."""

from __future__ import annotations


def test_a_worker_warms_up_without_error(app):
    from trendstudie.web.app import warm

    assert warm(app) is app
    # the prognose page's runs are now in the worker's cache
    assert app.state.forecasts.backtest() is app.state.forecasts.backtest()


def test_a_worker_prepares_its_routes_without_storing_a_page(app):
    """The warm-up requests (one of each kind, so that FastAPI's routes, the thread pool and the
    templates are ready before the first visitor) all succeed and pass the page cache by."""
    from trendstudie.web.app import warm_routes

    code = next(iter(app.state.data.gemeenten))
    key = f"/gemeente/{code}?"
    app.state.cache.forget(key)
    assert warm_routes(app, code) == [200] * 5
    assert app.state.cache.get(key) is None
