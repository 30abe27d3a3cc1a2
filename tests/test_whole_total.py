"""A scan's progress total is known from the start, where Front gives `_total`.

A long window is searched in slices; without an up-front count the bar's total grew slice
by slice ("23/71" early on). One search over the whole window gives Front's `_total`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from frontscan.models import SearchPage, Window
from frontscan.report import PlainReporter
from frontscan.runner import ScanRequest, scan
from frontscan.simulator.runtime import running_simulator
from frontscan.window import covering, whole_total
from tests.scanning import END, START, fast_options, settings_for


def test_covering_spans_every_slice_and_stays_open_where_one_is() -> None:
    slices = [Window(after=10.0, before=20.0), Window(after=19.0, before=30.0)]
    assert covering(slices) == Window(after=10.0, before=30.0)
    assert covering([*slices, Window(after=29.0, before=None)]) == Window(after=10.0, before=None)
    assert covering([Window(after=None, before=5.0), *slices]) == Window(after=None, before=30.0)


class Totals(PlainReporter):
    """A cron-style reporter that also keeps each total it was given, and when."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.totals: list[tuple[int, int]] = []  # (total added, conversations done so far)

    def add_total(self, conversations: int) -> None:
        self.totals.append((conversations, self.done))
        super().add_total(conversations)


async def test_a_sliced_scan_knows_its_total_before_the_first_conversation(
    database_url: str, tmp_path: Path
) -> None:
    async with running_simulator(fast_options(80)) as sim:
        with (tmp_path / "log").open("w") as log, Totals(log) as reporter:
            result = await scan(
                settings_for(sim, database_url),
                ScanRequest(after=START.timestamp(), before=END.timestamp(), slice_days=5),
                reporter,
            )
    assert result.summary.stats.conversations_scanned == 80
    assert reporter.totals == [(80, 0)]  # once, all of it, before any conversation was done
    assert reporter.total == reporter.done == 80


class Pages:
    """A source whose pages carry no `_total` (as an event stream would not)."""

    def __init__(self) -> None:
        self.closed = False

    async def search(self, window: Window) -> AsyncIterator[SearchPage]:
        try:
            yield SearchPage((), None)
        finally:
            self.closed = True


async def test_no_total_from_the_source_means_none_and_the_search_is_closed() -> None:
    day = timedelta(days=1).total_seconds()
    source = Pages()
    slices = [Window(after=0.0, before=day), Window(after=day, before=2 * day)]
    assert await whole_total(source, slices) is None  # type: ignore[arg-type]  # search only
    assert source.closed
    assert await whole_total(source, slices[:1]) is None  # type: ignore[arg-type]
