"""Sources that are not CBS tables, fetched by `sync` and stored in the v4 mirror layout
(`mirror.write_table`), so the build reads them with the same importer as CBS's tables.

Regionale Klimaatmonitor (Rijkswaterstaat/RVO), kind `klimaatmonitor`
    Its Open Data Service is a Swing/Jive OData service (`…/jiveservices/odata`) that asks for a
    personal API key in the `apikey` header (free, requested through the contact form named in
    KEY_HELP); the product reads it from $TRENDSTUDIE_KLIMAATMONITOR_KEY. Per variable it fetches
    `Variables('<code>')/GeoLevels('gemeente')/PeriodLevels('year')/Periods('all')/Values`
    (pages joined through `@odata.nextLink`). A row names its gemeente as `gemeente_<number>`
    (the CBS gemeentecode without `GM`), its year as `Period` and its value as `ValueString`
    (`''`, `'?'`, `'-'`, `'x'`: not known). A variable may be named by its title instead of its
    code; the code is then looked up in `Variables`.
Leefbaarometer 3.0 (ministerie van BZK), kind `leefbaarometer`
    One zip of open data per measurement year; the catalogue's `member` names the CSV with the
    scores per gemeente (columns `gm_code, jaar, lbm, afw, fys, onv, soc, vrz, won`), read by
    `misc_csv.read_leefbaarometer` with the same checks as the bundle's wijk file. The
    publisher's CSV is kept beside the mirror files for reference.

Both were built from public documentation and clients of these services, not from a capture
of a real response; their catalogue entries say `checked: false` until a connected sync confirms
them.
"""

from __future__ import annotations

import difflib
import fnmatch
import io
import os
import re
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..errors import TrendstudieError
from .catalog import CatalogTable, Variable
from .mirror import write_table
from .odata import ODataClient, ODataError
from .records import MeasureMeta, Observation, TableMeta, fold_title, number_problem, year_period

KLIMAATMONITOR_KEY_ENV = "TRENDSTUDIE_KLIMAATMONITOR_KEY"
KEY_HELP = "https://klimaatmonitor.databank.nl/content/handleiding-open-data-service"
_NOT_KNOWN = {"", "?", "-", "x", ".", "nb"}


class MissingKey(TrendstudieError):
    """A source that needs an API key was asked for without one: skipped, not failed."""


def fetch(client: ODataClient, entry: CatalogTable, folder: Path, keys: dict[str, str] | None = None) -> int:
    """Fetch one non-CBS catalogue entry into `folder` (mirror layout); returns the row count."""
    if entry.kind == "klimaatmonitor":
        key = (keys or {}).get("klimaatmonitor") or os.environ.get(KLIMAATMONITOR_KEY_ENV, "")
        if not key.strip():
            raise MissingKey(f"geen API-sleutel voor de Klimaatmonitor: zet ${KLIMAATMONITOR_KEY_ENV} "
                             f"(gratis aan te vragen, zie {KEY_HELP})")
        with client.sibling(entry.url or "", service="Klimaatmonitor", headers={"apikey": key.strip()}) as km:
            return fetch_klimaatmonitor(km, entry, folder)
    if entry.kind == "leefbaarometer":
        with client.sibling(entry.url or "", service="Leefbaarometer") as lbm:
            return fetch_leefbaarometer(lbm, entry, folder)
    raise TrendstudieError(f"{entry.id}: geen externe bron van soort {entry.kind!r}")


# -- Regionale Klimaatmonitor -------------------------------------------------------------------

def fetch_klimaatmonitor(client: ODataClient, entry: CatalogTable, folder: Path) -> int:
    base = client.base_url
    listing: list[dict[str, Any]] | None = None
    table = TableMeta(entry.id, entry.title, entry.catalog, source=base)
    observations: list[Observation] = []
    for var in entry.variables:
        if var.code is None:
            if listing is None:
                listing = [row for page in client.pages(f"{base}/Variables", what="Klimaatmonitor, Variables")
                           for row in page.rows]
            info = find_variable(var, listing)
        else:
            url = f"{base}/Variables('{quote(var.code, safe='')}')"
            try:
                info = client.get_json(url, what=f"Klimaatmonitor, variabele {var.code}", expect="object")
            except ODataError as exc:
                if exc.status == 404:
                    raise TrendstudieError(f"De Klimaatmonitor kent variabele {var.code!r} niet ({url}); "
                                           "controleer de code in sources/catalog.yaml.") from None
                raise
        code = str(info.get("ExternalCode") or var.code)
        check_unit(var, info)
        table.measures[code] = MeasureMeta(title=str(info.get("Name") or var.title or code).strip(),
                                           unit=var.unit, aggregation="sum")
        url = (f"{base}/Variables('{quote(code, safe='')}')/GeoLevels('gemeente')"
               f"/PeriodLevels('year')/Periods('all')/Values")
        rows = [r for page in client.pages(url, what=f"Klimaatmonitor, waarden van {code}") for r in page.rows]
        observations.extend(klimaatmonitor_observations(code, rows, entry.id, url))
    if not any(o.value is not None for o in observations):
        raise TrendstudieError(f"De Klimaatmonitor gaf geen enkele gemeentewaarde voor {entry.id} ({base}).")
    return write_table(folder, table, observations)


