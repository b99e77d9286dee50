"""Render a Report as one self-contained HTML file (inline CSS and SVG; works from disk)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from .content import APPENDIX_TEXT, BASIS_LABEL, STRENGTH_LABEL, Report

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                       trim_blocks=True, lstrip_blocks=True)


def render_html(report: Report, data_files: list[str] | None = None, logo_svg: str | None = None) -> str:
    css = Markup((TEMPLATES / "report.css").read_text(encoding="utf-8"))  # our own file: not escaped
    return _env().get_template("report.html.j2").render(
        r=report, css=css, strength=STRENGTH_LABEL, basis=BASIS_LABEL, logo=logo_svg, data_files=data_files or [],
        built=report.built_at[:10], appendix=APPENDIX_TEXT.split("{files}"))
