"""A user's logo for the cover of a report, made safe to put into a report that others open.

A logo is an SVG, PNG or JPEG file of at most 1 MB (`MAX_BYTES`). An SVG is parsed without DTDs
or entities and rebuilt from an allow-list: only drawing elements and presentation attributes
survive. No script, no event handlers, no animation, no `foreignObject`, no links, and no
reference outside the logo itself: `href` only to `#id` in the logo (or, on `<image>`, to an
embedded PNG or JPEG as a `data:` URI), `url()` only to `#id`. CSS from a `<style>` element is
applied to the elements it selects as inline declarations, so it cannot style the rest of the
report. Ids get the prefix `logo-` so they cannot clash with the report's anchors. A PNG or JPEG is
wrapped in an SVG as a data URI. The result is one SVG string for both the HTML and the PDF.
"""

from __future__ import annotations

import base64
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from ..errors import TrendstudieError

MAX_BYTES = 1_000_000  # a logo file may be at most 1 MB
MAX_DEPTH = 100  # element nesting
MAX_RENDERED = 50_000  # elements once every <use> is expanded (a "use bomb" renders exponentially)

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
ID_PREFIX = "logo-"

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"

# Elements that draw, group or define paint; nothing that runs, links, animates or embeds HTML.
ELEMENTS = frozenset({
    "svg", "g", "defs", "symbol", "use", "title", "desc", "switch",
    "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
    "text", "tspan", "textPath",
    "linearGradient", "radialGradient", "stop", "pattern", "clipPath", "mask", "marker", "image",
    "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix",
    "feDiffuseLighting", "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood", "feFuncA",
    "feFuncB", "feFuncG", "feFuncR", "feGaussianBlur", "feMerge", "feMergeNode", "feMorphology",
    "feOffset", "fePointLight", "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
})
UNWRAP = {"a": "g", "switch": "g"}  # kept as a plain group: their children draw, the link is gone
TEXT_ELEMENTS = frozenset({"text", "tspan", "textPath", "title", "desc"})

# Presentation properties: allowed as attributes and as declarations in `style`.
PROPERTIES = frozenset({
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin",
    "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "stroke-opacity", "opacity", "color",
    "display", "visibility", "overflow", "clip-path", "clip-rule", "mask", "filter",
    "marker", "marker-start", "marker-mid", "marker-end", "stop-color", "stop-opacity",
    "flood-color", "flood-opacity", "lighting-color", "color-interpolation", "color-interpolation-filters",
    "font", "font-family", "font-size", "font-weight", "font-style", "font-variant", "font-stretch",
    "text-anchor", "dominant-baseline", "alignment-baseline", "baseline-shift", "letter-spacing",
    "word-spacing", "text-decoration", "writing-mode", "direction", "unicode-bidi",
    "shape-rendering", "text-rendering", "image-rendering", "vector-effect", "paint-order",
    "mix-blend-mode", "isolation", "transform", "transform-origin",
})
ATTRIBUTES = PROPERTIES | frozenset({
    "id", "class", "style", "x", "y", "width", "height", "rx", "ry", "cx", "cy", "r", "fx", "fy", "fr",
    "x1", "y1", "x2", "y2", "points", "d", "pathLength", "viewBox", "preserveAspectRatio", "version",
    "dx", "dy", "rotate", "textLength", "lengthAdjust", "startOffset", "method", "spacing", "side",
    "offset", "gradientUnits", "gradientTransform", "spreadMethod", "patternUnits",
    "patternContentUnits", "patternTransform", "clipPathUnits", "maskUnits", "maskContentUnits",
    "markerWidth", "markerHeight", "markerUnits", "refX", "refY", "orient",
    "filterUnits", "primitiveUnits", "in", "in2", "result", "stdDeviation", "mode", "operator",
    "k1", "k2", "k3", "k4", "values", "type", "tableValues", "slope", "intercept", "amplitude",
    "exponent", "order", "kernelMatrix", "divisor", "bias", "targetX", "targetY", "edgeMode",
    "preserveAlpha", "surfaceScale", "diffuseConstant", "specularConstant", "specularExponent",
    "kernelUnitLength", "azimuth", "elevation", "z", "pointsAtX", "pointsAtY", "pointsAtZ",
    "limitingConeAngle", "scale", "xChannelSelector", "yChannelSelector", "radius",
    "baseFrequency", "numOctaves", "seed", "stitchTiles",
    "href", "xml:space", "xml:lang", "lang",
})

