"""Throughput of the detector and the message cleaner on a few MB of synthetic e-mail.

Run: .venv/bin/python bench/detector_throughput.py [megabytes]
     .venv/bin/python bench/detector_throughput.py --compare OLD_TREE [megabytes] [--reps N]
     .venv/bin/python bench/detector_throughput.py --mailbox 1800 [--compare OLD_TREE]

Messages mix ordinary prose, distractors (phones, dates, order ids, cards, money) and
valid numbers of every format, some printed in groups; about half carry a quoted reply.
`--mailbox N` reads instead the new and the quoted text of every message of N simulator
conversations written as real mail is (long HTML notices, newsletters, deep threads,
numbers in every printed form), cleaned by this tree.

`--compare` times `find_candidates` of this tree and of another checkout (say a
`git worktree` of an older commit) on exactly the same messages: each side runs in a
fresh subprocess with its own tree on PYTHONPATH, the two alternate, and CPU time
(`time.process_time`) is reported beside wall time, because on a shared machine wall
time measures the neighbours as much as the detector.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from frontscan.detector.carriers import find_candidates
from frontscan.detector.text import clean_message
from frontscan.simulator.mailbox import Mailbox
from frontscan.simulator.samples import BASE_SAMPLE_FORMATS, printed_groups, valid_number

PROSE = [
    "Thanks for reaching out about your recent purchase, we are looking into it right away.",
    "The warehouse team confirmed that everything was packed and handed to the courier.",
    "Could you please confirm the delivery address before we send the replacement?",
    "We apologise for the delay; the holiday season has been busier than expected.",
    "Let me know if there is anything else I can help you with today.",
]
HERE = Path(__file__).resolve().parent.parent
# Run in the subprocess: load the messages, time the tree's find_candidates on them.
_WORKER = """
import json, sys, time
from frontscan.detector.carriers import find_candidates
messages = json.load(open(sys.argv[1], encoding="utf-8"))
wall, cpu = time.perf_counter(), time.process_time()
found = sum(len(find_candidates(m)) for m in messages)
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
print(json.dumps({"found": found, "cpu": cpu, "wall": wall}))
"""


def distractor(rng: random.Random) -> str:
    n = rng.randint
    return rng.choice(
        [
            f"Call us at {n(200, 999)}-{n(200, 999)}-{n(1000, 9999)} if needed.",
            f"Your order #{n(100, 999)}-{n(10**6, 10**7 - 1)}-{n(10**6, 10**7 - 1)} is confirmed.",
            f"Paid with card ending {n(1000, 9999)} on {n(1, 28):02d}/{n(1, 12):02d}/2026.",
            f"Total ${n(5, 900)}.{n(0, 99):02d}, invoice INV{n(10**8, 10**9)}.",
            f"Delivered at {n(0, 23):02d}:{n(0, 59):02d} on 2026-{n(1, 12):02d}-{n(1, 28):02d}.",
            f"My number is {n(200, 999)} {n(200, 999)} {n(1000, 9999)}, text me.",
        ]
    )


def message(rng: random.Random) -> str:
    parts = [rng.choice(PROSE) for _ in range(rng.randint(2, 6))]
    parts += [distractor(rng) for _ in range(rng.randint(1, 3))]
    number = valid_number(rng.choice(BASE_SAMPLE_FORMATS), rng)
    shown = printed_groups(number) if rng.random() < 0.3 else number
    parts.insert(rng.randrange(len(parts) + 1), f"Your tracking number is {shown}.")
    rng.shuffle(parts)
    body = "Hi there,\n\n" + " ".join(parts) + "\n\nBest regards,\nSupport Team"
    if rng.random() < 0.5:
        quoted = "\n".join(f"> {line}" for line in message_text_only(rng).splitlines())
        body += f"\n\nOn Mon, Jan 5, 2026 at 10:0{rng.randint(0, 9)} AM Customer wrote:\n{quoted}"
    return body


def message_text_only(rng: random.Random) -> str:
    return " ".join(rng.choice(PROSE) for _ in range(3)) + " " + distractor(rng)


def corpus(megabytes: float) -> list[str]:
    """The same messages for the same size (seeded), whichever tree runs the detector."""
    rng = random.Random(2026)
    messages: list[str] = []
    size = 0
    while size < megabytes * 1_000_000:
        messages.append(message(rng))
        size += len(messages[-1])
    return messages


def mailbox_texts(conversations: int) -> list[str]:
    """What the detector reads of the simulator's realistic mail, 600 conversations a seed."""
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    texts: list[str] = []
    for seed in range(1, conversations // 600 + 2):
        count = min(600, conversations - 600 * (seed - 1))
        if count <= 0:
            break
        mailbox = Mailbox.generate(count, seed, start, end, realistic=True, printed_forms=True)
        for conversation in mailbox.conversations.values():
            for message in conversation.messages:
                cleaned = clean_message(message.body, message.text)
                texts += [cleaned.new, cleaned.quoted]
    return texts


def _timed(tree: Path, messages_file: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, messages_file],
        env=env, cwd=tree, capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout)
    return result


def compare(old: Path, messages: list[str], reps: int) -> None:
    size = sum(map(len, messages)) / 1_000_000
    runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as file:
        json.dump(messages, file)
        file.flush()
        for rep in range(reps):
            order = [("old", old), ("new", HERE)] if rep % 2 == 0 else [("new", HERE), ("old", old)]
            for side, tree in order:
                runs[side].append(_timed(tree, file.name))
    print(f"{len(messages)} texts, {size:.2f} MB, {reps} alternating runs per side")
    for side, tree in (("old", old), ("new", HERE)):
        cpu = [size / r["cpu"] for r in runs[side]]
        wall = [size / r["wall"] for r in runs[side]]
        print(
            f"{side} ({tree}): {int(runs[side][0]['found'])} candidates; find_candidates "
            f"CPU {statistics.median(cpu):.2f} MB/s (range {min(cpu):.2f}-{max(cpu):.2f}), "
            f"wall {statistics.median(wall):.2f} MB/s (range {min(wall):.2f}-{max(wall):.2f})"
        )
    ratios = [o["cpu"] / n["cpu"] for o, n in zip(runs["old"], runs["new"], strict=True)]
    print(f"new/old CPU MB/s, median of paired runs: {statistics.median(ratios):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("megabytes", nargs="?", type=float, default=4.0)
    parser.add_argument("--compare", type=Path, metavar="OLD_TREE")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--mailbox", type=int, metavar="CONVERSATIONS")
    args = parser.parse_args()
    messages = mailbox_texts(args.mailbox) if args.mailbox else corpus(args.megabytes)
    if args.compare is not None:
        compare(args.compare.resolve(), messages, args.reps)
        return
    total_mb = sum(map(len, messages)) / 1_000_000

    wall, cpu = time.perf_counter(), time.process_time()
    found = sum(len(find_candidates(m)) for m in messages)
    detect_cpu, detect_wall = time.process_time() - cpu, time.perf_counter() - wall

    wall, cpu = time.perf_counter(), time.process_time()
    for m in messages:
        clean_message("", m)
    clean_cpu, clean_wall = time.process_time() - cpu, time.perf_counter() - wall

    print(f"{len(messages)} texts, {total_mb:.2f} MB, {found} candidates")
    for name, cpu_s, wall_s in (
        ("find_candidates", detect_cpu, detect_wall),
        ("clean_message", clean_cpu, clean_wall),
    ):
        print(f"{name + ':':16} {total_mb / cpu_s:6.2f} MB/s CPU, {total_mb / wall_s:6.2f} wall")


if __name__ == "__main__":
    main()
