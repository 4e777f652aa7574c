"""What OAI-PMH serves: a projection of each record as anonymous harvesters may see it.

Kept up to date after every commit that changes a record (``lms.catalog.hooks``), so List
requests read one indexed table and pre-rendered metadata, never the whole catalogue.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import TZDateTime
from lms.extensions import db


class OaiItem(db.Model):
    __tablename__ = "oai_items"
    __table_args__ = (Index("ix_oai_items_datestamp_record", "datestamp", "record_id"),)

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"),
                                           primary_key=True)
    datestamp: Mapped[datetime] = mapped_column(TZDateTime)
    deleted: Mapped[bool] = mapped_column(default=False)
    # Space-separated setSpecs, for the header; membership queries use oai_item_sets.
    set_specs: Mapped[str] = mapped_column(Text, default="")
    oai_dc: Mapped[str] = mapped_column(Text, default="")
    qdc: Mapped[str] = mapped_column(Text, default="")
    # Empty in rows written before these formats existed: rendered on request until refreshed.
    marcxml: Mapped[str] = mapped_column(Text, default="", server_default="")
    mods: Mapped[str] = mapped_column(Text, default="", server_default="")


class OaiItemSet(db.Model):
    __tablename__ = "oai_item_sets"
    __table_args__ = (Index("ix_oai_item_sets_spec_datestamp", "set_spec", "datestamp",
                            "record_id"),)

    record_id: Mapped[int] = mapped_column(
        ForeignKey("oai_items.record_id", ondelete="CASCADE"), primary_key=True)
    set_spec: Mapped[str] = mapped_column(String(200), primary_key=True)
    # A copy of the item's datestamp, so a set's List pages use one index.
    datestamp: Mapped[datetime] = mapped_column(TZDateTime)