_ID = re.compile(r"[A-Za-z_][\w.-]{0,200}")
_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|jpg);base64,([A-Za-z0-9+/=\s]+)", re.IGNORECASE)
_DANGEROUS = ("javascript:", "vbscript:", "expression(", "@import", "behavior:", "-moz-binding", "\\")


class LogoError(TrendstudieError):
    """A logo that cannot be used; the message names the file and says why."""


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list = field(default_factory=list)  # _Node or str


@dataclass
class Logo:
    svg: str  # the sanitised SVG, safe to put into HTML as is and to render in the PDF
    removed: list[str]  # what was taken out, for a notice to the user ("<script>", "onload", ...)


def load_logo(path: Path) -> Logo:
    """The logo at `path`, sanitised; LogoError (in Dutch, naming the file) when it cannot be used."""
    path = Path(path)
    if not path.exists():
        raise LogoError(f"Logo {path} bestaat niet.")
    if not path.is_file():
        raise LogoError(f"Logo {path} is geen bestand.")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise LogoError(_too_big(path, size))
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise LogoError(f"Logo {path} kan niet gelezen worden: {exc.strerror or exc}.") from None
    if len(data) > MAX_BYTES:
        raise LogoError(_too_big(path, len(data)))
    logo = logo_from_bytes(data, str(path))
    _check_drawable(logo.svg, str(path))
    return logo


def _check_drawable(svg: str, source: str) -> None:
    """Draw the logo once as the PDF will, so a logo the renderer rejects is refused now, by name,
    instead of failing every report later."""
    import typst

    try:
        typst.compile({"main": b'#image("logo.svg", height: 2cm)', "logo.svg": svg.encode("utf-8")})
    except typst.TypstError as exc:
        raise LogoError(f"Logo {source} kan niet getekend worden: {str(exc).splitlines()[0]}.") from None


def _too_big(path: Path, size: int) -> str:
    mb = f"{size / 1_000_000:.1f}".replace(".", ",")
    return (f"Logo {path} is {mb} MB; een logo mag hoogstens {MAX_BYTES // 1_000_000} MB zijn. "
            "Verklein het (bijvoorbeeld als SVG zonder ingesloten foto's, of als kleinere PNG).")


def logo_from_bytes(data: bytes, source: str) -> Logo:
    if data.startswith(PNG_MAGIC) or data.startswith(JPEG_MAGIC):
        return Logo(_raster_svg(data, source), [])
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head.startswith(b"<") and not head.startswith(b"\xff\xfe") and not head.startswith(b"\xfe\xff"):
        raise LogoError(f"Logo {source} is geen SVG-, PNG- of JPEG-bestand.")
    return sanitise_svg(data, source)


# --- raster images ----------------------------------------------------------------------------------

