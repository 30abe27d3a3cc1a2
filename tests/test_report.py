"""The reporter's outputs: the batch line, the rate-limit bound, the summary, both displays.

Streams are real `io.StringIO` objects, so these tests see exactly the bytes an operator
(or a cron mail) would.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import fields

import pytest
from rich.console import Console

from frontscan.errors import Interrupted, ItemError
from frontscan.limits.bound import ApiUsage, bound_seconds, usage_bound
from frontscan.models import BatchTiming, ConversationRef, Outcome, RunStats, Window
from frontscan.ports import Reporter
from frontscan.report import (
    PlainReporter,
    RichReporter,
    ScanReporter,
    batch_line,
    make_reporter,
)
from frontscan.summary import Summary, print_summary, summary_table


def timing(index: int = 7, **overrides: float) -> BatchTiming:
    values: dict[str, float] = {
        "conversations": 20,
        "seconds": 3.14,
        "p95_seconds": 1.42,
        "numbers": 3,
        "failed": 0,
        "throttled": 0,
        "waited_seconds": 0.0,
    }
    values.update(overrides)
    return BatchTiming(
        index=index,
        conversations=int(values["conversations"]),
        seconds=values["seconds"],
        p95_seconds=values["p95_seconds"],
        numbers=int(values["numbers"]),
        failed=int(values["failed"]),
        throttled=int(values["throttled"]),
        waited_seconds=values["waited_seconds"],
    )


def outcome(conversation_id: str, status: str = "done") -> Outcome:
    ref = ConversationRef(
        id=conversation_id, subject="subject", last_message_id=None, updated_at=None
    )
    if status == "failed":
        return Outcome(
            conversation=ref,
            status="failed",
            scanned_through=None,
            last_message_id=None,
            error="boom",
        )
    return Outcome(conversation=ref, status="done", scanned_through=1.0, last_message_id="msg_1")


def summary(**overrides: object) -> Summary:
    stats = RunStats(
        conversations_seen=300,
        conversations_scanned=120,
        conversations_skipped=175,
        conversations_failed=5,
        messages_processed=340,
        numbers_found=42,
        llm_dropped=1,
        batches=3,
        front_calls=425,
        openai_calls=60,
        prompt_tokens=91_234,
        completion_tokens=4_321,
        rate_limited=2,
        throttled_seconds=4.56789,
        model_calls_avoided=7,
    )
    values: dict[str, object] = {
        "run_id": 12,
        "status": "succeeded",
        "window": Window(after=1_793_491_200.0, before=None),  # 2026-11-01T00:00:00Z
        "stats": stats,
        "cost_usd": 0.0123456789,
        "wall_seconds": 100.0,
        "bound_seconds": 85.123456,
        "stop_reason": None,
        "dry_run": False,
    }
    values.update(overrides)
    return Summary(**values)  # type: ignore[arg-type]  # field overrides, checked on init


# -- batch_line -------------------------------------------------------------------------


def test_batch_line_matches_the_documented_format() -> None:
    assert batch_line(timing()) == (
        "batch 7: 20 conversations in 3.1 s, p95 1.4 s, 3 numbers, 0 failed, 0 throttled"
    )


def test_batch_line_uses_singular_for_one() -> None:
    line = batch_line(timing(1, conversations=1, numbers=1, failed=1, throttled=2))
    assert line == "batch 1: 1 conversation in 3.1 s, p95 1.4 s, 1 number, 1 failed, 2 throttled"


# -- bound_seconds ----------------------------------------------------------------------


def bound(**overrides: float) -> float:
    values: dict[str, float] = {
        "front_calls": 0,
        "front_rpm": 0,
        "llm_calls": 0,
        "openai_rpm": 0,
        "llm_tokens": 0,
        "openai_tpm": 0,
        "conversations": 0,
        "latency_seconds": 0,
        "concurrency": 0,
    }
    values.update(overrides)
    return bound_seconds(
        front_calls=int(values["front_calls"]),
        front_rpm=values["front_rpm"],
        llm_calls=int(values["llm_calls"]),
        openai_rpm=values["openai_rpm"],
        llm_tokens=int(values["llm_tokens"]),
        openai_tpm=values["openai_tpm"],
        conversations=int(values["conversations"]),
        latency_seconds=values["latency_seconds"],
        concurrency=int(values["concurrency"]),
    )


def test_bound_is_front_when_front_is_tightest() -> None:
    # 300 calls at 100/min = 3 min = 180 s; 50 LLM calls at 500/min = 6 s;
    # 20,000 tokens at 200,000/min = 6 s; 100 conv x 0.4 s / 20 = 2 s.
    assert bound(
        front_calls=300,
        front_rpm=100,
        llm_calls=50,
        openai_rpm=500,
        llm_tokens=20_000,
        openai_tpm=200_000,
        conversations=100,
        latency_seconds=0.4,
        concurrency=20,
    ) == pytest.approx(180.0)


def test_bound_is_tokens_when_tokens_are_tightest() -> None:
    # 100,000 tokens at 30,000/min = 200 s beats 120 calls at 60/min = 120 s.
    assert bound(
        front_calls=120, front_rpm=60, llm_calls=50, llm_tokens=100_000, openai_tpm=30_000
    ) == pytest.approx(200.0)


def test_bound_is_latency_when_concurrency_is_tightest() -> None:
    # 1,000 conversations x 2 s / 5 workers = 400 s; 200 Front calls at 200/min = 60 s.
    assert bound(
        front_calls=200, front_rpm=200, conversations=1_000, latency_seconds=2.0, concurrency=5
    ) == pytest.approx(400.0)


def test_bound_ignores_terms_without_a_rate() -> None:
    # --llm never: OpenAI rates 0 must not divide by zero or dominate.
    assert bound(front_calls=50, front_rpm=100, llm_calls=10) == pytest.approx(30.0)
    assert bound() == 0.0


# -- Summary ----------------------------------------------------------------------------


def test_summary_json_round_trips_with_every_key() -> None:
    data = json.loads(summary().to_json())
    head = ["run_id", "status", "window_after", "window_before"]
    tail = ["cost_usd", "wall_seconds", "bound_seconds", "stop_reason", "dry_run"]
    expected = [*head, *(f.name for f in fields(RunStats)), *tail, "ratio_to_bound"]
    expected += ["tokens_per_call", "cost_per_1000", "batch"]
    expected += ["database_away_seconds", "database_outages", "slices", "slice_days"]
    expected += ["untrusted_listings"]
    assert list(data) == expected
    assert data["tokens_per_call"] == round((91_234 + 4_321) / 60, 1)
    assert data["cost_per_1000"] == round(1000 * 0.0123456789 / 125, 6)  # scanned + failed
    assert data["run_id"] == 12
    assert data["window_after"] == "2026-11-01T00:00:00Z"
    assert data["window_before"] is None
    assert data["conversations_scanned"] == 120
    assert data["conversations_skipped"] == 175
    assert data["conversations_failed"] == 5
    assert data["cost_usd"] == 0.012346
    assert data["bound_seconds"] == 85.123
    assert data["throttled_seconds"] == 4.568
    assert data["ratio_to_bound"] == 0.851
    assert "\n" not in summary().to_json()


def test_ratio_to_bound_is_zero_for_a_run_that_took_no_time() -> None:
    assert summary(wall_seconds=0.0).ratio_to_bound == 0.0


def test_summary_table_has_the_operator_rows() -> None:
    console = Console(file=io.StringIO(), width=120)
    console.print(summary_table(summary(stop_reason="max-cost")))
    text = console.file.getvalue()  # type: ignore[attr-defined]  # the file is a StringIO
    for label in ("scanned", "skipped as up to date", "OpenAI calls", "429s", "max-cost"):
        assert label in text
    assert "85% of the rate-limit bound" in text
    assert "91,234 prompt + 4,321 completion" in text
    assert "$0.0123" in text
    assert "1 m 40 s" in text
    assert "60 (7 avoided: detector sure)" in text
    assert "per 1,000 conversations" in text


def test_print_summary_json_goes_to_stdout_only() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    print_summary(summary(), json_mode=True, console=Console(file=stderr), stdout=stdout)
    assert json.loads(stdout.getvalue())["status"] == "succeeded"
    assert stderr.getvalue() == ""


def test_print_summary_table_goes_to_the_console() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    print_summary(summary(), json_mode=False, console=Console(file=stderr), stdout=stdout)
    assert "scanned" in stderr.getvalue()
    assert stdout.getvalue() == ""


# -- reporters --------------------------------------------------------------------------


def without_ansi(text: str) -> str:
    """Drop colour and cursor codes: highlighting splits numbers out of the words around them."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def drive(reporter: ScanReporter) -> None:
    """A whole small run as the pipeline would report it: two pages, two batches."""
    as_protocol: Reporter = reporter  # the pipeline's Protocol, checked by mypy
    with reporter:
        reporter.note("using embedded PostgreSQL at /tmp/x [test]")
        as_protocol.add_total(5)
        as_protocol.skipped(2)
        as_protocol.conversation_done(outcome("cnv_1"))
        as_protocol.conversation_done(outcome("cnv_2", "failed"))
        as_protocol.batch_committed(timing(1, conversations=2, numbers=1, failed=1, throttled=1))
        as_protocol.add_total(1)
        as_protocol.skipped(0)
        as_protocol.conversation_done(outcome("cnv_3"))
        as_protocol.conversation_done(outcome("cnv_4"))
        as_protocol.batch_committed(
            timing(2, conversations=2, numbers=2, throttled=2, waited_seconds=4.0)
        )
        reporter.note("stopping: --max-cost reached")


