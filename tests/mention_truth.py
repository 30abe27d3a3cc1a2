"""Every stored mention against the simulator's truth, for the end-to-end scan tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from frontscan.simulator.mailbox import Mailbox

Said = tuple[object, ...]  # status, order reference, expected date, direction, quoted, sent at


@dataclass
class Compared:
    """Stored mentions that differ from the truth, truth not stored, stored not true."""

    rows: list[tuple[object, ...]] = field(default_factory=list)
    wrong: list[tuple[str, str, Said, Said]] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    extra: list[tuple[str, str]] = field(default_factory=list)


async def compare_mentions(dsn: str, mailbox: Mailbox) -> Compared:
    """Each (message, number) row of `frontscan.mentions` must be a truth mention with the
    same fields, and each truth mention (own words or quote) of a number the scan stored
    for that conversation must have its row."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(
            "SELECT message_id, tracking_number, status, order_reference, expected_delivery,"
            " direction, quoted, extract(epoch FROM stated_at)::float8, conversation_id"
            " FROM frontscan.mentions"
        )
        rows = [tuple(row) for row in await cursor.fetchall()]
        cursor = await conn.execute(
            "SELECT conversation_id, tracking_number FROM frontscan.tracking_numbers"
        )
        pairs = {(str(c), str(n)) for c, n in await cursor.fetchall()}
    truth = {
        (m.message_id, m.tracking_number): m for m in [*mailbox.mentions, *mailbox.quoted_mentions]
    }
    result = Compared(rows=rows)
    seen = set()
    for message_id, number, status, order, expected, direction, quoted, at, _ in rows:
        key = (str(message_id), str(number))
        seen.add(key)
        said = truth.get(key)
        if said is None:
            result.extra.append(key)
            continue
        got = (status, order, expected, direction, quoted, round(float(str(at)), 3))
        want = (said.status, said.order_reference, said.expected_delivery, said.direction,
                said.quoted, round(said.stated_at, 3))  # fmt: skip
        if got != want:
            result.wrong.append((*key, got, want))
    result.missing = sorted(
        key for key, said in truth.items()
        if (said.conversation_id, said.tracking_number) in pairs and key not in seen
    )  # fmt: skip
    return result
