"""The `frontscan simulate` command: serve both fakes and print how to point frontscan at them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from frontscan.simulator.front_routes import FULL_SCOPES
from frontscan.simulator.runtime import RunningSimulator, SimulatorOptions, serve


def simulate(
    conversations: Annotated[
        int, typer.Option(min=0, help="Conversations in the generated mailbox.")
    ] = 500,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same mailbox.")] = 1,
    days: Annotated[int, typer.Option(min=1, help="Spread activity over the last N days.")] = 30,
    front_rpm: Annotated[
        int,
        typer.Option(min=1, help="Front company rate limit (requests/minute); search gets 40%."),
    ] = 100,
    openai_rpm: Annotated[int, typer.Option(min=1, help="OpenAI requests per minute.")] = 500,
    openai_tpm: Annotated[int, typer.Option(min=1, help="OpenAI tokens per minute.")] = 200_000,
    latency: Annotated[
        float, typer.Option(min=0.0, help="Latency scale: 0 = instant, 1 = realistic-ish.")
    ] = 1.0,
    faults: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of requests that fail (5xx, resets).")
    ] = 0.0,
    mistakes: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of model answers with a mistake.")
    ] = 0.0,
    short_pages: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of Front pages cut short.")
    ] = 0.0,
    extra_429: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of requests refused with a 429.")
    ] = 0.0,
    quota_exhausted: Annotated[
        bool, typer.Option(help="Every OpenAI request gets 429 insufficient_quota.")
    ] = False,
    azure: Annotated[
        bool, typer.Option(help="Send retry-after/retry-after-ms on OpenAI 429s, like Azure.")
    ] = False,
    no_events_scope: Annotated[
        bool,
        typer.Option(
            "--no-events-scope", help="The Front token lacks events:*:read (GET /events: 403)."
        ),
    ] = False,
    event_body_drop: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Share of event messages served without a body."),
    ] = 0.0,
    realistic: Annotated[
        bool,
        typer.Option(help="Mail as it really arrives: long HTML, newsletters, deep threads."),
    ] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    front_port: Annotated[int, typer.Option(min=0, help="Front port (0 = any free port).")] = 0,
    openai_port: Annotated[int, typer.Option(min=0, help="OpenAI port (0 = any free port).")] = 0,
    printed_forms: Annotated[
        bool,
        typer.Option(help="Numbers in every carrier grouping, stub plain parts, ids in URLs."),
    ] = False,
    corpus: Annotated[
        Path | None,
        typer.Option(help="Serve a directory of .eml files with an expected.json instead."),
    ] = None,
) -> None:
    """Serve a fake Front and a fake OpenAI on this machine until Ctrl-C.

    Try, demo or benchmark frontscan without real accounts, under limits, faults and mistakes.

    Prints `export` lines for the shell that runs frontscan (the simulator's own tokens).
    """
    if corpus is not None and not (corpus / "expected.json").is_file():
        raise typer.BadParameter(
            f"{corpus} has no expected.json; pass a directory like tests/corpus",
            param_hint="--corpus",
        )
    end = datetime.now(UTC).replace(microsecond=0)
    options = SimulatorOptions(
        conversations=conversations,
        seed=seed,
        start=end - timedelta(days=days),
        end=end,
        front_rpm=front_rpm,
        openai_rpm=openai_rpm,
        openai_tpm=openai_tpm,
        latency_scale=latency,
        fault_rate=faults,
        mistake_rate=mistakes,
        short_page_rate=short_pages,
        extra_429_rate=extra_429,
        quota_exhausted=quota_exhausted,
        azure_mode=azure,
        front_scopes=tuple(s for s in FULL_SCOPES if not (no_events_scope and "events" in s)),
        event_body_drop_rate=event_body_drop,
        realistic=realistic,
        host=host,
        front_port=front_port,
        openai_port=openai_port,
        printed_forms=printed_forms,
        corpus=corpus,
    )
    serve(options, _announce)


def _announce(sim: RunningSimulator) -> None:
    for name, value in sim.env().items():
        print(f"export {name}={value}")
    truth = sim.mailbox.truth
    print(
        f"# {len(sim.mailbox.conversations)} conversations, {len(truth)} planted tracking numbers"
    )
    print(f"# stats: curl {sim.front_url}/_sim/stats ; curl {sim.openai_url[:-3]}/_sim/stats")
    print("# Ctrl-C to stop", flush=True)
