"""The rate-limit bound: the fastest a run's work could have gone under its limits.

Benchmarks and the summary report throughput as a ratio to it (DESIGN §4), so it lives
beside the budgets whose rates it divides by.
"""

from __future__ import annotations


def bound_seconds(
    *,
    front_calls: int,
    front_rpm: float,
    llm_calls: int,
    openai_rpm: float,
    llm_tokens: int,
    openai_tpm: float,
    conversations: int,
    latency_seconds: float,
    concurrency: int,
) -> float:
    """The fastest this work could possibly have run (DESIGN §4), in seconds.

    Whichever budget is tightest sets the pace: each rate-limited resource needs
    amount / per-minute-rate minutes, and latency caps what `concurrency` workers can do.
    A rate of 0 means "not limited / not used", so that term is left out.
    """
    budgets = ((front_calls, front_rpm), (llm_calls, openai_rpm), (llm_tokens, openai_tpm))
    terms = [60.0 * amount / per_minute for amount, per_minute in budgets if per_minute > 0]
    terms.append(0.0)
    if concurrency > 0:
        terms.append(conversations * latency_seconds / concurrency)
    return max(terms)
