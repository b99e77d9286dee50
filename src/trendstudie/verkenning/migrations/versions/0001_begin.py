"""The first schema: verkenningen, items, deelnemers, antwoorden, instellingen.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("instellingen", sa.Column("key", sa.String(64), primary_key=True),
                    sa.Column("value", sa.Text(), nullable=False))
    op.create_table(
        "verkenningen",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("gemeente", sa.String(16), nullable=False),
        sa.Column("gemeente_naam", sa.String(200), nullable=False),
        sa.Column("titel", sa.String(200), nullable=False),
        sa.Column("facilitator_hash", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("ronde", sa.Integer(), nullable=False),
        sa.Column("ronde_open", sa.Boolean(), nullable=False),
        sa.Column("uitdagingen", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_verkenningen_facilitator_hash", "verkenningen", ["facilitator_hash"], unique=True)
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("verkenning_id", sa.Integer(), sa.ForeignKey("verkenningen.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("trend", sa.String(100), nullable=True),
        sa.Column("titel", sa.String(300), nullable=False),
        sa.Column("tekst", sa.Text(), nullable=False),
        sa.Column("domein", sa.String(100), nullable=False),
        sa.Column("sterkte", sa.String(20), nullable=True),
        sa.Column("basis", sa.String(20), nullable=True),
        sa.Column("onderbouwing", sa.JSON(), nullable=False),
        sa.Column("actief", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_items_verkenning_id", "items", ["verkenning_id"])
    op.create_table(
        "deelnemers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("verkenning_id", sa.Integer(), sa.ForeignKey("verkenningen.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("naam", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_deelnemers_verkenning_id", "deelnemers", ["verkenning_id"])
    op.create_index("ix_deelnemers_token_hash", "deelnemers", ["token_hash"], unique=True)
    op.create_table(
        "antwoorden",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("participant_id", sa.Integer(), sa.ForeignKey("deelnemers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ronde", sa.Integer(), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=True),
        sa.Column("onzekerheid", sa.Integer(), nullable=True),
        sa.Column("horizon", sa.Integer(), nullable=True),
        sa.Column("relevantie", sa.Integer(), nullable=True),
        sa.Column("toelichting", sa.Text(), nullable=True),
        sa.Column("reden", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("participant_id", "item_id", "ronde", name="uq_antwoord"),
    )
    op.create_index("ix_antwoorden_participant_id", "antwoorden", ["participant_id"])
    op.create_index("ix_antwoorden_item_id", "antwoorden", ["item_id"])


def downgrade() -> None:
    for t in ("antwoorden", "deelnemers", "items", "verkenningen", "instellingen"):
        op.drop_table(t)
