"""OpenAI spend per conversation: evidence windows, the whole-text prompt, the old design.

On the simulator's realistic mailbox (long HTML notices with footers, newsletters with
no number, quoted threads several replies deep), each strategy gets a fresh simulator
(same seed, so the same mailbox, fresh buckets) and is scored against the ground truth:

  evidence    frontscan as it is: evidence windows, a completion budget sized to the
              answer, no call when the detector is sure (`openai.prompt = "evidence"`)
  whole       frontscan before: each message's whole new text, a fixed 400-token
              completion budget, a call for every candidate (`openai.prompt = "whole"`)
  old         the design frontscan replaces: the whole thread, 2,000 completion tokens,
              batches of 10 with a 1 s sleep, no rate limiting

Reported per strategy, all from the simulator's own counters (what the server saw):
model calls, prompt / completion tokens per conversation, TPM charged per conversation,
cost per 1,000 conversations (for the old design: per conversation it did not lose to a
429), recall and precision, wall time, and two ratios to the
TPM bound: `server` = (TPM the server charged, less what its bucket held at the start)
/ TPM, over the wall time, and frontscan's own summary figure (computed from the headers).

    python -m bench.openai --conversations 300 --openai-tpm 120000

Writes bench/openai.png (tokens per conversation and throughput per strategy). Loopback
only; about three minutes at the defaults.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would shadow
# the openai package: put the repository root there instead.
_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import io  # noqa: E402
import tempfile  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402

import pgserver  # noqa: E402

from bench.throughput import END, START, stored_pairs, truth_pairs  # noqa: E402
from frontscan.config import ScanSettings, Settings  # noqa: E402
from frontscan.models import Prompting, ScanRequest  # noqa: E402
from frontscan.prompt import cost_usd  # noqa: E402
from frontscan.report import make_reporter  # noqa: E402
from frontscan.runner import scan  # noqa: E402
from frontscan.simulator.baseline import run_baseline  # noqa: E402
from frontscan.simulator.runtime import (  # noqa: E402
    RunningSimulator,
    SimulatorOptions,
    running_simulator,
)
from frontscan.simulator.settings import simulator_settings  # noqa: E402

MODEL = "gpt-4o-mini"


@dataclass
class Row:
    name: str
    conversations: int
    seconds: float
    calls: int
    prompt_tokens: int
    completion_tokens: int
    tokens_charged: int
    recall: float
    precision: float
    rate_limited: int
    server_ratio: float
    summary_ratio: float | None = None
    avoided: int | None = None
    total: int = 0  # every conversation in the window, lost ones included

    @property
    def good_per_second(self) -> float:
        """Conversations scanned correctly per second: recall times all conversations."""
        return (self.total or self.conversations) * self.recall / self.seconds

    def per_conversation(self, value: int) -> float:
        return value / self.conversations if self.conversations else 0.0

    @property
    def cost_per_1000(self) -> float:
        cost = cost_usd(MODEL, self.prompt_tokens, self.completion_tokens)
        return 1000 * cost / self.conversations if self.conversations else 0.0

    def line(self) -> str:
        summary = f"{self.summary_ratio:8.2f}" if self.summary_ratio is not None else "       -"
        return (
            f"{self.name:<10}{self.calls:7d}{self.per_conversation(self.prompt_tokens):9.0f}"
            f"{self.per_conversation(self.completion_tokens):8.1f}"
            f"{self.per_conversation(self.tokens_charged):9.0f}{self.cost_per_1000:9.4f}"
            f"{self.recall:8.1%}{self.precision:8.1%}{self.seconds:8.1f}{self.rate_limited:6d}"
            f"{self.server_ratio:8.2f}{summary}"
        )


HEADER = (
    f"{'strategy':<10}{'calls':>7}{'prompt':>9}{'compl.':>8}{'charged':>9}{'$/1000':>9}"
    f"{'recall':>8}{'prec.':>8}{'wall s':>8}{'429s':>6}{'server':>8}{'summary':>8}"
)


def server_ratio(sim: RunningSimulator, tpm: int, seconds: float) -> float:
    """The TPM bound from the server's own charges, over the wall time."""
    bound = 60.0 * max(0, sim.openai_stats.tokens_charged - tpm) / tpm
    return bound / seconds if seconds > 0 else 0.0


def score(sim: RunningSimulator, found: set[tuple[str, str]]) -> tuple[float, float]:
    truth = truth_pairs(sim)
    hits = len(found & truth)
    return hits / len(truth), hits / len(found) if found else 1.0


