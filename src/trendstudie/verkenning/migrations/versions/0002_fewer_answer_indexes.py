"""Answers keep two indexes fewer: the one on item_id and the one on participant_id.

A submission writes ten answers of one participant. The index on item_id placed those ten rows in
ten different places (one per item), so every submission changed some sixteen database pages and
SQLite's write-ahead log filled and was written back (with a sync) every sixty submissions, each
time holding up every writer for 10-20 ms. Without it a submission changes three or four pages and
takes half the time. Every query of answers goes by participant, which the unique index
(participant_id, item_id, ronde) serves as well as the separate index on participant_id did; an
item's answers are only looked up when items are deleted, together with their verkenning (after
its answers are gone).

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_antwoorden_item_id", table_name="antwoorden")
    op.drop_index("ix_antwoorden_participant_id", table_name="antwoorden")


def downgrade() -> None:
    op.create_index("ix_antwoorden_participant_id", "antwoorden", ["participant_id"])
    op.create_index("ix_antwoorden_item_id", "antwoorden", ["item_id"])
