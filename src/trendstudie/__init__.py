"""trendstudie: a data-driven trend study for every Dutch gemeente."""

__version__ = "0.1.0"
