"""The SQL that ships with frontscan, and the column arrays the batch upserts bind.

Statements live in `.sql` files, not Python strings: `sql/queries.sql` holds every query
as a `-- name:` block (`QUERIES[name]`), and the numbered `sql/NNN_*.sql` files are the
migrations, applied by set membership. The batch writes bind one array per column
(`unnest`), so a batch of any size is one statement per table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from frontscan.models import Mention, Outcome

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_queries() -> dict[str, str]:
    """The named blocks of `sql/queries.sql`: SQL lives in .sql files, not in Python strings."""
    text = resources.files("frontscan.ledger").joinpath("sql", "queries.sql").read_text("utf-8")
    queries: dict[str, str] = {}
    for block in text.split("-- name: ")[1:]:
        name, _, body = block.partition("\n")
        queries[name.strip()] = body.strip().rstrip(";")
    return queries


QUERIES = load_queries()


def load_migrations() -> list[Migration]:
    """The numbered SQL files shipped in `frontscan/ledger/sql`, in order."""
    found = []
    for entry in resources.files("frontscan.ledger").joinpath("sql").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


def ms(value: float | None) -> float | None:
    """Front times have millisecond precision; round away float noise from the round trip."""
    return None if value is None else round(value, 3)


def conversation_columns(outcomes: Sequence[Outcome], run_id: int | None) -> list[Any]:
    return [
        run_id,
        [o.conversation.id for o in outcomes],
        [o.conversation.subject for o in outcomes],
        [o.last_message_id for o in outcomes],
        [o.conversation.updated_at for o in outcomes],
        [o.scanned_through for o in outcomes],
        [o.status for o in outcomes],
        [o.error for o in outcomes],
    ]


def message_columns(pairs: Sequence[tuple[Outcome, Any]]) -> list[Any]:
    return [
        [m.id for _, m in pairs],
        [o.conversation.id for o, _ in pairs],
        [m.created_at for _, m in pairs],
        [m.content_hash for _, m in pairs],
        [m.extractor_version for _, m in pairs],
        [m.status for _, m in pairs],
    ]


def number_columns(numbers: Sequence[Any], run_id: int | None) -> list[Any]:
    return [
        run_id,
        [n.tracking_number for n in numbers],
        [n.carrier for n in numbers],
        [n.format for n in numbers],
        [n.checksum_valid for n in numbers],
        [n.source for n in numbers],
        [n.confidence for n in numbers],
        [n.conversation_id for n in numbers],
        [n.message_id for n in numbers],
        [n.snippet for n in numbers],
        [n.status for n in numbers],
        [n.expected_delivery for n in numbers],
        [n.order_reference for n in numbers],
        [n.direction for n in numbers],
    ]


def mention_rows(mentions: Sequence[Mention]) -> list[tuple[Any, ...]]:
    """One `upsert_shipment` row per mention of the number in a message's own text, oldest
    statement first (the order they apply); a quoted mention states nothing."""
    spoken = [m for m in mentions if not m.quoted]
    ordered = sorted(spoken, key=lambda m: (m.stated_at, m.message_id, m.tracking_number))
    return [
        (m.tracking_number, m.carrier, m.conversation_id, m.message_id, m.stated_at, m.status,
         m.expected_delivery, m.order_reference)
        for m in ordered
    ]  # fmt: skip


def mention_columns(mentions: Sequence[Mention], run_id: int | None) -> list[Any]:
    """The `upsert_mentions` arrays: one row per (message, number), the last one kept (one
    statement may not update a row twice, and a batch could hold a message twice)."""
    rows = list({(m.message_id, m.tracking_number): m for m in mentions}.values())
    return [
        run_id,
        [m.message_id for m in rows],
        [m.tracking_number for m in rows],
        [m.conversation_id for m in rows],
        [m.carrier for m in rows],
        [m.stated_at for m in rows],
        [m.status for m in rows],
        [m.expected_delivery for m in rows],
        [m.order_reference for m in rows],
        [m.direction for m in rows],
        [m.quoted for m in rows],
    ]