def test_plain_reporter_writes_one_line_per_batch_and_nothing_to_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stream = io.StringIO()
    reporter = make_reporter(tty=False, stream=stream)
    assert isinstance(reporter, PlainReporter)
    drive(reporter)
    lines = stream.getvalue().splitlines()
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ "
    assert [line for line in lines if re.match(stamp + "batch ", line)] == [
        lines[1],
        lines[2],
    ]
    assert re.fullmatch(
        stamp + "batch 1: 2 conversations in 3.1 s, p95 1.4 s, 1 number, 1 failed, 1 throttled",
        lines[1],
    )
    assert lines[0].endswith(" using embedded PostgreSQL at /tmp/x [test]")
    assert lines[3].endswith(" stopping: --max-cost reached")
    assert len(lines) == 4
    assert capsys.readouterr().out == ""
    assert (reporter.done, reporter.total, reporter.numbers, reporter.failed) == (6, 6, 3, 1)
    assert (reporter.throttled, reporter.throttled_seconds) == (3, 4.0)  # summed over batches


def test_rich_reporter_survives_a_whole_run_and_keeps_the_batch_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=160)
    reporter = RichReporter(console)
    drive(reporter)
    plain = without_ansi(console.file.getvalue())  # type: ignore[attr-defined]  # a StringIO
    assert "batch 1: 2 conversations in 3.1 s" in plain
    assert "batch 2: 2 conversations in 3.1 s" in plain
    assert "using embedded PostgreSQL at /tmp/x [test]" in plain  # not eaten as markup
    assert "6/6" in plain  # skipped conversations fill the bar too
    assert "3 found" in plain
    assert "429s 3, 4 s waited" in plain
    assert capsys.readouterr().out == ""


