"""`frontscan demo`: a real scan of a simulated inbox, then the old design on the same mail.

Nothing is faked on frontscan's side: the simulator serves Front and OpenAI on loopback,
the scan goes through `runner.scan` exactly as in production, into the embedded
PostgreSQL, so `frontscan status` and `frontscan export` work on the result afterwards.
"""

from __future__ import annotations

import time
from dataclasses import replace

from rich.console import Console
from rich.table import Table

from frontscan.config import Settings
from frontscan.ledger.connect import open_store
from frontscan.ledger.rows import FoundNumber
from frontscan.report import ScanReporter
from frontscan.runner import ScanRequest, ScanResult, scan
from frontscan.simulator.baseline import BaselineResult, run_baseline
from frontscan.simulator.runtime import RunningSimulator, SimulatorOptions, running_simulator
from frontscan.simulator.settings import simulator_settings
from frontscan.summary import print_summary

DAY = 86_400.0
DEMO_FRONT_RPM = 600
DEMO_OPENAI_RPM = 5_000
DEMO_OPENAI_TPM = 2_000_000


def demo_options(conversations: int, seed: int) -> SimulatorOptions:
    """A Front plan with a raised limit and a tier-2 OpenAI account, realistic latency."""
    return SimulatorOptions(
        conversations=conversations,
        seed=seed,
        front_rpm=DEMO_FRONT_RPM,
        openai_rpm=DEMO_OPENAI_RPM,
        openai_tpm=DEMO_OPENAI_TPM,
        latency_scale=1.0,
        mistake_rate=0.05,
    )


def demo_settings(settings: Settings, sim: RunningSimulator) -> Settings:
    """The user's settings pointed at the demo simulator and the embedded database."""
    return simulator_settings(settings, sim, openai_rpm=DEMO_OPENAI_RPM, openai_tpm=DEMO_OPENAI_TPM)


async def run_demo(
    settings: Settings, reporter: ScanReporter, console: Console, *, conversations: int, seed: int
) -> None:
    options = demo_options(conversations, seed)
    if settings.database.url:
        reporter.note(
            "DATABASE_URL is ignored by the demo: its data goes to the embedded "
            "database, never to yours"
        )
    after = time.time() - 31 * DAY
    ours: list[ScanResult] = []
    async with running_simulator(options) as sim:
        reporter.note(
            f"simulated inbox: {conversations} conversations, {len(sim.mailbox.truth)} "
            f"tracking numbers; Front {options.front_rpm} rpm (a plan with the rate-limit "
            f"add-on), OpenAI {options.openai_rpm} rpm / {options.openai_tpm:,} tpm"
        )
        await _forget_earlier_demo(settings, sim)
        with reporter:
            ours.append(
                await scan(demo_settings(settings, sim), ScanRequest(after=after), reporter)
            )
            _new_mail(sim)
            reporter.note(f"new mail in {len(_changed(sim))} conversations: the cron run")
            ours.append(
                await scan(demo_settings(settings, sim), ScanRequest(after=after), reporter)
            )
        truth = {(t.conversation_id, t.tracking_number) for t in sim.mailbox.truth}
    found = await _found(settings, ours)
    console.print(_found_table(found))
    print_summary(ours[0].summary, json_mode=False, console=console)
    console.print(
        "\n[bold]The old design on the same inbox[/] (batches of 10, 1 s pause, "
        "no rate limiting), before and after the same new mail..."
    )
    old: list[tuple[BaselineResult, int]] = []
    async with running_simulator(options) as sim:
        for round_ in range(2):
            if round_:
                _new_mail(sim)
            result = await run_baseline(
                "batches",
                front_url=sim.front_url,
                front_token=sim.front_token,
                openai_url=sim.openai_url,
                openai_key=sim.openai_key,
                after=after,
                before=None,
            )
            old.append((result, sim.rate_limited()))
    console.print(_comparison(ours, found, truth, old))
    console.print(
        "\nThe results stay in the embedded database: try "
        "[bold]frontscan status[/] and [bold]frontscan export --format csv[/]."
    )


async def _forget_earlier_demo(settings: Settings, sim: RunningSimulator) -> None:
    """A repeated demo simulates the same inbox: clear its earlier results, nothing else."""
    async with open_store(_embedded(settings)) as store:
        await store.forget(list(sim.mailbox.conversations))


def _embedded(settings: Settings) -> Settings:
    return replace(settings, database=replace(settings.database, url=None))


def _changed(sim: RunningSimulator) -> list[str]:
    """Every twentieth conversation gets a new reply (with new numbers) after the first run."""
    return [c.id for c in sim.mailbox.by_activity()[::20]]


def _new_mail(sim: RunningSimulator) -> None:
    sim.mailbox.append_messages(_changed(sim), rng_seed=11, at=time.time() - 60)


async def _found(settings: Settings, runs: list[ScanResult]) -> list[FoundNumber]:
    async with open_store(_embedded(settings)) as store:
        return await store.numbers_of_runs(
            [r.summary.run_id for r in runs if r.summary.run_id is not None]
        )


def _found_table(rows: list[FoundNumber], limit: int = 15) -> Table:
    table = Table(
        title=f"{len(rows)} tracking numbers in the ledger for this run"
        + (f" (first {limit})" if len(rows) > limit else "")
    )
    for name in ("carrier", "tracking number", "source", "conversation", "message"):
        table.add_column(name)
    for row in rows[:limit]:
        table.add_row(
            row.carrier, row.tracking_number, row.source, row.conversation_id, row.message_id
        )
    return table


def _comparison(
    ours: list[ScanResult],
    found: list[FoundNumber],
    truth: set[tuple[str, str]],
    old: list[tuple[BaselineResult, int]],
) -> Table:
    mine = {(r.conversation_id, r.tracking_number) for r in found}
    theirs = old[0][0].numbers | old[1][0].numbers
    full, cron = ours[0].summary, ours[1].summary
    table = Table(title="frontscan vs the old design, same simulated inbox and limits")
    for name in ("", "frontscan", "old design"):
        table.add_column(name, justify="right" if name else "left")
    rows = [
        ("first scan: wall time", f"{full.wall_seconds:.1f} s", f"{old[0][0].seconds:.1f} s"),
        ("cron run after new mail", f"{cron.wall_seconds:.1f} s", f"{old[1][0].seconds:.1f} s"),
        (
            "conversations read by the cron run",
            f"{cron.stats.conversations_scanned}",
            f"{old[1][0].conversations}",
        ),
        (
            "true numbers found",
            f"{len(mine & truth)} of {len(truth)}",
            f"{len(theirs & truth)} of {len(truth)}",
        ),
        ("false numbers stored", f"{len(mine - truth)}", f"{len(theirs - truth)}"),
        (
            "429s received",
            f"{full.stats.rate_limited + cron.stats.rate_limited}",
            f"{old[0][1] + old[1][1]}",
        ),
        ("first scan vs the rate-limit bound", f"{full.ratio_to_bound:.0%}", "-"),
    ]
    for row in rows:
        table.add_row(*row)
    return table
