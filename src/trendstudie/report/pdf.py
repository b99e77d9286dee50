"""Render a Report as PDF through Typst (in-process, offline, milliseconds per report).

Every piece of text goes into the Typst source as a string literal (`#"…"`), so no character
from the data can be read as markup. Charts are passed as SVG files next to the source.
"""

from __future__ import annotations

import re

import typst

from .content import APPENDIX_TEXT, BASIS_LABEL, STRENGTH_LABEL, Report


def _s(text: str) -> str:
    """A Typst string literal that shows `text` exactly."""
    return '#"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _label(anchor: str) -> str:
    return "<" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in anchor) + ">"


COLUMN_PT = 481.0  # A4 less 2 cm margins each side: 17 cm


def _figure_width(f) -> str:
    """A diagram at its own size, a px to 0.75 pt (its 12 px text prints at 9 pt; it is laid out
    to fit the column, charts.diagram.PRINT_WIDTH) and never wider than the column; charts at 90%."""
    m = re.match(r'<svg[^>]*class="diagram"[^>]*viewBox="0 0 ([\d.]+) ', f.svg) or \
        re.match(r'<svg[^>]*viewBox="0 0 ([\d.]+) [^>]*class="diagram"', f.svg)
    if not m:
        return "90%"
    return f"{min(float(m.group(1)) * 0.75, COLUMN_PT):.1f}pt"


