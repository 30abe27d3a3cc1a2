"""One conversation at a time: a later ref for a conversation still in flight waits for the
earlier one's commit (the event stream hands a conversation on in pieces when new mail
arrives mid-scan), and is dropped if that outcome failed. In-memory fakes, no clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from frontscan.errors import ItemError
from frontscan.models import ConversationMessages, ConversationRef, SearchPage, Window
from frontscan.pipeline import Pipeline
from tests.fakes import FakeExtractor, FakeLedger, FakeReporter, FakeSource, plan, ref, settle

WAIT = 10.0


class PagedSource(FakeSource):
    """Yields the given pages in order; the producer may be held between pages."""

    def __init__(self, pages: Sequence[Sequence[ConversationRef]]) -> None:
        super().__init__([r for page in pages for r in page])
        self.pages = [tuple(page) for page in pages]
        self.between = asyncio.Event()
        self.commits_at_fetch: list[tuple[str, int]] = []
        self.ledger: FakeLedger | None = None

    async def search(self, window: Window) -> AsyncIterator[SearchPage]:
        for index, page in enumerate(self.pages):
            if index:
                await self.between.wait()
            yield SearchPage(page, None)

    async def messages_since(
        self, conversation_id: str, since: float | None
    ) -> ConversationMessages:
        batches = len(self.ledger.batches) if self.ledger else 0
        self.commits_at_fetch.append((conversation_id, batches))
        return await super().messages_since(conversation_id, since)


def run_with(source: PagedSource, ledger: FakeLedger) -> Pipeline:
    source.ledger = ledger
    return Pipeline(
        plan(concurrency=2, batch_size=1), source, FakeExtractor(), ledger, FakeReporter()
    )


async def test_a_second_piece_waits_for_the_first_pieces_commit() -> None:
    first, other = ref(1), ref(2)
    piece = ConversationRef(
        id=first.id, subject=first.subject, last_message_id=None, updated_at=None
    )
    source, ledger = PagedSource([[first, other], [piece]]), FakeLedger()
    source.hold(first.id)
    running = asyncio.create_task(run_with(source, ledger).run())
    await settle()
    source.between.set()  # the second piece arrives while the first is still in flight
    await settle()
    assert [c for c, _ in source.commits_at_fetch].count(first.id) == 1  # not started twice
    source.release(first.id)
    stats = await asyncio.wait_for(running, WAIT)
    fetches = [(c, n) for c, n in source.commits_at_fetch if c == first.id]
    assert len(fetches) == 2
    committed_before_second = [
        o.conversation.id for b in ledger.batches[: fetches[1][1]] for o in b
    ]
    assert first.id in committed_before_second  # the first piece was committed first
    assert ledger.recorded.count(first.id) == 2
    assert stats.conversations_scanned == 3


async def test_a_piece_waiting_on_a_failed_outcome_is_dropped() -> None:
    first = ref(1)
    piece = ConversationRef(
        id=first.id, subject=first.subject, last_message_id=None, updated_at=None
    )
    source, ledger = PagedSource([[first], [piece]]), FakeLedger()
    source.hold(first.id)
    source.errors[first.id] = ItemError("Front GET /conversations/cnv_1/messages: 503")
    running = asyncio.create_task(run_with(source, ledger).run())
    await settle()
    source.between.set()
    await settle()
    source.release(first.id)
    stats = await asyncio.wait_for(running, WAIT)
    assert [c for c, _ in source.commits_at_fetch] == [first.id]  # never worked on again
    assert [o.status for b in ledger.batches for o in b] == ["failed"]
    assert (stats.conversations_failed, stats.conversations_skipped) == (1, 1)
