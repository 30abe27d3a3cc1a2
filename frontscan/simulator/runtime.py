"""Start and stop both fake servers on loopback, for tests, demos and benchmarks.

`running_simulator` is the one entry point: it builds the mailbox, binds both apps to
free ports (port 0) through `aiohttp.web.AppRunner`/`TCPSite`, and always cleans up, so a
test that fails mid-way leaves no listening socket or unclosed runner behind.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from frontscan.simulator.batch_jobs import BatchOptions
from frontscan.simulator.corpus import load_corpus
from frontscan.simulator.front_routes import FULL_SCOPES
from frontscan.simulator.front_server import FrontOptions, create_front_app
from frontscan.simulator.mailbox import Mailbox
from frontscan.simulator.openai_model import MistakeRates
from frontscan.simulator.openai_server import OpenAIOptions, create_openai_app
from frontscan.simulator.stats import SimStats

FRONT_LATENCY_MS = 50.0  # mean per request at latency_scale 1.0
OPENAI_BASE_MS = 150.0
OPENAI_PER_TOKEN_MS = 1.0


def day_anchor(now: datetime | None = None) -> datetime:
    """Midnight UTC at the start of `now`'s day (default: today): the mailbox's end."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class SimulatorOptions:
    """Everything that shapes a simulator run. Rates are per-request probabilities (0..1).

    `start`/`end` bound the mailbox's activity; None means the 30 days before today's
    midnight UTC (the only wall-clock use, so a CLI demo has recent mail). The anchor is
    rounded to the day so two runs of one seed serve the same mailbox whatever second
    they start: same ids, bodies and times (on another day, times shift by whole days).
    `corpus` is a directory of `.eml` files with an `expected.json`: served instead of the
    generated mailbox (see `simulator.corpus`). `printed_forms` prints the generated
    numbers as carriers do (see `Mailbox.generate`).
    """

    conversations: int = 500
    seed: int = 1
    start: datetime | None = None
    end: datetime | None = None
    front_rpm: int = 100
    openai_rpm: int = 500
    openai_tpm: int = 200_000
    latency_scale: float = 1.0
    fault_rate: float = 0.0
    mistake_rate: float = 0.0
    unbacked_status_rate: float = 0.0  # answers claiming a status their message does not back
    obeys_injections: bool = False  # a model that follows instructions planted in mail
    short_page_rate: float = 0.0
    extra_429_rate: float = 0.0
    quota_exhausted: bool = False
    azure_mode: bool = False
    realistic: bool = False  # long HTML mail, newsletters, deep threads (simulator.realistic)
    front_port: int = 0
    openai_port: int = 0
    host: str = "127.0.0.1"
    front_token: str = "sim-front-token"
    openai_key: str = "sk-sim-openai-key"
    front_scopes: tuple[str, ...] = FULL_SCOPES  # what the Front token was granted
    event_body_drop_rate: float = 0.0  # share of event messages served without `body`
    batch: BatchOptions = field(default_factory=BatchOptions)
    corpus: Path | None = None
    printed_forms: bool = False

    def window(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        end = self.end or day_anchor(now)
        start = self.start or end - timedelta(days=30)
        return start, end

    def front(self) -> FrontOptions:
        return FrontOptions(
            token=self.front_token,
            rpm=self.front_rpm,
            latency_ms=FRONT_LATENCY_MS * self.latency_scale,
            fault_rate=self.fault_rate,
            short_page_rate=self.short_page_rate,
            extra_429_rate=self.extra_429_rate,
            seed=self.seed,
            scopes=self.front_scopes,
            event_body_drop_rate=self.event_body_drop_rate,
        )

    def openai(self) -> OpenAIOptions:
        return OpenAIOptions(
            api_key=self.openai_key,
            rpm=self.openai_rpm,
            tpm=self.openai_tpm,
            base_latency_ms=OPENAI_BASE_MS * self.latency_scale,
            per_token_ms=OPENAI_PER_TOKEN_MS * self.latency_scale,
            fault_rate=self.fault_rate,
            extra_429_rate=self.extra_429_rate,
            mistakes=replace(
                MistakeRates.overall(self.mistake_rate),
                unbacked_status=self.unbacked_status_rate,
                obeys_injections=self.obeys_injections,
            ),
            quota_exhausted=self.quota_exhausted,
            azure_mode=self.azure_mode,
            seed=self.seed,
            batch=self.batch,
        )


@dataclass(frozen=True, slots=True)
class RunningSimulator:
    """Both servers, up: their URLs and credentials, the mailbox and live counters."""

    front_url: str
    openai_url: str
    front_token: str
    openai_key: str
    mailbox: Mailbox
    front_stats: SimStats
    openai_stats: SimStats

    def stats(self) -> dict[str, Any]:
        return {"front": self.front_stats.snapshot(), "openai": self.openai_stats.snapshot()}

    def rate_limited(self) -> int:
        """429s sent so far by both servers, of every kind."""
        return sum(self.front_stats.rate_limited.values()) + sum(
            self.openai_stats.rate_limited.values()
        )

    def env(self) -> dict[str, str]:
        """The environment frontscan reads, pointing at this simulator."""
        return {
            "FRONT_API_URL": self.front_url,
            "FRONT_API_TOKEN": self.front_token,
            "OPENAI_BASE_URL": self.openai_url,
            "OPENAI_API_KEY": self.openai_key,
        }


@asynccontextmanager
async def serving(
    app: web.Application, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """Serve one app until the block exits; yields its base URL (`http://host:port`)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        yield f"http://{host}:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def running_simulator(options: SimulatorOptions) -> AsyncIterator[RunningSimulator]:
    """Serve the fake Front and OpenAI until the block exits."""
    start, end = options.window()
    if options.corpus is not None:
        mailbox = load_corpus(options.corpus)
    else:
        mailbox = Mailbox.generate(
            options.conversations,
            options.seed,
            start,
            end,
            realistic=options.realistic,
            printed_forms=options.printed_forms,
        )
    front_stats, openai_stats = SimStats(), SimStats()
    front_app = create_front_app(mailbox, options.front(), front_stats)
    openai_app = create_openai_app(mailbox, options.openai(), openai_stats)
    async with (
        serving(front_app, options.host, options.front_port) as front_url,
        serving(openai_app, options.host, options.openai_port) as openai_url,
    ):
        yield RunningSimulator(
            front_url=front_url,
            openai_url=f"{openai_url}/v1",
            front_token=options.front_token,
            openai_key=options.openai_key,
            mailbox=mailbox,
            front_stats=front_stats,
            openai_stats=openai_stats,
        )


def serve(
    options: SimulatorOptions, announce: Callable[[RunningSimulator], None] | None = None
) -> None:
    """Run both servers until Ctrl-C; `announce` is called once they listen."""

    async def main() -> None:
        async with running_simulator(options) as sim:
            if announce is not None:
                announce(sim)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