async def frontscan_row(
    sim: RunningSimulator, dsn: str, args: argparse.Namespace, prompting: Prompting
) -> Row:
    base = Settings(scan=ScanSettings(concurrency=args.concurrency, batch_size=50))
    settings = simulator_settings(
        base, sim, openai_rpm=args.openai_rpm, openai_tpm=args.openai_tpm, database_url=dsn
    )
    settings = replace(settings, openai=replace(settings.openai, prompt=prompting))
    with make_reporter(tty=False, stream=io.StringIO()) as reporter:
        result = await scan(
            settings,
            ScanRequest(
                after=START.timestamp(), before=END.timestamp() + 86_400, slice_days=90, rescan=True
            ),
            reporter,
        )
    s = result.summary
    recall, precision = score(sim, await stored_pairs(dsn))
    stats = sim.openai_stats
    return Row(
        prompting,
        s.stats.conversations_scanned + s.stats.conversations_failed,
        s.wall_seconds,
        stats.total_requests,
        stats.prompt_tokens,
        stats.completion_tokens,
        stats.tokens_charged,
        recall,
        precision,
        sum(stats.rate_limited.values()),
        server_ratio(sim, args.openai_tpm, s.wall_seconds),
        s.ratio_to_bound,
        s.stats.model_calls_avoided,
    )


async def old_row(sim: RunningSimulator, args: argparse.Namespace) -> Row:
    result = await run_baseline(
        "batches",
        front_url=sim.front_url,
        front_token=sim.front_token,
        openai_url=sim.openai_url,
        openai_key=sim.openai_key,
        after=START.timestamp(),
        before=END.timestamp() + 86_400,
    )
    recall, precision = score(sim, result.numbers)
    stats = sim.openai_stats
    return Row(
        "old",
        result.conversations - result.failed,  # per conversation it actually scanned
        result.seconds,
        stats.total_requests,
        stats.prompt_tokens,
        stats.completion_tokens,
        stats.tokens_charged,
        recall,
        precision,
        sum(stats.rate_limited.values()),
        server_ratio(sim, args.openai_tpm, result.seconds),
        total=result.conversations,
    )


def plot(rows: list[Row], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.name for r in rows]
    fig, (tokens, speed) = plt.subplots(1, 2, figsize=(10, 4))
    prompt = [r.per_conversation(r.prompt_tokens) for r in rows]
    completion = [r.per_conversation(r.completion_tokens) for r in rows]
    charged = [r.per_conversation(r.tokens_charged) for r in rows]
    xs = range(len(rows))
    tokens.bar([x - 0.2 for x in xs], prompt, 0.4, label="prompt (usage)")
    tokens.bar([x - 0.2 for x in xs], completion, 0.4, bottom=prompt, label="completion (usage)")
    tokens.bar([x + 0.2 for x in xs], charged, 0.4, label="TPM charged", color="grey")
    tokens.set_xticks(list(xs), names)
    tokens.set_ylabel("tokens per conversation")
    tokens.legend()
    good = [r.good_per_second for r in rows]
    speed.bar(names, good, color="tab:green")
    speed.set_ylabel("conversations scanned correctly per second")
    for x, row in enumerate(rows):
        label = f"{row.server_ratio:.2f} of TPM bound" if row.server_ratio else "not TPM-bound"
        speed.annotate(label, (x, good[x]), ha="center", va="bottom")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


async def main(args: argparse.Namespace) -> None:
    options = SimulatorOptions(
        conversations=args.conversations,
        seed=args.seed,
        start=START,
        end=END,
        front_rpm=args.front_rpm,
        openai_rpm=args.openai_rpm,
        openai_tpm=args.openai_tpm,
        latency_scale=args.latency,
        realistic=True,
    )
    title = (
        f"{args.conversations} realistic conversations; OpenAI {args.openai_rpm} rpm / "
        f"{args.openai_tpm} tpm; Front {args.front_rpm} rpm"
    )
    print(title + "\n")
    print(HEADER)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = pgserver.get_server(Path(tmp), cleanup_mode="stop")
        try:
            for strategy in args.strategies:
                async with running_simulator(options) as sim:
                    if strategy == "old":
                        rows.append(await old_row(sim, args))
                    elif strategy in ("evidence", "whole"):
                        rows.append(await frontscan_row(sim, server.get_uri(), args, strategy))
                print(rows[-1].line(), flush=True)
        finally:
            server.cleanup()
    for row in rows:
        if row.avoided is not None:
            print(f"{row.name}: {row.avoided} model calls avoided (the detector was sure)")
    if args.plot:
        plot(rows, Path(args.plot), title)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=300)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--front-rpm", type=int, default=2000)
    parser.add_argument("--openai-rpm", type=int, default=500)
    parser.add_argument("--openai-tpm", type=int, default=120_000)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--strategies", nargs="+", default=["evidence", "whole", "old"],
        choices=["evidence", "whole", "old"],
    )  # fmt: skip
    parser.add_argument("--plot", default=str(Path(__file__).with_suffix(".png")))
    asyncio.run(main(parser.parse_args()))
