"""The verkenning's storage, against SQLite and (when .ci/run started one) PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, inspect, select

from trendstudie.errors import TrendstudieError
from trendstudie.verkenning import service
from trendstudie.verkenning.models import Answer, Item, Participant, Verkenning
from trendstudie.verkenning.service import Prefill, validate_submission


def _items(n: int = 3) -> list[Prefill]:
    return [Prefill(f"t{i}", f"Trend {i}", "tekst", "demografie", "sterk", "cijfers", [f"bewijs {i}"]) for i in range(n)]


def _make(db, n=3, invites=2):
    made = service.create(db, "GM0193", "Zwolle", "Zwolle 2040", _items(n))
    tokens = service.invite(db, made.id, invites)
    with db.read() as s:
        ids = [i.id for i in s.get(Verkenning, made.id).items]
    return made, tokens, ids


def test_migrations_make_the_schema_and_are_idempotent(db):
    db.migrate()
    names = set(inspect(db.writer).get_table_names())
    assert {"verkenningen", "items", "deelnemers", "antwoorden", "instellingen", "alembic_version"} <= names


def test_the_migrations_give_the_models_schema(db):
    """Alembic's comparison of the migrated database with the models finds nothing; the answers
    have only their unique index (migration 0002: a submission writes few pages)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from trendstudie.verkenning.models import Base

    with db.writer.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []
    assert [i["name"] for i in inspect(db.writer).get_indexes("antwoorden")
            if not i.get("duplicates_constraint")] == []


def test_tokens_are_long_random_and_stored_only_as_hashes(db):
    made, tokens, _ = _make(db)
    for t in [made.facilitator_token, *tokens]:
        assert len(t) >= 32  # token_urlsafe(24): 192 bits
    assert len(set(tokens)) == len(tokens)
    with db.read() as s:
        stored = [p.token_hash for p in s.scalars(select(Participant))] + [s.get(Verkenning, made.id).facilitator_hash]
    assert not set(stored) & {made.facilitator_token, *tokens}
    assert service.token_hash(tokens[0]) in stored


def test_submit_saves_and_overwrites_within_a_round(db):
    _, tokens, ids = _make(db)
    sub = validate_submission({"naam": "Anna", "antwoorden": [
        {"item": ids[0], "impact": 4, "onzekerheid": 2, "horizon": "5-10 jaar", "relevantie": 5, "toelichting": " ok "}]})
    assert service.submit(db, tokens[0], sub) == 1
    service.submit(db, tokens[0], validate_submission({"antwoorden": [{"item": ids[0], "impact": 5}]}))
    with db.read() as s:
        rows = list(s.scalars(select(Answer)))
        p = s.scalar(select(Participant).where(Participant.token_hash == service.token_hash(tokens[0])))
    assert len(rows) == 1 and rows[0].impact == 5 and rows[0].onzekerheid is None and rows[0].ronde == 1
    assert p.naam == "Anna"


@pytest.mark.parametrize("bad", [
    {"antwoorden": [{"item": 0, "impact": 6}]},
    {"antwoorden": [{"item": 0, "impact": 3}, {"item": 0, "impact": 4}]},
    {"antwoorden": [{"item": 0, "horizon": "ooit"}]},
    {"antwoorden": [{"item": 0, "impact": 3, "onbekend": 1}]},
    {"antwoorden": [{"item": 0, "toelichting": "x" * 2001}]},
    {"antwoorden": [{"item": 0, "impact": 3}, {"item": -1, "impact": 3}]},
])
def test_a_failed_validation_changes_nothing(db, bad):
    _, tokens, ids = _make(db)
    service.submit(db, tokens[0], validate_submission({"antwoorden": [{"item": ids[0], "impact": 2}]}))
    for a in bad["antwoorden"]:
        a["item"] = ids[0] if a["item"] == 0 else 10**6
    with pytest.raises(service.InvalidSubmission) as info:
        service.submit(db, tokens[0], validate_submission(bad))
    assert info.value.details and str(info.value).startswith("De antwoorden zijn niet opgeslagen")
    with db.read() as s:
        assert [(a.item_id, a.impact) for a in s.scalars(select(Answer))] == [(ids[0], 2)]


def test_items_of_another_verkenning_and_unknown_tokens_are_refused(db):
    _, tokens, ids = _make(db)
    other, other_tokens, other_ids = _make(db)
    with pytest.raises(service.InvalidSubmission):
        service.submit(db, tokens[0], validate_submission({"antwoorden": [{"item": other_ids[0], "impact": 3}]}))
    with pytest.raises(service.NotFound):
        service.submit(db, other.facilitator_token, validate_submission({"antwoorden": []}))
    with pytest.raises(service.NotFound):
        service.submit(db, "x" * 32, validate_submission({"antwoorden": []}))