def typst_source(r: Report, figures: dict[str, bytes], logo_svg: str | None = None) -> str:
    """Typst markup for the report; `figures` receives the SVG files it refers to. `logo_svg` must
    come from report.logo (sanitised): it is drawn on the cover."""
    out: list[str] = []
    add = out.append

    def add_list(heading: str, items: list[str]) -> None:
        """A bold line over a list (items in markup), kept on the page of the list's first item: the
        line sticks to the list, and the first item does not break (a page could end in the bold
        line when the item moved to the next page as a whole, to leave no lone line behind)."""
        add('#block(sticky: true)[*' + _s(heading) + '*]')
        add("")
        for i, item in enumerate(items):
            add(f"- #block(breakable: false)[{item}]" if i == 0 else f"- {item}")
        add("")

    def add_figure(f, place: str) -> str:
        """The figure, with a label inside it (where a float is placed; the figure's own location is
        where it was set in the text); returns the label."""
        name = f"fig{len(figures) + 1}.svg"
        figures[name] = f.svg.encode("utf-8")
        add(f'#figure([#image("{name}", width: {_figure_width(f)}, alt: {_s(f.alt)[1:]})#metadata(none) <{name[:-4]}>], '
            f'caption: [{_s(f.caption)}]{place})')
        return name[:-4]
    add('#set document(title: ' + _s(r.title)[1:] + ', author: "trendstudie")')
    add('#set page(paper: "a4", margin: (x: 2cm, top: 2cm, bottom: 2.2cm), numbering: "1", '
        'footer: context [#set text(8pt, fill: luma(90)); ' + _s(r.title) + ' #h(1fr) #counter(page).display()])')
    add('#set text(lang: "nl", size: 10pt, font: ("DejaVu Sans", "Libertinus Serif"))')
    add('#set par(justify: false, leading: 0.6em)')
    add('#set heading(numbering: "1.1")')
    add('#show heading.where(level: 1): it => { v(1.2em, weak: true); set text(16pt, fill: rgb("#1f4e79")); it; v(0.3em) }')
    add('#show link: set text(fill: rgb("#1f4e79"))')
    add('#show figure.caption: set text(9pt)')  # captions a size below the text, as in print
    # cover
    add('#page(numbering: none, footer: none)[')
    if logo_svg:
        figures["logo.svg"] = logo_svg.encode("utf-8")
        add('#v(2cm)')
        add('#box(height: 1.8cm, image("logo.svg", height: 100%, alt: "Logo"))')
        add('#v(0.4cm)')
    else:
        add('#v(4cm)')
    add('#text(26pt, weight: "bold", fill: rgb("#1f4e79"))[' + _s(r.title) + ']')
    add('#v(0.5em)')
    add('#text(13pt)[' + _s(r.subtitle) + ']')
    add('#v(2cm)')
    rows = [("Gemeente", f"{r.name} ({r.code})" + (f", provincie {r.province}" if r.province else "")),
            ("Gegevens", f"{r.data_date}; database gebouwd {r.built_at[:10]}"),
            ("Vergeleken met", ", ".join(label for _, label in r.peers)
             + (f", en de statistische buren {', '.join(r.neighbours)}" if r.neighbours else "")),
            ("Bronnen", "CBS StatLine en politie via CBS (CC BY 4.0); vijf trendstudies 2013–2024")]
    add('#table(columns: (auto, 1fr), stroke: none, inset: 4pt, '
        + ", ".join(f"[*{_s(k)}*], [{_s(v)}]" for k, v in rows) + ')')
    add(']')
    add('#outline(title: ' + _s("Inhoud")[1:] + ', depth: 1)')
    # summary
    add('#pagebreak(weak: true)')  # the summary on a page of its own; later chapters follow on
    add('= ' + _s("Samenvatting") + ' <samenvatting>')
    if r.map:
        figures["kaart.svg"] = r.map.svg.encode("utf-8")
        add(f'#figure(image("kaart.svg", width: 55%, alt: {_s(r.map.alt)[1:]}), caption: [{_s(r.map.caption)}])')
    if r.summary_trends:
        add(_s(f"De trends die er in {r.name} het meest toe doen, en waarom:"))
        add("")
        for s in r.summary_trends:
            key = f". {s.key_figure}" if s.key_figure else ""
            add(f'- #link({_label(s.anchor)})[*{_s(s.title)}*] {_s(f"({s.domain}, {STRENGTH_LABEL[s.strength]}){key}")}')
    else:
        add(_s(f"Volgens de cijfers en de typering van de trendstudies speelt in {r.name} geen trend sterk of "
               "enigszins; de hoofdstukken noemen de landelijke trends."))
    if r.summary_opgaven:
        add("")
        add(_s("De opgaven die op de meeste van deze trends antwoorden:"))
        add("")
        for title, why in r.summary_opgaven:
            add(f'- *{_s(title)}* {_s(f"({why})")}')
    if r.nieuw:  # "Nieuw sinds de vorige editie" (report/nieuw.py)
        add("")
        add('== ' + _s("Nieuw sinds de vorige editie"))
        add(_s(f"Editie {r.nieuw.editie} ({r.nieuw.gebouwd}) tegenover editie {r.nieuw.vorige}:"))
        add("")
        for item in r.nieuw.items:
            add(f"- {_s(item)}")
        if r.nieuw.meer:
            add("")
            add(_s(f"En nog {r.nieuw.meer} {'wijziging' if r.nieuw.meer == 1 else 'wijzigingen'} "
                   "(zie trendstudie wijzigingen)."))
    # chapters
    opgave_at: dict = {}  # opgave title -> the trend under which it was described in full
    for c in r.chapters:
        add("")
        add('= ' + _s(c.title) + ' ' + _label(c.anchor))
        for p in c.intro:
            add(_s(p))
            add("")
        for t in c.trends:
            # the verdict in the heading (as in the HTML), which keeps it with the text that follows
            add(f'== {_s("➢ " + t.title)} #text(weight: "regular")[#box(stroke: 0.8pt, inset: (x: 4pt, y: 2pt), radius: 6pt)'
                f'[#text(8pt)[{_s(STRENGTH_LABEL[t.strength])}]] #text(8pt, fill: luma(90))[{_s(BASIS_LABEL.get(t.basis, ""))}]] '
                f'{_label("trend-" + t.id)}')
            add('#text(style: "italic", fill: luma(70))[' + _s(t.summary) + ']')
            add("")
            if t.basis != "cijfers":
                add(_s(t.reason))
                add("")
            if t.evidence:
                add_list(f"Wat in de cijfers van {r.name} ervoor spreekt", [_s(e) for e in t.evidence])
            if t.counter:
                add_list("Wat ertegen spreekt", [_s(e) for e in t.counter])
            for caveat in ([t.note] if t.note else []) + t.labels + ([t.disagreement] if t.disagreement else []):
                add('#block(fill: rgb("#fff6e0"), inset: 5pt, width: 100%)[#text(9pt)[' + _s(caveat) + ']]')
                add("")
            if t.figure:
                name = f"fig{len(figures) + 1}.svg"
                figures[name] = t.figure.svg.encode("utf-8")
                add(f'#figure(image("{name}", width: 80%, alt: {_s(t.figure.alt)[1:]}), caption: [{_s(t.figure.caption)}])')
            if t.rank:
                name = f"fig{len(figures) + 1}.svg"
                figures[name] = t.rank.svg.encode("utf-8")
                add(f'#figure(image("{name}", width: 85%, alt: {_s(t.rank.alt)[1:]}), caption: [{_s(t.rank.caption)}])')
            if t.opgaven:
                items = []
                for o in t.opgaven:
                    if o.title in opgave_at:  # said in full once; here its title and where (a shorter PDF)
                        first = opgave_at[o.title]
                        items.append(f"*{_s(o.title)}.* #link({_label('trend-' + first.id)})[{_s(f'Zie bij {first.title}.')}]")
                        continue
                    opgave_at[o.title] = t
                    who = (f" Wie handelt: {o.actors}." if o.local else f" Ligt vooral bij: {o.actors}.") if o.actors else ""
                    items.append(f"*{_s(o.title)}.* {_s(o.summary)} " + ('#emph[' + _s(who.strip()) + ']' if who else ""))
                add_list("Opgaven", items)
            add('#text(8pt, fill: luma(90))[' + _s("Bronnen: " + "; ".join(t.sources) + ".") + ']')
            add("")
        if c.typed:
            add('== ' + _s("Speelt hier volgens de typering van de trendstudies"))
            add("")
            for reason, ts in c.typed_groups:
                add(_s(reason))
                add("")
                for t in ts:
                    ops = "".join(f". Opgave: {o.title} ({'wie handelt' if o.local else 'ligt vooral bij'}: {o.actors})"
                                  for o in t.opgaven)
                    extra = f" {t.disagreement}" if t.disagreement else ""
                    add(f"- *{_s(t.title)}* {_label('trend-' + t.id)} {_s(f'({STRENGTH_LABEL[t.strength]}){ops}.{extra}')}")
                add("")
        if c.national:
            add('*' + _s(f"Landelijke trends die ook {r.name} raken:") + '* ' + _s("; ".join(c.national) + "."))
            add("")
        if c.less:
            add_list("Speelt hier minder", [f"*{_s(title)}.* {_s(why)}" for title, why in c.less])
        # A diagram of up to a page floats to the bottom of a page (placement: bottom), so the
        # text around it fills the page instead of leaving it half empty. It is set after the
        # chapter's first paragraph. Not to the top: there it floated above its own chapter's
        # heading. At the chapter's end `place.flush()` places it if it is still pending, and when
        # it stands at the foot of the chapter's last page, the next chapter begins on a new page
        # rather than above it (it once landed under the next chapter's heading).
        floating = [f for f in c.figures if _figure_width(f).endswith("pt")]
        for p in c.paragraphs[:1]:
            add(_s(p))
            add("")
        floated = [add_figure(f, ", placement: bottom") for f in floating]
        for p in c.paragraphs[1:]:
            add(_s(p))
            add("")
        for f in c.figures:
            if f not in floating:
                add_figure(f, "")
        if c.table:
            n = len(c.table.header)
            cells = ", ".join(f"[*{_s(h)}*]" for h in c.table.header)
            body = ", ".join(f"[{_s(cell)}]" for row in c.table.rows for cell in row)
            add(f'#figure(kind: table, caption: [{_s(c.table.caption)}], '
                f'text(7pt)[#table(columns: (2.4fr,) + ({n - 1} * (1fr,)), align: (x, y) => if x == 0 {{ left }} else {{ right }}, '
                f'stroke: (x, y) => if y == 0 {{ (bottom: 1pt) }} else {{ (bottom: 0.3pt + luma(200)) }}, '
                f'fill: (x, y) => if x == 1 and y > 0 {{ luma(238) }}, table.header({cells}), {body})])')
            for note in c.table.notes:
                add('#text(8pt, fill: luma(90))[' + _s(note) + ']')
            add("")
        if floated:
            add("#place.flush()")
            end = f"<{floated[-1]}-end>"  # where the chapter ends; `here()` would see past the page break
            add(f"#metadata(none) {end}")
            add("#context if " + " or ".join(f"locate(<{x}>).page() == locate({end}).page()" for x in floated)
                + " { pagebreak(weak: true) }")
            add("")
    add('= ' + _s("Methode en bronnen") + ' <methode>')
    for p in r.method:
        add(_s(p))
        add("")
    add('#text(9pt)[#table(columns: (auto, 1fr), inset: 4pt, stroke: (bottom: 0.3pt + luma(200)), [*Tabel*], [*Titel*], '
        + ", ".join(f"[{_s(t)}], [{_s(title)}]" for t, title in r.sources) + ')]')  # a reference list: 9pt
    add('= ' + _s("Bijlage: de cijfers") + ' <bijlage>')
    add(_s(APPENDIX_TEXT.format(files="de databijlage (CSV en XLSX naast dit bestand)")))
    return "\n".join(out)


def render_pdf(report: Report, logo_svg: str | None = None) -> bytes:
    figures: dict[str, bytes] = {}
    source = typst_source(report, figures, logo_svg)
    return typst.compile({"main": source.encode("utf-8"), **figures})