def test_make_reporter_on_a_tty_draws_on_the_given_stream() -> None:
    stream = io.StringIO()
    reporter = make_reporter(tty=True, stream=stream)
    assert isinstance(reporter, RichReporter)
    drive(reporter)
    assert "batch 2: 2 conversations" in without_ansi(stream.getvalue())


# -- exit code --------------------------------------------------------------------------


def test_the_exit_code_is_a_property_of_the_summary() -> None:
    clean = summary(stats=RunStats(conversations_scanned=3))
    assert clean.problem is None
    assert clean.exit_code == 0
    failures = summary()  # 5 conversations failed
    assert isinstance(failures.problem, ItemError)
    assert "5 conversations failed" in str(failures.problem)
    assert failures.exit_code == 1
    capped = summary(stop_reason="max-cost", max_cost=0.5)
    assert "--max-cost 0.5" in str(capped.problem)
    assert capped.exit_code == 1
    interrupted = summary(stop_reason="interrupted")
    assert isinstance(interrupted.problem, Interrupted)
    assert interrupted.exit_code == 130


def test_a_runs_bound_counts_searches_against_their_share_of_the_front_budget() -> None:
    # 10 calls at 60/min = 10 s, but all 10 are searches, which may use half: 20 s.
    front = ApiUsage(calls=10, requests_per_minute=60, search_calls=10, search_share=0.5)
    assert usage_bound(front, ApiUsage(), concurrency=4) == pytest.approx(20.0)
    without_search = ApiUsage(calls=10, requests_per_minute=60, search_share=0.5)
    assert usage_bound(without_search, ApiUsage(), concurrency=4) == pytest.approx(10.0)
