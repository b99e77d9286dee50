"""Every operation on a verkenning, used by the CLI, the web pages and the API alike.

Tokens: `secrets.token_urlsafe(24)` (192 bits); only their SHA-256 hash is stored, so a link is
shown once (at creation or invitation) and a copy of the database gives no access.
"""

from __future__ import annotations

import hashlib
import secrets
from contextlib import closing
from dataclasses import dataclass
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import and_, bindparam, delete, func, insert, select, update

from ..errors import TrendstudieError
from .aggregate import AnswerScores
from .db import Database
from .models import Answer, Item, Participant, Setting, Verkenning, now

HORIZONS = {1: "binnen 5 jaar", 2: "5-10 jaar", 3: "na 10 jaar"}
HORIZON_CODES = {v: k for k, v in HORIZONS.items()}
SCORED = ("impact", "onzekerheid", "horizon", "relevantie")
MAX_TEXT = 2000
MAX_ITEMS = 200
MAX_INVITES = 1000


class NotFound(TrendstudieError):
    """A token or id that opens nothing. Pages answer 404, the same for every such case."""

    def __init__(self, what: str = "link"):
        super().__init__(f"Deze {what} bestaat niet (meer). Controleer de link die u kreeg.")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def secret(db: Database) -> bytes:
    """The server's signing secret, made once and kept in the database (shared by all workers)."""
    with db.read() as s:
        row = s.get(Setting, "secret")
        if row is not None:
            return bytes.fromhex(row.value)
    from sqlalchemy.exc import IntegrityError

    try:
        with db.write() as s:
            if s.get(Setting, "secret") is None:
                s.add(Setting(key="secret", value=secrets.token_hex(32)))
    except IntegrityError:  # another worker made it at the same moment
        pass
    with db.read() as s:
        return bytes.fromhex(s.get(Setting, "secret").value)


# --- passwords (argon2) -----------------------------------------------------------------------

def hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def check_password(stored: str | None, given: str) -> bool:
    if not stored:
        return True
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(stored, given)
    except (VerificationError, InvalidHashError):
        return False


# --- creating -----------------------------------------------------------------------------------

@dataclass
class Prefill:
    trend: str | None
    titel: str
    tekst: str
    domein: str
    sterkte: str | None
    basis: str | None
    onderbouwing: list[str]
    actief: bool = True


MIN_ACTIVE = 10  # a survey starts with at least this many items switched on, where so many play here


def prefill_items(localiser, code: str) -> list[Prefill]:
    """The trends and driving forces that play in the gemeente (verdict sterk or enigszins), with
    the evidence the figures give (or the verdict's reason), strongest first.

    Switched on are those the gemeente's figures bear out; those that play by the studies' typology
    only fill up to MIN_ACTIVE; the rest, and national trends (which reach every gemeente alike),
    are listed but switched off until the facilitator picks them. A survey then starts with what is
    particular here, at a length people answer (10-25 items; Zwolle had 81 switched on)."""
    kb = localiser.kb
    out = []
    for v in localiser.verdicts(code):
        if v.strength not in ("sterk", "enigszins"):
            continue
        t = kb.trends[v.trend]
        evidence = list(v.evidence) or [v.reason]
        out.append(Prefill(t.id, t.title, t.summary, t.domain, v.strength, v.basis, evidence,
                           actief=v.basis == "cijfers"))
    room = MIN_ACTIVE - sum(p.actief for p in out)
    for p in out:
        if room > 0 and p.basis == "typering":
            p.actief, room = True, room - 1
    return out


@dataclass
class Created:
    id: int
    facilitator_token: str
    items: int


def create(db: Database, gemeente: str, gemeente_naam: str, titel: str, items: list[Prefill],
           password: str | None = None) -> Created:
    titel = _clean(titel) or ""
    if not titel:
        titel = f"Verkenning {gemeente_naam}"
    if len(titel) > 200:
        raise TrendstudieError("De titel is te lang (hoogstens 200 tekens).")
    if password is not None and password != "" and len(password) < 8:
        raise TrendstudieError("Het wachtwoord moet minstens 8 tekens hebben.")
    token = new_token()
    with db.write() as s:
        v = Verkenning(gemeente=gemeente, gemeente_naam=gemeente_naam, titel=titel, facilitator_hash=token_hash(token),
                       password_hash=hash_password(password) if password else None, ronde=1, ronde_open=True)
        s.add(v)
        for i, p in enumerate(items[:MAX_ITEMS]):
            v.items.append(Item(position=i, trend=p.trend, titel=p.titel[:300], tekst=p.tekst, domein=p.domein,
                                sterkte=p.sterkte, basis=p.basis, onderbouwing=p.onderbouwing, actief=p.actief))
        s.flush()
        return Created(v.id, token, len(v.items))