def _raster_size(data: bytes) -> tuple[str, int, int] | None:
    """(mime subtype, width, height) of a PNG or JPEG, or None when the header is damaged."""
    if data.startswith(PNG_MAGIC):
        if len(data) < 24 or data[12:16] != b"IHDR":
            return None
        w, h = struct.unpack(">II", data[16:24])
        return ("png", w, h) if w and h else None
    if data.startswith(JPEG_MAGIC):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker == 0xFF:
                i += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            (length,) = struct.unpack(">H", data[i + 2:i + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", data[i + 5:i + 9])
                return ("jpeg", w, h) if w and h else None
            i += 2 + length
        return None
    return None


def _raster_svg(data: bytes, source: str) -> str:
    found = _raster_size(data)
    if found is None:
        raise LogoError(f"Logo {source} lijkt een PNG- of JPEG-bestand, maar de kop is beschadigd.")
    kind, w, h = found
    uri = f"data:image/{kind};base64," + base64.b64encode(data).decode("ascii")
    return (f'<svg xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
            f'role="img" aria-label="Logo"><image width="{w}" height="{h}" xlink:href="{uri}"/></svg>')


# --- SVG ----------------------------------------------------------------------------------------------

class _Refused(Exception):
    pass


def sanitise_svg(data: bytes | str, source: str = "logo") -> Logo:
    """Parse an SVG document and rebuild it from the allow-list; LogoError when it is no usable SVG."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    removed: list[str] = []

    def note(what: str) -> None:
        if what not in removed:
            removed.append(what)

    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[_Node | None] = []  # None: inside an element that is dropped with its subtree
    root: list[_Node] = []
    styles: list[str] = []
    svg_default = [True]  # whether un-namespaced elements count as SVG (a root <svg> without xmlns)

    def refuse(why: str):
        raise _Refused(why)

    def doctype(_name, _system_id, _public_id, has_internal_subset):
        # a bare <!DOCTYPE svg PUBLIC ...> is harmless (it is never fetched); declarations are not
        if has_internal_subset:
            refuse("bevat een DTD met declaraties; entiteiten en DTD's zijn in een logo niet toegestaan")

    def entity(*_args):
        refuse("definieert een entiteit; entiteiten en DTD's zijn in een logo niet toegestaan")

    def start(name: str, attrs: dict[str, str]):
        ns, _, local = name.rpartition("}")
        if not root and not stack:
            if local != "svg" or ns not in ("", SVG_NS):
                refuse(f"is geen SVG-bestand (het hoofdelement is <{local}>)")
            svg_default[0] = ns == ""
        if len(stack) >= MAX_DEPTH:
            refuse(f"is te diep genest (meer dan {MAX_DEPTH} niveaus)")
        parent = stack[-1] if stack else None
        if stack and parent is None:
            stack.append(None)
            return
        is_svg = ns == SVG_NS or (ns == "" and svg_default[0])
        if not is_svg:  # an editor's own elements (sodipodi:namedview, ...) or embedded HTML
            if ns in ("http://www.w3.org/1999/xhtml",):
                note(f"<{local}>")
            stack.append(None)
            return
        if local == "style":
            node = _Node("style", {})
            stack.append(node)
            styles.append("")
            return
        tag = UNWRAP.get(local, local)
        if tag not in ELEMENTS:
            note(f"<{local}>")
            stack.append(None)
            return
        if local in UNWRAP and local != "switch":
            note(f"<{local}>")
        node = _Node(tag, _clean_attrs(tag, attrs, note))
        if tag in ("image", "use") and "href" not in node.attrs:
            stack.append(None)  # an image that is no embedded PNG/JPEG, a use of nothing: both show nothing
            return
        if parent is not None:
            parent.children.append(node)
        else:
            root.append(node)
        stack.append(node)

    def end(_name: str):
        stack.pop()

    def text(chars: str):
        node = stack[-1] if stack else None
        if node is None:
            return
        if node.tag == "style":
            styles[-1] += chars
        elif node.tag in TEXT_ELEMENTS:
            node.children.append(chars)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = lambda *a: refuse("verwijst naar een externe entiteit")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        raise LogoError(f"Logo {source} {exc}.") from None
    except expat.ExpatError as exc:
        if not root:
            raise LogoError(f"Logo {source} is geen SVG-, PNG- of JPEG-bestand "
                            f"(geen geldige XML: {expat.ErrorString(exc.code)}, regel {exc.lineno}).") from None
        raise LogoError(f"Logo {source} is geen geldige SVG: {expat.ErrorString(exc.code)} "
                        f"(regel {exc.lineno}, kolom {exc.offset + 1}).") from None
    if not root:
        raise LogoError(f"Logo {source} is geen SVG-bestand (er staat geen <svg> in).")
    svg = root[0]
    rules = [r for text_ in styles for r in _css_rules(text_, note)]
    if rules:
        _apply_rules(svg, rules)
    _drop_classes(svg)  # classes are spent: the report's own CSS must not style the logo
    _check_rendered_size(svg, source)
    if "viewBox" not in svg.attrs:
        w, h = _number(svg.attrs.get("width")), _number(svg.attrs.get("height"))
        if w and h:
            svg.attrs["viewBox"] = f"0 0 {w:g} {h:g}"
    return Logo(_serialise(svg, top=True), removed)


def _number(value: str | None) -> float | None:
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(px)?\s*", value or "")
    return float(m.group(1)) if m else None


def _clean_value(value: str, note) -> str | None:
    """An attribute or CSS value with url(#id) references prefixed, or None when it is unsafe."""
    flat = re.sub(r"[\s\x00-\x1f]", "", value).lower()
    if any(d in flat for d in _DANGEROUS):
        note("onveilige waarde")
        return None

    def fix(m: re.Match) -> str:
        ref = m.group(2).strip()
        if not ref.startswith("#") or not _ID.fullmatch(ref[1:]):
            raise ValueError(ref)
        return f"url(#{ID_PREFIX}{ref[1:]})"

    try:
        return _URL.sub(fix, value)
    except ValueError:
        note("externe verwijzing")
        return None


def _clean_href(tag: str, value: str, note) -> str | None:
    value = value.strip()
    if value.startswith("#") and _ID.fullmatch(value[1:]):
        return f"#{ID_PREFIX}{value[1:]}"
    if tag == "image":
        m = _DATA_IMAGE.fullmatch(value)
        if m:
            try:
                raw = base64.b64decode(re.sub(r"\s", "", m.group(2)), validate=True)
            except ValueError:
                raw = b""
            found = _raster_size(raw)
            if found:
                return f"data:image/{found[0]};base64," + base64.b64encode(raw).decode("ascii")
    note("externe verwijzing")
    return None


def _clean_style(text: str, note) -> str:
    out = []
    for decl in text.split(";"):
        if not decl.strip():
            continue
        prop, colon, value = decl.partition(":")
        prop = prop.strip().lower()
        if not colon or prop not in PROPERTIES:
            continue
        value = value.replace("!important", "").strip()
        cleaned = _clean_value(value, note)
        if cleaned and "{" not in cleaned and "}" not in cleaned:
            out.append(f"{prop}:{cleaned}")
    return ";".join(out)


def _clean_attrs(tag: str, attrs: dict[str, str], note) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in attrs.items():
        ns, _, local = name.rpartition("}")
        if ns == XLINK_NS and local == "href":
            key = "href"
        elif ns == XML_NS and local in ("space", "lang"):
            key = f"xml:{local}"
        elif ns:
            continue  # an editor's own attributes (inkscape:label, ...)
        else:
            key = local
        if key not in ATTRIBUTES:
            if key.lower().startswith("on"):
                note(key)
            continue
        if key == "href":
            cleaned = _clean_href(tag, value, note)
        elif key == "id":
            cleaned = ID_PREFIX + value if _ID.fullmatch(value) else None
        elif key == "style":
            cleaned = _clean_style(value, note) or None
        else:
            cleaned = _clean_value(value, note)
        if cleaned is not None:
            out[key] = cleaned
    return out


def _drop_classes(node: _Node) -> None:
    node.attrs.pop("class", None)
    for c in node.children:
        if isinstance(c, _Node):
            _drop_classes(c)


_SIMPLE_SELECTOR = re.compile(r"([A-Za-z][\w-]*)?(?:([.#])([A-Za-z_][\w-]*))?")


def _css_rules(css: str, note) -> list[tuple[tuple[str | None, str | None, str | None], str]]:
    """Rules `selector {declarations}` of a <style> element with simple selectors (tag, .class, #id,
    tag.class); at-rules (@import, @font-face, @media) and other selectors are left out."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL).replace("<!--", "").replace("-->", "")
    rules = []
    i = 0
    while i < len(css):
        if css[i].isspace():
            i += 1
            continue
        if css[i] == "@":
            m = re.match(r"@[\w-]*", css[i:])
            note(m.group(0) if m else "@")
            j = i
            while j < len(css) and css[j] not in ";{":
                j += 1
            if j < len(css) and css[j] == "{":
                depth = 0
                while j < len(css):
                    depth += {"{": 1, "}": -1}.get(css[j], 0)
                    j += 1
                    if depth == 0:
                        break
            else:
                j += 1
            i = j
            continue
        open_ = css.find("{", i)
        close = css.find("}", open_ + 1) if open_ >= 0 else -1
        if open_ < 0 or close < 0:
            break
        selectors, body = css[i:open_], css[open_ + 1:close]
        i = close + 1
        for sel in selectors.split(","):
            m = _SIMPLE_SELECTOR.fullmatch(sel.strip())
            if not m or not sel.strip():
                note("CSS-selector")
                continue
            tag, kind, name = m.groups()
            rules.append(((tag, kind, name), _clean_style(body, note)))
    return rules


def _apply_rules(node: _Node, rules) -> None:
    classes = set(node.attrs.get("class", "").split())
    own_id = node.attrs.get("id", "")
    decls = []
    for (tag, kind, name), body in rules:
        if tag and tag != node.tag:
            continue
        if kind == "." and name not in classes:
            continue
        if kind == "#" and own_id != ID_PREFIX + name:
            continue
        decls.append(body)
    if decls:  # the element's own style comes last and so wins, as in CSS
        node.attrs["style"] = ";".join(d for d in decls + [node.attrs.get("style", "")] if d)
    for c in node.children:
        if isinstance(c, _Node):
            _apply_rules(c, rules)


def _check_rendered_size(svg: _Node, source: str) -> None:
    """Refuse logos whose <use> references form a loop or expand to an enormous drawing."""
    by_id: dict[str, _Node] = {}

    def index(n: _Node):
        if "id" in n.attrs:
            by_id.setdefault(n.attrs["id"], n)
        for c in n.children:
            if isinstance(c, _Node):
                index(c)

    index(svg)
    memo: dict[int, int] = {}
    busy: set[int] = set()

    def weight(n: _Node) -> int:
        key = id(n)
        if key in memo:
            return memo[key]
        if key in busy:
            raise LogoError(f"Logo {source} verwijst met <use> naar zichzelf (een lus).")
        busy.add(key)
        total = 1 + sum(weight(c) for c in n.children if isinstance(c, _Node))
        if n.tag == "use" and n.attrs.get("href", "").startswith("#"):
            target = by_id.get(n.attrs["href"][1:])
            if target is not None:
                total += weight(target)
        busy.discard(key)
        memo[key] = total = min(total, MAX_RENDERED + 1)
        return total

    if weight(svg) > MAX_RENDERED:
        raise LogoError(f"Logo {source} is te complex: met alle <use>-verwijzingen uitgevouwen meer dan "
                        f"{MAX_RENDERED} elementen.")


def _esc(text: str, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def _serialise(node: _Node, top: bool = False) -> str:
    attrs = dict(node.attrs)
    if "href" in attrs:
        attrs["xlink:href"] = attrs.pop("href")
    parts = [f"<{node.tag}"]
    if top:
        parts.append(f' xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}" role="img" aria-label="Logo"')
    parts.extend(f' {k}="{_esc(v, quote=True)}"' for k, v in attrs.items())
    if not node.children:
        return "".join(parts) + "/>"
    parts.append(">")
    for c in node.children:
        parts.append(_esc(c) if isinstance(c, str) else _serialise(c))
    parts.append(f"</{node.tag}>")
    return "".join(parts)