def test_rounds_close_and_open_and_closed_rounds_refuse_answers(db):
    made, tokens, ids = _make(db)
    one = validate_submission({"antwoorden": [{"item": ids[0], "impact": 3}]})
    service.submit(db, tokens[0], one)
    assert service.set_round(db, made.id, "sluiten") == (1, False)
    with pytest.raises(service.RoundClosed):
        service.submit(db, tokens[0], one)
    with pytest.raises(TrendstudieError):
        service.set_round(db, made.id, "sluiten")
    assert service.set_round(db, made.id, "openen") == (2, True)
    service.submit(db, tokens[0], validate_submission({"antwoorden": [{"item": ids[0], "impact": 5, "reden": "nieuw inzicht"}]}))
    with db.read() as s:
        rows = sorted((a.ronde, a.impact, a.reden) for a in s.scalars(select(Answer)))
    assert rows == [(1, 3, None), (2, 5, "nieuw inzicht")]


def test_edit_items_and_own_items(db):
    made, tokens, ids = _make(db)
    service.edit_items(db, made.id, [service.ItemEdit(id=ids[0], titel="Nieuwe titel", tekst="", domein="bestuur",
                                                      actief=False),
                                     service.ItemEdit(titel="Eigen item", domein="veiligheid")])
    with db.read() as s:
        items = s.get(Verkenning, made.id).items
        assert [(i.titel, i.actief, i.trend) for i in items][0] == ("Nieuwe titel", False, None if False else "t0")
        assert items[-1].titel == "Eigen item" and items[-1].trend is None
    with pytest.raises(service.InvalidSubmission):  # a dropped item takes no answers
        service.submit(db, tokens[0], validate_submission({"antwoorden": [{"item": ids[0], "impact": 3}]}))
    with pytest.raises(ValueError):
        service.ItemEdit(titel="x y z", domein="onbekend")


def test_delete_removes_everything(db):
    made, tokens, ids = _make(db)
    keep, keep_tokens, keep_ids = _make(db)
    for t, i in ((tokens[0], ids[0]), (keep_tokens[0], keep_ids[0])):
        service.submit(db, t, validate_submission({"antwoorden": [{"item": i, "impact": 3}]}))
    service.remove(db, made.id)
    with db.read() as s:
        assert s.get(Verkenning, made.id) is None
        for model in (Item, Participant):
            assert s.scalar(select(func.count()).select_from(model).where(model.verkenning_id == made.id)) == 0
        assert s.scalar(select(func.count()).select_from(Answer)) == 1
    with pytest.raises(TrendstudieError):
        service.remove(db, made.id)


def test_password_is_hashed_with_argon2(db):
    made = service.create(db, "GM0193", "Zwolle", "", _items(1), password="geheim123")
    with db.read() as s:
        v = s.get(Verkenning, made.id)
    assert v.password_hash.startswith("$argon2") and "geheim123" not in v.password_hash
    assert v.titel == "Verkenning Zwolle"
    assert service.check_password(v.password_hash, "geheim123") and not service.check_password(v.password_hash, "fout")
    with pytest.raises(TrendstudieError):
        service.create(db, "GM0193", "Zwolle", "", [], password="kort")


def test_concurrent_submissions_all_land(db):
    made, tokens, ids = _make(db, n=4, invites=40)
    errors = []

    def one(k: int, t: str):
        try:
            service.submit(db, t, validate_submission({"antwoorden": [
                {"item": i, "impact": 1 + (k + j) % 5, "onzekerheid": 1 + k % 5} for j, i in enumerate(ids)]}))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(k, t)) for k, t in enumerate(tokens)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    with db.read() as s:
        got = {(a.participant_id, a.item_id): a.impact for a in s.scalars(select(Answer))}
        pid = {p.token_hash: p.id for p in s.scalars(select(Participant))}
    assert len(got) == 40 * 4
    for k, t in enumerate(tokens):
        for j, i in enumerate(ids):
            assert got[(pid[service.token_hash(t)], i)] == 1 + (k + j) % 5


def test_an_unreachable_database_is_a_clear_error(tmp_path):
    from trendstudie.verkenning.db import Database

    with pytest.raises(TrendstudieError) as info:
        Database("postgresql+psycopg://niemand@127.0.0.1:1/geen")
    assert "niet bereikbaar" in str(info.value)
    with pytest.raises(TrendstudieError):
        Database("geen url")
