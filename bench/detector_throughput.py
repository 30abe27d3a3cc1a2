"""Throughput of the detector and the message cleaner on a few MB of synthetic e-mail.

Run: .venv/bin/python bench/detector_throughput.py [megabytes]
Messages mix ordinary prose, distractors (phones, dates, order ids, cards, money) and
valid numbers of every format, some printed in groups; about half carry a quoted reply.
"""

from __future__ import annotations

import random
import sys
import time

from frontscan.detector.carriers import find_candidates
from frontscan.detector.text import clean_message
from frontscan.simulator.samples import BASE_SAMPLE_FORMATS, printed_groups, valid_number

PROSE = [
    "Thanks for reaching out about your recent purchase, we are looking into it right away.",
    "The warehouse team confirmed that everything was packed and handed to the courier.",
    "Could you please confirm the delivery address before we send the replacement?",
    "We apologise for the delay; the holiday season has been busier than expected.",
    "Let me know if there is anything else I can help you with today.",
]


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


def main() -> None:
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 4.0
    rng = random.Random(2026)
    messages: list[str] = []
    size = 0
    while size < megabytes * 1_000_000:
        messages.append(message(rng))
        size += len(messages[-1])
    total_mb = size / 1_000_000

    started = time.perf_counter()
    found = sum(len(find_candidates(m)) for m in messages)
    detect_seconds = time.perf_counter() - started

    started = time.perf_counter()
    for m in messages:
        clean_message("", m)
    clean_seconds = time.perf_counter() - started

    print(f"{len(messages)} messages, {total_mb:.2f} MB, {found} candidates")
    print(f"find_candidates: {total_mb / detect_seconds:6.2f} MB/s")
    print(f"clean_message:   {total_mb / clean_seconds:6.2f} MB/s")


if __name__ == "__main__":
    main()
