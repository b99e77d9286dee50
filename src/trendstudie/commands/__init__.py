"""Command groups of the `trendstudie` CLI, each in its own module."""
