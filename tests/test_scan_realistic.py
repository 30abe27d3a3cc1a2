"""A scan of mail printed as real notifications are: grouped numbers, stub plain parts, ids.

With `printed_forms`, the simulator prints numbers in every carrier grouping (no-break
spaces, hyphens, dots, a line break, HTML spans), gives shop notices a stub plain part
and footers with shipment ids and Unix timestamps in URLs. The ledger must still hold
exactly the ground truth: nothing lost to the stub (neither a number nor the status the
HTML states), nothing taken from a URL.
"""

from __future__ import annotations

import psycopg

from frontscan.simulator.runtime import running_simulator
from tests.scanning import START, fast_options, run_scan, settings_for, stored, truth_in_window


async def test_realistic_mail_stores_exactly_the_truth(database_url: str) -> None:
    async with running_simulator(fast_options(200, printed_forms=True)) as sim:
        messages = [m for c in sim.mailbox.conversations.values() for m in c.messages]
        stubs = [m for m in messages if m.text is not None and m.text.startswith("View this")]
        assert len(stubs) >= 10
        assert sum("/ship/" in m.plain for m in messages) >= 10
        assert sum("<span>" in m.body for m in messages) >= 5
        settings = settings_for(sim, database_url)
        result = await run_scan(settings, after=START.timestamp())
        rows = await stored(database_url)
        expected = truth_in_window(sim, START.timestamp())
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            cursor = await conn.execute(
                "SELECT source, count(*) FROM frontscan.tracking_numbers GROUP BY source"
            )
            sources: dict[str, int] = dict(await cursor.fetchall())
            cursor = await conn.execute(
                "SELECT message_id, tracking_number, status FROM frontscan.tracking_numbers"
            )
            statuses = [tuple(row) for row in await cursor.fetchall()]
        mailbox = sim.mailbox
    assert result.summary.status == "succeeded"
    false, missing = sorted(set(rows) - expected), sorted(expected - set(rows))
    assert not false, f"stored but not true: {false}"
    assert not missing, f"true but not stored: {missing}"
    assert sources.get("both", 0) > 0
    # Each mention's status as the writer meant it, also where the status line stands
    # only in the HTML part and the plain part merely points at the browser version.
    wrong = []
    for message_id, number, status in statuses:
        truth = mailbox.mention(str(message_id), str(number))
        assert truth is not None, (message_id, number)
        if status != truth.status:
            wrong.append((message_id, number, status, truth.status))
    assert not wrong, wrong[:5]
