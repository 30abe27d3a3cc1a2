"""Shipments end to end: the simulator's mailbox, the real SDK, a real PostgreSQL.

Every stored mention must say what the simulator's writer meant (status, order
reference, expected date, direction), and each parcel's `shipments` row must hold the
latest word on it, whatever older "shipped" mails its threads quote.
"""

from __future__ import annotations

from datetime import date, datetime

import psycopg
import pytest

from frontscan.shipment import latest
from frontscan.simulator.mailbox import Mailbox, TruthMention
from frontscan.simulator.runtime import running_simulator
from tests.mention_truth import compare_mentions
from tests.scanning import END, START, fast_options, run_scan, settings_for


async def _rows(dsn: str, query: str) -> list[tuple[object, ...]]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(query)
        return [tuple(row) for row in await cursor.fetchall()]


def _expected_shipments(
    mailbox: Mailbox, numbers: set[str]
) -> dict[str, tuple[str, str | None, list[str], date | None]]:
    """Per parcel: latest status, the message that said it, order references, expected date."""
    by_number: dict[str, list[TruthMention]] = {}
    for mention in mailbox.mentions:  # oldest first
        by_number.setdefault(mention.tracking_number, []).append(mention)
    expected = {}
    for number in numbers:
        mentions = by_number[number]
        status, at = latest((m.status, m.stated_at) for m in mentions)
        said_by = next((m.message_id for m in mentions if m.stated_at == at), None)
        orders = sorted({m.order_reference for m in mentions if m.order_reference})
        dated = [m.expected_delivery for m in mentions if m.expected_delivery]
        expected[number] = (status, said_by, orders, dated[-1] if dated else None)
    return expected


@pytest.mark.slow
@pytest.mark.parametrize("realistic", [False, True])
async def test_every_mention_and_every_parcel_matches_the_ground_truth(
    database_url: str, realistic: bool
) -> None:
    options = fast_options(260, seed=23, unbacked_status_rate=0.3, realistic=realistic)
    async with running_simulator(options) as sim:
        settings = settings_for(sim, database_url)
        result = await run_scan(settings, after=START.timestamp())
        unbacked = sim.stats()["openai"]["mistakes"].get("unbacked_status", 0)
        mailbox = sim.mailbox
    assert result.summary.status == "succeeded"
    numbers = await _rows(
        database_url,
        "SELECT message_id, tracking_number, status, order_reference, expected_delivery,"
        " direction FROM frontscan.tracking_numbers",
    )
    assert len(numbers) > 100
    wrong = []
    for message_id, number, status, order, expected, direction in numbers:
        truth = mailbox.mention(str(message_id), str(number))
        assert truth is not None, (message_id, number)
        said = (truth.status, truth.order_reference, truth.expected_delivery, truth.direction)
        if (status, order, expected, direction) != said:
            wrong.append((message_id, number, (status, order, expected, direction), said))
    assert not wrong, wrong[:5]
    assert {row[2] for row in numbers} >= {"label_created", "in_transit", "exception"}
    assert {row[3] is not None for row in numbers} == {True, False}
    assert {row[4] is not None for row in numbers} == {True, False}
    # The drop-and-count rule: every status the model claimed without a backing phrase.
    assert unbacked > 5
    assert result.summary.stats.claims_dropped == unbacked

    shipments = await _rows(
        database_url,
        "SELECT tracking_number, status, status_message_id, order_references,"
        " expected_delivery FROM frontscan.shipments",
    )
    assert len(shipments) == len({row[1] for row in numbers})
    expected = _expected_shipments(mailbox, {str(row[0]) for row in shipments})
    got = {str(r[0]): (r[1], r[2], r[3], r[4]) for r in shipments}
    mismatched = {n: (got[n], expected[n]) for n in got if got[n] != expected[n]}
    assert not mismatched, list(mismatched.items())[:5]
    assert {row[0] for row in got.values()} >= {"delivered", "exception", "out_for_delivery"}

    # Every mention, not only the first: one row per (message, number), as the truth says.
    mentions = await compare_mentions(database_url, mailbox)
    assert not mentions.wrong, mentions.wrong[:5]
    assert not mentions.missing, mentions.missing[:5]
    assert not mentions.extra, mentions.extra[:5]
    assert len(mentions.rows) > len(numbers) * 3 // 2  # later mails and replies, per number
    quoted = [row for row in mentions.rows if row[6]]
    assert len(quoted) > 50
    assert {row[2] for row in quoted} == {"unknown"}
    # The shipments row is the fold of the number's own-word mentions, in sending order.
    history: dict[str, list[tuple[str, float]]] = {}
    for row in sorted(mentions.rows, key=lambda r: (float(str(r[7])), str(r[0]))):
        if not row[6]:
            history.setdefault(str(row[1]), []).append((str(row[2]), float(str(row[7]))))
    assert {n: latest(said)[0] for n, said in history.items()} == {
        n: status for n, (status, *_) in got.items()
    }


