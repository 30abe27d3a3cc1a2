"""`frontscan demo`: a real scan of a simulated inbox, then the old design on the same mail.

Nothing is faked on frontscan's side: the simulator serves Front and OpenAI on loopback,
the scan goes through `runner.scan` exactly as in production, into the embedded
PostgreSQL, so `frontscan status` and `frontscan export` work on the result afterwards.

Four phases, each with its own progress display and its own summary, so no figure of
one run is mixed into another: frontscan's first scan, its cron run after new mail, and
the same two for the old design on a fresh simulator of the same seed (the same mailbox
and the same new mail). A side-by-side table closes the demo.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace

from rich.console import Console

from frontscan.config import Settings
from frontscan.demo_tables import OldRun, Pair, comparison, found_table, old_summary
from frontscan.ledger.connect import open_store, prepare
from frontscan.ledger.rows import FoundNumber
from frontscan.report import ScanReporter
from frontscan.runner import ScanRequest, ScanResult, scan
from frontscan.simulator.baseline import run_baseline
from frontscan.simulator.runtime import RunningSimulator, SimulatorOptions, running_simulator
from frontscan.simulator.settings import simulator_settings
from frontscan.summary import print_summary

DAY = 86_400.0
DEMO_FRONT_RPM = 600
DEMO_OPENAI_RPM = 5_000
DEMO_OPENAI_TPM = 2_000_000
OLD_DESIGN = "batches of 10, a 1 s pause between them, no rate limiting, no retries"

ReporterFor = Callable[[str], ScanReporter]  # a fresh progress display for each phase


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
    """The user's settings pointed at the demo simulator and the embedded database.

    The demo reads Front by search, as the old design does: both designs then make the same
    kind of Front calls, and search's `_total` gives every bar its total from the start
    (the event stream has no total, so its bar would grow page by page).
    """
    pointed = simulator_settings(
        settings, sim, openai_rpm=DEMO_OPENAI_RPM, openai_tpm=DEMO_OPENAI_TPM
    )
    return replace(pointed, front=replace(pointed.front, source="search"))


class _OldDesignProgress:
    """Feeds the old design's progress to a reporter; 429s as the simulator counted them."""

    def __init__(self, reporter: ScanReporter, sim: RunningSimulator) -> None:
        self._reporter, self._sim = reporter, sim
        self._before = sim.rate_limited()

    def rate_limited(self) -> int:
        return self._sim.rate_limited() - self._before

    def listed(self, conversations: int) -> None:
        self._reporter.add_total(conversations)

    def finished(self, numbers: int, failed: bool) -> None:
        self._reporter.tally(numbers=numbers, failed=failed, rate_limited=self.rate_limited())

    def batch_done(self, index: int, conversations: int, seconds: float, lost: int) -> None:
        self._reporter.note(
            f"old batch {index}: {conversations} conversations in {seconds:.1f} s, {lost} lost, "
            f"{self.rate_limited()} 429s so far"
        )


async def run_demo(
    settings: Settings,
    reporter_for: ReporterFor,
    console: Console,
    *,
    conversations: int,
    seed: int,
) -> None:
    options = demo_options(conversations, seed)
    if settings.database.url:
        console.print("DATABASE_URL is ignored by the demo: its data goes to the embedded "
                      "database, never to yours", markup=False)  # fmt: skip
    with console.status("starting the embedded PostgreSQL..."):
        database = await asyncio.to_thread(prepare, _embedded(settings))
    console.print(database.note(), markup=False, highlight=False)
    after = time.time() - 31 * DAY
    async with running_simulator(options) as sim:
        console.print(
            f"simulated inbox: {conversations} conversations, {len(sim.mailbox.truth)} "
            f"tracking numbers; Front {options.front_rpm} rpm (a plan with the rate-limit "
            f"add-on), OpenAI {options.openai_rpm} rpm / {options.openai_tpm:,} tpm",
            highlight=False,
        )
        await _forget_earlier_demo(settings, sim)
        first = await _our_phase(
            "1/4 frontscan: the first scan", "frontscan, first scan", settings, sim, after,
            reporter_for, console,
        )  # fmt: skip
        changed = _new_mail(sim)
        cron = await _our_phase(
            f"2/4 frontscan: a cron run after new mail in {_conversations(changed)}",
            "frontscan, cron run", settings, sim, after, reporter_for, console,
        )  # fmt: skip
        truth: Pair = {(t.conversation_id, t.tracking_number) for t in sim.mailbox.truth}
    found = await _found(settings, [first, cron])
    console.print(found_table(found))
    async with running_simulator(options) as sim:
        old_first = await _old_phase(
            "3/4 the old design: the first scan",
            "old design, first scan", sim, after, truth, reporter_for, console,
        )  # fmt: skip
        changed = _new_mail(sim)
        old_cron = await _old_phase(
            f"4/4 the old design: the cron run after new mail in {_conversations(changed)}",
            "old design, cron run", sim, after, truth, reporter_for, console,
        )  # fmt: skip
    console.rule("frontscan and the old design, side by side")
    console.print(comparison((first.summary, cron.summary), found, truth, (old_first, old_cron)))
    console.print(
        f"\nThe results stay in {database.described()}: try [bold]frontscan status[/] and "
        "[bold]frontscan export --format csv[/]; [bold]frontscan db stop[/] stops the server."
    )


async def _our_phase(
    heading: str,
    label: str,
    settings: Settings,
    sim: RunningSimulator,
    after: float,
    reporter_for: ReporterFor,
    console: Console,
) -> ScanResult:
    console.rule(heading)
    with reporter_for(label) as reporter:
        result = await scan(demo_settings(settings, sim), ScanRequest(after=after), reporter)
    print_summary(result.summary, json_mode=False, console=console)
    return result


async def _old_phase(
    heading: str,
    label: str,
    sim: RunningSimulator,
    after: float,
    truth: Pair,
    reporter_for: ReporterFor,
    console: Console,
) -> OldRun:
    console.rule(heading)
    console.print(f"the design frontscan replaced: {OLD_DESIGN}", highlight=False)
    with reporter_for(label) as reporter:
        progress = _OldDesignProgress(reporter, sim)
        result = await run_baseline(
            "batches",
            front_url=sim.front_url,
            front_token=sim.front_token,
            openai_url=sim.openai_url,
            openai_key=sim.openai_key,
            after=after,
            before=None,
            progress=progress,
        )
    run = OldRun(result=result, rate_limited=progress.rate_limited())
    console.print(old_summary(label, run, truth))
    return run


async def _forget_earlier_demo(settings: Settings, sim: RunningSimulator) -> None:
    """A repeated demo simulates the same inbox: clear its earlier results, nothing else."""
    async with open_store(_embedded(settings)) as store:
        await store.forget(list(sim.mailbox.conversations))


def _embedded(settings: Settings) -> Settings:
    return replace(settings, database=replace(settings.database, url=None))


def _conversations(ids: list[str]) -> str:
    return f"{len(ids)} conversation" + ("" if len(ids) == 1 else "s")


def _new_mail(sim: RunningSimulator) -> list[str]:
    """Every twentieth conversation gets a new reply (with new numbers) after the first run."""
    changed = [c.id for c in sim.mailbox.by_activity()[::20]]
    sim.mailbox.append_messages(changed, rng_seed=11, at=time.time() - 60)
    return changed


async def _found(settings: Settings, runs: list[ScanResult]) -> list[FoundNumber]:
    async with open_store(_embedded(settings)) as store:
        return await store.numbers_of_runs(
            [r.summary.run_id for r in runs if r.summary.run_id is not None]
        )
