"""The verkenning's tables (SQLAlchemy 2): a verkenning with its items, participants and their
answers per round. Tokens are stored only as SHA-256 hashes; the links are shown once."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Setting(Base):
    """Server-wide values such as the secret that signs CSRF tokens and login cookies."""

    __tablename__ = "instellingen"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Verkenning(Base):
    __tablename__ = "verkenningen"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gemeente: Mapped[str] = mapped_column(String(16))  # GM code, or a group id (G40)
    gemeente_naam: Mapped[str] = mapped_column(String(200))
    titel: Mapped[str] = mapped_column(String(200))
    facilitator_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ronde: Mapped[int] = mapped_column(Integer, default=1)
    ronde_open: Mapped[bool] = mapped_column(Boolean, default=True)
    uitdagingen: Mapped[list | None] = mapped_column(JSON, nullable=True)  # the facilitator's edited draft
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    items: Mapped[list["Item"]] = relationship(back_populates="verkenning", cascade="all, delete-orphan",
                                               passive_deletes=True, order_by="Item.position")
    participants: Mapped[list["Participant"]] = relationship(back_populates="verkenning",
                                                             cascade="all, delete-orphan", passive_deletes=True)


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verkenning_id: Mapped[int] = mapped_column(ForeignKey("verkenningen.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    trend: Mapped[str | None] = mapped_column(String(100), nullable=True)  # knowledge base id; None = own item
    titel: Mapped[str] = mapped_column(String(300))
    tekst: Mapped[str] = mapped_column(Text, default="")
    domein: Mapped[str] = mapped_column(String(100))
    sterkte: Mapped[str | None] = mapped_column(String(20), nullable=True)
    basis: Mapped[str | None] = mapped_column(String(20), nullable=True)
    onderbouwing: Mapped[list] = mapped_column(JSON, default=list)
    actief: Mapped[bool] = mapped_column(Boolean, default=True)
    verkenning: Mapped[Verkenning] = relationship(back_populates="items")


class Participant(Base):
    __tablename__ = "deelnemers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verkenning_id: Mapped[int] = mapped_column(ForeignKey("verkenningen.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    naam: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    verkenning: Mapped[Verkenning] = relationship(back_populates="participants")
    answers: Mapped[list["Answer"]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class Answer(Base):
    __tablename__ = "antwoorden"
    __table_args__ = (UniqueConstraint("participant_id", "item_id", "ronde", name="uq_antwoord"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # no index of their own (migration 0002): the unique index serves the lookups by participant,
    # and one on item_id made every submission write some sixteen pages instead of four
    participant_id: Mapped[int] = mapped_column(ForeignKey("deelnemers.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    ronde: Mapped[int] = mapped_column(Integer)
    impact: Mapped[int | None] = mapped_column(Integer, nullable=True)
    onzekerheid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    horizon: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1 binnen 5 jaar, 2 5-10 jaar, 3 na 10 jaar
    relevantie: Mapped[int | None] = mapped_column(Integer, nullable=True)
    toelichting: Mapped[str | None] = mapped_column(Text, nullable=True)
    reden: Mapped[str | None] = mapped_column(Text, nullable=True)  # why a score changed in a later round
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, onupdate=now)