# --- finding ------------------------------------------------------------------------------------

def by_facilitator(s, token: str) -> Verkenning:
    v = s.scalar(select(Verkenning).where(Verkenning.facilitator_hash == token_hash(token)))
    if v is None:
        raise NotFound()
    return v


def by_participant(s, token: str) -> Participant:
    p = s.scalar(select(Participant).where(Participant.token_hash == token_hash(token)))
    if p is None:
        raise NotFound()
    return p


def by_id(s, id: int) -> Verkenning:
    v = s.get(Verkenning, id)
    if v is None:
        raise TrendstudieError(f"Er is geen verkenning met nummer {id}. Zie `trendstudie verkenning lijst`.")
    return v


def listing(db: Database) -> list[dict]:
    with db.read() as s:
        counts = dict(s.execute(select(Participant.verkenning_id, func.count()).group_by(Participant.verkenning_id)).all())
        return [{"id": v.id, "gemeente": v.gemeente, "gemeente_naam": v.gemeente_naam, "titel": v.titel,
                 "ronde": v.ronde, "open": v.ronde_open, "deelnemers": counts.get(v.id, 0),
                 "aangemaakt": v.created_at.isoformat(timespec="seconds")}
                for v in s.scalars(select(Verkenning).order_by(Verkenning.id))]


# --- facilitator actions ---------------------------------------------------------------------------

def invite(db: Database, verkenning_id: int, aantal: int) -> list[str]:
    """`aantal` new personal participant tokens (shown once)."""
    if not 1 <= aantal <= MAX_INVITES:
        raise TrendstudieError(f"Het aantal uitnodigingen moet tussen 1 en {MAX_INVITES} liggen (gegeven: {aantal}).")
    tokens = [new_token() for _ in range(aantal)]
    with db.write() as s:
        by_id(s, verkenning_id)
        s.add_all(Participant(verkenning_id=verkenning_id, token_hash=token_hash(t)) for t in tokens)
    return tokens


def set_round(db: Database, verkenning_id: int, action: str) -> tuple[int, bool]:
    """'sluiten' closes the current round; 'openen' opens the next round after a closed one (or
    reopens nothing when the current round is still open)."""
    with db.write() as s:
        v = by_id(s, verkenning_id)
        if action == "sluiten":
            if not v.ronde_open:
                raise TrendstudieError(f"Ronde {v.ronde} is al gesloten.")
            v.ronde_open = False
        elif action == "openen":
            if v.ronde_open:
                raise TrendstudieError(f"Ronde {v.ronde} is nog open; sluit die eerst.")
            v.ronde += 1
            v.ronde_open = True
        else:
            raise TrendstudieError(f"Onbekende actie {action!r}: kies sluiten of openen.")
        return v.ronde, v.ronde_open


def remove(db: Database, verkenning_id: int) -> None:
    """Delete the verkenning with every item, participant and answer (AVG)."""
    with db.write() as s:
        v = by_id(s, verkenning_id)
        pids = select(Participant.id).where(Participant.verkenning_id == v.id)
        s.execute(delete(Answer).where(Answer.participant_id.in_(pids)))
        s.execute(delete(Participant).where(Participant.verkenning_id == v.id))
        s.execute(delete(Item).where(Item.verkenning_id == v.id))
        s.execute(delete(Verkenning).where(Verkenning.id == v.id))


class ItemEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int | None = None  # None: a new own item
    titel: str = Field(min_length=3, max_length=300)
    tekst: str = Field(default="", max_length=MAX_TEXT)
    domein: str
    actief: bool = True

    @field_validator("domein")
    @classmethod
    def _domain(cls, v: str) -> str:
        from ..indicators.registry import DOMAINS

        if v not in DOMAINS:
            raise ValueError(f"onbekend domein {v!r}; kies uit {', '.join(DOMAINS)}")
        return v


