"""The CLI's one error boundary: every exception that reaches it becomes one Dutch message and an
exit code, never a traceback.

Exit codes: 0 done; 2 wrong input or usage (TrendstudieError, a bad option); 3 the file system
refused (OSError: rights, full disk, missing folder); 4 the database is damaged (rebuild it);
70 an internal error (a bug: the message says so and how to report it); 130 interrupted (Ctrl-C).
`trendstudie bijwerken` (for cron) adds, after the BSD sysexits: 69 CBS cannot be reached (nothing
changed); 65 the build failed (the previous database stays); 75 partly done (a table or report
failed, or another sync or build was running; the next run goes on).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

EXIT_INPUT = 2
EXIT_OS = 3
EXIT_DATABASE = 4
EXIT_INTERNAL = 70
EXIT_UNREACHABLE = 69  # bijwerken: no network, no DNS, nobody listening (EX_UNAVAILABLE)
EXIT_BUILD = 65  # bijwerken: the build failed (EX_DATAERR)
EXIT_PARTIAL = 75  # bijwerken: partly done, try again later (EX_TEMPFAIL)
EXIT_INTERRUPTED = 130

_ADVICE = {
    errno.EACCES: "geen toestemming; controleer de rechten of kies een andere map (bijv. met --uit of --home)",
    errno.EPERM: "geen toestemming; controleer de rechten of kies een andere map (bijv. met --uit of --home)",
    errno.EROFS: "het bestandssysteem is alleen-lezen; kies een map waarin geschreven kan worden",
    errno.ENOSPC: "de schijf is vol; maak ruimte vrij en probeer het opnieuw (er is niets half geschreven)",
    errno.EDQUOT: "uw schijfquotum is op; maak ruimte vrij en probeer het opnieuw (er is niets half geschreven)",
    errno.ENOENT: "bestaat niet; controleer het pad (een map die nog niet bestaat, maakt trendstudie niet zelf aan)",
    errno.ENOTDIR: "een deel van het pad is een bestand, geen map; kies een ander pad",
    errno.EISDIR: "is een map, geen bestand; geef een bestandsnaam",
    errno.EEXIST: "bestaat al; kies een andere naam of verwijder het",
    errno.ENAMETOOLONG: "de naam is te lang; kies een korter pad",
    errno.ELOOP: "het pad verwijst naar zichzelf (symbolische koppelingen in een kring)",
    errno.EMFILE: "te veel open bestanden; sluit andere programma's of verhoog de limiet (ulimit -n)",
    errno.EIO: "lees- of schrijffout van de schijf; controleer de schijf",
    errno.EBUSY: "is in gebruik door een ander programma; probeer het later opnieuw",
    errno.ENOTEMPTY: "de map is niet leeg",
    errno.EXDEV: "kan niet naar een ander bestandssysteem verplaatst worden",
    errno.EINVAL: "ongeldig pad of ongeldige naam",
}


def describe_oserror(exc: OSError) -> str:
    """A Dutch sentence naming the path and what to do."""
    paths = [str(p) for p in (exc.filename, exc.filename2) if p not in (None, "")]
    where = " → ".join(paths) if paths else "een bestand of map"
    advice = _ADVICE.get(exc.errno or 0)
    if advice is None:
        reason = exc.strerror or exc.__class__.__name__
        advice = f"{reason}; controleer het pad en de rechten"
    return f"{where}: {advice}."


def describe_database_error(exc: Exception, database: Path | None = None) -> str:
    where = f"De database {database}" if database else "De database"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return (f"{where} is beschadigd of onvolledig ({first[:200]}). "
            "Bouw haar opnieuw met: trendstudie build --bundle <map met de databundel>")


def is_database_error(exc: BaseException) -> bool:
    try:
        import duckdb
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, duckdb.Error)


def last_resort(exc: BaseException) -> str:
    """The message for an error nobody foresaw: what happened, in one line, and what to do."""
    kind = exc.__class__.__name__
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return (f"Interne fout ({kind}{': ' + text if text else ''}). Dit is een fout in trendstudie, niet in uw "
            "invoer; meld het met de opdracht die u gaf. Zet TRENDSTUDIE_DEBUG=1 om de technische details te zien.")


def debug() -> bool:
    return os.environ.get("TRENDSTUDIE_DEBUG", "") not in ("", "0")
