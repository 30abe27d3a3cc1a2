"""What one batch of conversation outcomes writes, inside the caller's transaction.

The online scan (`Store.record`, under a commit key) and batch collection
(`ledger.batches`) write outcomes the same way: conversations, their messages, the
numbers, each mention and the parcels it moves, and the run's counters, all in one
transaction so a crash leaves every conversation either fully recorded or untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import psycopg

from frontscan.ledger.statements import (
    QUERIES,
    conversation_columns,
    mention_columns,
    mention_rows,
    message_columns,
    number_columns,
)
from frontscan.models import Outcome

logger = logging.getLogger(__name__)


async def record_in(
    conn: psycopg.AsyncConnection[Any], outcomes: Sequence[Outcome], run_id: int | None
) -> int:
    """Write outcomes inside the caller's transaction; returns how many new numbers.

    The run row's counters grow in the same transaction, so a killed run's row shows
    what it committed.
    """
    if not outcomes:
        return 0
    await conn.execute(QUERIES["upsert_conversations"], conversation_columns(outcomes, run_id))
    done = [o for o in outcomes if o.status == "done"]
    messages = [(o, m) for o in done for m in o.messages]
    if messages:
        await conn.execute(QUERIES["upsert_messages"], message_columns(messages))
    numbers = [n for o in done for n in o.numbers]
    stored = 0
    if numbers:
        cursor = await conn.execute(QUERIES["insert_numbers"], number_columns(numbers, run_id))
        stored = len(await cursor.fetchall())
    mentions = [m for o in done for m in o.mentions]
    if mentions:
        await conn.execute(QUERIES["upsert_mentions"], mention_columns(mentions, run_id))
        if shipment_rows := mention_rows(mentions):  # oldest first: each moves its row
            async with conn.cursor() as many:
                await many.executemany(QUERIES["upsert_shipment"], shipment_rows)
    if run_id is not None:
        progress = (len(done), len(outcomes) - len(done), len(messages), stored, run_id)
        await conn.execute(QUERIES["run_progress"], progress)
    return stored


def log_commit(
    outcomes: Sequence[Outcome], run_id: int | None, stored: int, seconds: float
) -> None:
    failed = [o for o in outcomes if o.status == "failed"]
    for outcome in failed:
        logger.info(
            "conversation %s failed: %s", outcome.conversation.id, outcome.error,
            extra={"event": "conversation.failed", "conversation_id": outcome.conversation.id,
                   "cause": outcome.error, "run_id": run_id},
        )  # fmt: skip
    logger.info(
        "committed %d conversations (%d failed), %d new numbers in %.3f s",
        len(outcomes), len(failed), stored, seconds,
        extra={"event": "ledger.commit", "conversations": len(outcomes), "failed": len(failed),
               "numbers": stored, "seconds": round(seconds, 3), "run_id": run_id},
    )  # fmt: skip