def edit_items(db: Database, verkenning_id: int, edits: list[ItemEdit]) -> None:
    with db.write() as s:
        v = by_id(s, verkenning_id)
        have = {i.id: i for i in v.items}
        for e in edits:
            if e.id is None:
                if len(have) >= MAX_ITEMS:
                    raise TrendstudieError(f"Hoogstens {MAX_ITEMS} items per verkenning.")
                item = Item(position=len(v.items), trend=None, titel=_clean(e.titel) or "", tekst=_clean(e.tekst) or "",
                            domein=e.domein, sterkte=None, basis="eigen weging", onderbouwing=[], actief=e.actief)
                v.items.append(item)
                continue
            item = have.get(e.id)
            if item is None:
                raise TrendstudieError(f"Item {e.id} hoort niet bij deze verkenning.")
            item.titel, item.tekst, item.domein, item.actief = _clean(e.titel) or "", _clean(e.tekst) or "", e.domein, e.actief


def set_challenges(db: Database, verkenning_id: int, challenges: list[dict]) -> None:
    with db.write() as s:
        by_id(s, verkenning_id).uitdagingen = challenges


# --- answers ------------------------------------------------------------------------------------------

class Score(BaseModel):
    """One item's answer, as the form and the API give it (the same validation for both)."""

    model_config = ConfigDict(extra="forbid")
    item: int
    impact: int | None = Field(default=None, ge=1, le=5)
    onzekerheid: int | None = Field(default=None, ge=1, le=5)
    horizon: str | None = None
    relevantie: int | None = Field(default=None, ge=1, le=5)
    toelichting: str | None = Field(default=None, max_length=MAX_TEXT)
    reden: str | None = Field(default=None, max_length=MAX_TEXT)

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        if v not in HORIZON_CODES:
            raise ValueError(f"horizon moet een van {', '.join(repr(h) for h in HORIZON_CODES)} zijn")
        return v


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid")
    naam: str | None = Field(default=None, max_length=100)
    antwoorden: list[Score] = Field(max_length=MAX_ITEMS)


def describe_errors(exc: ValidationError) -> list[str]:
    out = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e.get("loc", ()))
        msg = e.get("msg", "ongeldig")
        ctx = e.get("ctx") or {}
        kind = e.get("type", "")
        if kind in ("greater_than_equal", "less_than_equal"):
            msg = "moet een getal van 1 tot en met 5 zijn"
        elif kind in ("int_parsing", "int_type", "int_from_float"):
            msg = "moet een geheel getal zijn"
        elif kind == "string_too_long":
            msg = f"is te lang (hoogstens {ctx.get('max_length')} tekens)"
        elif kind == "too_long":
            msg = f"heeft te veel elementen (hoogstens {ctx.get('max_length')})"
        elif kind == "extra_forbidden":
            msg = "is geen bekend veld"
        elif kind == "missing":
            msg = "ontbreekt"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        out.append(f"{loc or 'invoer'}: {msg}")
    return out


def validate_submission(raw) -> Submission:
    try:
        return Submission.model_validate(raw)
    except ValidationError as exc:
        raise InvalidSubmission(describe_errors(exc)) from None


class InvalidSubmission(TrendstudieError):
    def __init__(self, details: list[str]):
        self.details = details
        super().__init__("De antwoorden zijn niet opgeslagen: " + "; ".join(details[:5]))


class RoundClosed(TrendstudieError):
    pass


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.replace("\r\n", "\n").replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
    return text or None