@pytest.mark.slow
async def test_a_quoted_old_shipped_mail_never_moves_a_parcel_back(database_url: str) -> None:
    """Complaints and thanks quote the first "shipped" mail under a newer word; a rescan
    reads every old mail again after the newer ones are recorded."""
    async with running_simulator(fast_options(200, seed=5)) as sim:
        settings = settings_for(sim, database_url)
        await run_scan(settings, after=START.timestamp())
        before = await _rows(database_url, "SELECT * FROM frontscan.shipments ORDER BY 1")
        said = (
            "SELECT message_id, tracking_number, stated_at, status, expected_delivery,"
            " order_reference, direction, quoted FROM frontscan.mentions ORDER BY 1, 2"
        )
        mentions_before = await _rows(database_url, said)
        await run_scan(settings, after=START.timestamp(), rescan=True)
        after = await _rows(database_url, "SELECT * FROM frontscan.shipments ORDER BY 1")
        mentions_after = await _rows(database_url, said)
        mailbox = sim.mailbox
    strip = [row[:-1] for row in before]  # all but updated_at
    assert [row[:-1] for row in after] == strip
    assert mentions_after == mentions_before  # a rescan reads the same, row for row
    # Replies sent after the parcel's latest word, naming it only in their quote of an
    # older mail: each is in its history, none moved the parcel.
    status_at = {str(row[0]): row[6] for row in before}
    later_quotes = [
        row for row in mentions_before
        if row[7] and isinstance(at := status_at[str(row[1])], datetime)
        and isinstance(row[2], datetime) and row[2] > at
    ]  # fmt: skip
    assert len(later_quotes) >= 3
    quoted_under_newer = 0
    status_of = {str(row[0]): str(row[5]) for row in before}
    for conversation in mailbox.conversations.values():
        first = conversation.messages[0]
        for later in conversation.messages[1:]:
            if first.plain not in later.plain.replace("> ", "").replace(">\n", "\n"):
                continue
            for mention in mailbox.mentions:
                if mention.message_id == first.id and mention.status == "in_transit":
                    now = status_of.get(mention.tracking_number)
                    if now not in (None, "in_transit"):
                        quoted_under_newer += 1
    assert quoted_under_newer >= 3


@pytest.mark.slow
async def test_a_reply_in_a_later_run_is_a_mention_of_the_numbers_stored_before(
    database_url: str,
) -> None:
    """Cron: new replies quote (and sometimes name) parcels an earlier run stored; the
    incremental scan reads only the new mail and still records each of those mentions."""
    async with running_simulator(fast_options(60, seed=31)) as sim:
        settings = settings_for(sim, database_url)
        await run_scan(settings, after=START.timestamp())
        first = await compare_mentions(database_url, sim.mailbox)
        stored = {str(row[8]) for row in first.rows}
        changed = [c.id for c in sim.mailbox.by_activity() if c.id in stored][:20]
        sim.mailbox.append_messages(changed, rng_seed=5, at=END.timestamp() - 3600)
        again = await run_scan(settings, after=START.timestamp())
        mailbox = sim.mailbox
        later = await compare_mentions(database_url, mailbox)
    assert again.summary.stats.conversations_scanned == len(changed) == 20
    assert (later.wrong, later.missing, later.extra) == ([], [], [])
    replies = {c.messages[-1].id for c in mailbox.conversations.values() if c.id in changed}
    new_rows = [row for row in later.rows if row[0] in replies]
    numbers_before = {(str(row[8]), str(row[1])) for row in first.rows}
    about_earlier = [row for row in new_rows if (str(row[8]), str(row[1])) in numbers_before]
    assert sum(bool(row[6]) for row in about_earlier) >= 8  # quoted, stored by run one
    assert len(later.rows) == len(first.rows) + len(new_rows)