def find_variable(var: Variable, listing: list[dict[str, Any]]) -> dict[str, Any]:
    """The variable whose Name is `var.title` (case and spacing ignored); else an error that
    names the closest names the service does have."""
    wanted = fold_title(var.title)
    hits = [row for row in listing if fold_title(row.get("Name")) == wanted]
    if len(hits) == 1:
        return hits[0]
    names = [str(row.get("Name") or "") for row in listing]
    if hits:
        codes = ", ".join(str(h.get("ExternalCode")) for h in hits)
        raise TrendstudieError(f"De Klimaatmonitor heeft meer variabelen met de naam {var.title!r} ({codes}); "
                               "geef in sources/catalog.yaml de 'code'.")
    near = difflib.get_close_matches(var.title or "", names, n=5, cutoff=0.5)
    hint = "; lijkt op: " + "; ".join(repr(n) for n in near) if near else ""
    raise TrendstudieError(f"De Klimaatmonitor kent geen variabele met de naam {var.title!r} "
                           f"({len(listing)} variabelen doorzocht){hint}.")


def check_unit(var: Variable, info: dict[str, Any]) -> None:
    """Where the service states the variable's unit, it must be the catalogue's."""
    for field in ("Unit", "UnitName", "Eenheid"):
        stated = info.get(field)
        if isinstance(stated, str) and stated.strip():
            if stated.strip().lower() != var.unit.strip().lower():
                name = var.code or var.title
                raise TrendstudieError(f"Klimaatmonitor-variabele {name!r} heeft eenheid {stated.strip()!r}, "
                                       f"de catalogus zegt {var.unit!r}; pas de catalogus (en de indicator) aan.")
            return


_GEMEENTE = re.compile(r"^(?:gemeente_)?(?:GM)?(\d{1,4})$", re.IGNORECASE)


def klimaatmonitor_observations(code: str, rows: list[dict[str, Any]], table_id: str, url: str) -> list[Observation]:
    """Rows of a Values answer as observations; a row that cannot be read is an error naming it."""
    out: list[Observation] = []
    for i, row in enumerate(rows, start=1):
        where = f"Klimaatmonitor {code}, rij {i} ({url})"
        m = _GEMEENTE.match(str(row.get("ExternalCode") or "").strip())
        if not m:
            raise TrendstudieError(f"{where}: geen gemeente in ExternalCode {row.get('ExternalCode')!r}")
        period = str(row.get("Period") or "").strip()
        if not re.fullmatch(r"\d{4}", period):
            raise TrendstudieError(f"{where}: geen jaartal in Period {row.get('Period')!r}")
        value = parse_value(row.get("ValueString", row.get("Value")), where)
        out.append(Observation(table_id, code, f"GM{int(m.group(1)):04d}", year_period(int(period)), value,
                               None, reason=None if value is not None else "onbekend bij de Klimaatmonitor"))
    return out


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def parse_value(raw: Any, where: str) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = raw
    else:
        text = str(raw).strip()
        if text.lower() in _NOT_KNOWN:
            return None
        if "," in text and "." not in text:
            text = text.replace(",", ".")  # a decimal comma
        if not _NUMBER.fullmatch(text):  # float() would also take nan, inf and Infinity
            raise TrendstudieError(f"{where}: waarde {raw!r} is geen getal")
        value = float(text)
    if problem := number_problem(value):
        raise TrendstudieError(f"{where}: waarde {raw!r}: {problem}")
    return float(value)


# -- Leefbaarometer ----------------------------------------------------------------------------

def fetch_leefbaarometer(client: ODataClient, entry: CatalogTable, folder: Path) -> int:
    from .misc_csv import read_leefbaarometer

    url = entry.url or ""
    data = client.get_bytes(url, what=f"Leefbaarometer, {entry.id}", check=_zip_problem)
    name, content = zip_member(data, entry.member or "", url)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "bron.csv"
    csv_path.write_bytes(content)
    imported = read_leefbaarometer(csv_path)
    table = imported.tables[0]
    table.source = f"{url} ({name})"
    observations = [o for o in imported.observations if o.region_code.startswith("GM")]
    if not observations:
        raise TrendstudieError(f"{name} uit {url} bevat geen scores per gemeente (kolom gm_code).")
    return write_table(folder, table, observations)


def _zip_problem(content: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            bad = z.testzip()
    except zipfile.BadZipFile as exc:
        return f"geen (volledig) zip-bestand: {exc}"
    return f"beschadigd bestand {bad} in de zip" if bad else None


def zip_member(data: bytes, pattern: str, url: str) -> tuple[str, bytes]:
    """The one file in the zip whose name (without folders) matches `pattern`, case ignored."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = [n for n in z.namelist() if not n.endswith("/")]
        hits = [n for n in names if fnmatch.fnmatch(n.rsplit("/", 1)[-1].lower(), pattern.lower())]
        if len(hits) != 1:
            which = "geen bestand" if not hits else f"{len(hits)} bestanden"
            raise TrendstudieError(f"{which} in {url} past bij {pattern!r}; de zip bevat: {', '.join(names)}")
        return hits[0], z.read(hits[0])