def submit(db: Database, token: str, sub: Submission) -> int:
    """Store one participant's answers for the open round, all or nothing, in one short
    transaction: find the participant by the token's SHA-256 hash, check the round and the items,
    then upsert every item's scores in one statement. Returns the number of items saved. Items of
    other verkenningen, a closed round or an invalid value change nothing."""
    with db.write_connection() as c, closing(c.connection.cursor()) as cur:
        find = db.prepared("find_participant", lambda: _FIND_PARTICIPANT)
        cur.execute(find.sql, find.params({"hash": token_hash(token)}))
        found = cur.fetchall()
        if not found:
            raise NotFound()
        pid, ronde, is_open = found[0][:3]
        if not is_open:
            raise RoundClosed(f"Ronde {ronde} is gesloten; antwoorden kunnen niet meer worden gewijzigd.")
        active = {row[3] for row in found if row[3] is not None}
        seen = set()
        for a in sub.antwoorden:
            if a.item not in active:
                raise InvalidSubmission([f"item {a.item}: hoort niet bij deze verkenning"])
            if a.item in seen:
                raise InvalidSubmission([f"item {a.item}: staat twee keer in de antwoorden"])
            seen.add(a.item)
        if sub.naam is not None:
            c.execute(update(Participant).where(Participant.id == pid).values(naam=_clean(sub.naam)))
        if sub.antwoorden:
            stamp = now()
            rows = [{"participant_id": pid, "item_id": a.item, "ronde": ronde, "impact": a.impact,
                     "onzekerheid": a.onzekerheid, "horizon": HORIZON_CODES[a.horizon] if a.horizon else None,
                     "relevantie": a.relevantie, "toelichting": _clean(a.toelichting), "reden": _clean(a.reden),
                     "updated_at": stamp} for a in sub.antwoorden]
            if _upsert(c.dialect.name) is not None:
                upsert = db.prepared("upsert_answers", lambda: _upsert(c.dialect.name))
                cur.executemany(upsert.sql, [upsert.params(row) for row in rows])
            else:  # a database without INSERT … ON CONFLICT: replace the rows
                c.execute(delete(Answer).where(Answer.participant_id == pid, Answer.ronde == ronde,
                                               Answer.item_id.in_(seen)))
                c.execute(insert(Answer), rows)
    return len(sub.antwoorden)


# Built once and compiled once per database (Database.prepared), so a submission costs two
# statements on the driver's cursor and a commit.
# One row per active item (or one with item None): the participant, the round and the items at once.
# FOR SHARE (PostgreSQL) keeps the facilitator from closing the round while answers are written.
_FIND_PARTICIPANT = (select(Participant.id, Verkenning.ronde, Verkenning.ronde_open, Item.id)
                     .join(Verkenning, Verkenning.id == Participant.verkenning_id)
                     .outerjoin(Item, and_(Item.verkenning_id == Verkenning.id, Item.actief.is_(True)))
                     .where(Participant.token_hash == bindparam("hash"))
                     .with_for_update(read=True, of=[Participant.__table__, Verkenning.__table__]))
_UPSERTS: dict[str, object] = {}


def _upsert(dialect: str):
    """INSERT … ON CONFLICT (participant, item, round) DO UPDATE for SQLite and PostgreSQL."""
    if dialect not in _UPSERTS:
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        elif dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            _UPSERTS[dialect] = None
            return None
        stmt = dialect_insert(Answer)
        _UPSERTS[dialect] = stmt.on_conflict_do_update(
            index_elements=["participant_id", "item_id", "ronde"],
            set_={k: stmt.excluded[k] for k in ("impact", "onzekerheid", "horizon", "relevantie", "toelichting",
                                                 "reden", "updated_at")})
    return _UPSERTS[dialect]


# --- reading ------------------------------------------------------------------------------------------

@dataclass
class AnswerRow(AnswerScores):
    """A stored answer as the results and exports read it: the scores and the texts."""

    toelichting: str | None = None
    reden: str | None = None


def snapshot(s, v: Verkenning) -> tuple[list[Item], list[AnswerRow], int]:
    """The verkenning's items, all answers (participants numbered) and the number invited."""
    parts = list(s.scalars(select(Participant.id).where(Participant.verkenning_id == v.id).order_by(Participant.id)))
    number = {pid: i + 1 for i, pid in enumerate(parts)}
    rows = s.execute(select(Answer).join(Participant, Participant.id == Answer.participant_id)
                     .where(Participant.verkenning_id == v.id).order_by(Answer.ronde, Answer.participant_id,
                                                                         Answer.item_id)).scalars()
    answers = [AnswerRow(number[a.participant_id], a.item_id, a.ronde, a.impact, a.onzekerheid, a.horizon,
                         a.relevantie, a.toelichting, a.reden) for a in rows]
    return list(v.items), answers, len(parts)


def own_answers(s, p: Participant) -> dict[int, dict[int, Answer]]:
    """This participant's answers: {ronde: {item id: Answer}}."""
    out: dict[int, dict[int, Answer]] = {}
    for a in s.scalars(select(Answer).where(Answer.participant_id == p.id)):
        out.setdefault(a.ronde, {})[a.item_id] = a
    return out
