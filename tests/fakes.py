"""In-memory fakes of the pipeline's four Protocols (`frontscan.ports`), driven by events.

Each fake records what it was asked and can be held at a gate (an `asyncio.Event`) so a
test decides exactly when a conversation, a model call or a commit finishes: no
subprocess, no sleeps, no timing windows. The mail looks like real mail: HTML bodies with
a stub plain part, tracking numbers printed in groups.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from frontscan.limits.bound import ApiUsage
from frontscan.models import (
    BatchTiming,
    Claim,
    ConversationMessages,
    ConversationRef,
    LedgerEntry,
    Message,
    ModelCall,
    Outcome,
    Plan,
    ScanRequest,
    SearchPage,
    Window,
)

UPS = "1Z999AA10123456784"  # valid check digit
UPS_PRINTED = "1Z 999 AA1 01 2345 6784"


def ref(index: int) -> ConversationRef:
    return ConversationRef(
        id=f"cnv_{index}",
        subject=f"Re: where is order #{1000 + index}?",
        last_message_id=f"msg_{index}",
        updated_at=1_770_000_000.0 + index,
    )


def mail(conversation: ConversationRef) -> Message:
    """One inbound message as Front sends it: an HTML body and Front's plain rendering."""
    number = conversation.id.removeprefix("cnv_")
    order = 1000 + int(number)
    body = (
        f"<html><body><div>Hi Sam,</div><div>your parcel for order #{order} is on its way. "
        f"UPS tracking number: <b>{UPS_PRINTED}</b>"
        f' (<a href="https://www.ups.com/track?tracknum={UPS}">track it</a>).</div>'
        "<div>Thanks, the shop team</div></body></html>"
    )
    text = (
        f"Hi Sam,\nyour parcel for order #{order} is on its way. "
        f"UPS tracking number: {UPS_PRINTED} (track it).\nThanks, the shop team"
    )
    return Message(
        id=conversation.last_message_id or f"msg_{number}",
        conversation_id=conversation.id,
        created_at=(conversation.updated_at or 1_770_000_000.0) - 60,
        type="email",
        is_inbound=True,
        subject=conversation.subject,
        body=body,
        text=text,
    )


def plan(request: ScanRequest | None = None, *, concurrency: int = 2, batch_size: int = 10) -> Plan:
    """A plan over one open window that asks the model for every conversation."""
    return Plan(
        request=request or ScanRequest(after=1_769_904_000.0),
        llm="always",
        model="gpt-4o-mini",
        max_completion_tokens=500,
        slices=(Window(after=1_769_904_000.0, before=None),),
        concurrency=concurrency,
        batch_size=batch_size,
    )


async def settle() -> None:
    """Let every task that can run, run, until all are waiting on something (no clock)."""
    for _ in range(100):
        await asyncio.sleep(0)


class FakeSource:
    """Search pages of refs; each conversation's messages, optionally held at a gate."""

    def __init__(self, refs: Sequence[ConversationRef], page_size: int = 5) -> None:
        self.refs = list(refs)
        self.page_size = page_size
        self.gates: dict[str, asyncio.Event] = {}
        self.errors: dict[str, BaseException] = {}
        self.fetched: list[str] = []  # conversation ids, in the order work started
        self.started = asyncio.Event()  # set each time a fetch starts (tests clear it)
        self.windows: list[Window] = []

    def hold(self, *ids: str) -> None:
        for conversation_id in ids:
            self.gates[conversation_id] = asyncio.Event()

    def release(self, *ids: str) -> None:
        for conversation_id in ids:
            self.gates[conversation_id].set()

    async def search(self, window: Window) -> AsyncIterator[SearchPage]:
        self.windows.append(window)
        for start in range(0, len(self.refs), self.page_size):
            yield SearchPage(tuple(self.refs[start : start + self.page_size]), len(self.refs))

    async def messages_since(
        self, conversation_id: str, since: float | None
    ) -> ConversationMessages:
        self.fetched.append(conversation_id)
        self.started.set()
        if (gate := self.gates.get(conversation_id)) is not None:
            await gate.wait()
        if (error := self.errors.get(conversation_id)) is not None:
            raise error
        conversation = next(r for r in self.refs if r.id == conversation_id)
        return ConversationMessages((mail(conversation),))


class FakeExtractor:
    """Confirms every UPS number it is shown; usage grows by what each call really used."""

    def __init__(self, completion_tokens: int = 40) -> None:
        self.calls: list[ModelCall] = []
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self._completion_tokens = completion_tokens
        self._usage = ApiUsage()

    async def extract(self, call: ModelCall) -> tuple[Claim, ...]:
        self.calls.append(call)
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        u = self._usage
        self._usage = ApiUsage(
            calls=u.calls + 1,
            prompt_tokens=u.prompt_tokens + call.prompt_tokens,
            completion_tokens=u.completion_tokens + self._completion_tokens,
        )
        user = call.messages[-1].content
        message_id = user.split('<message id="', 1)[1].split('"', 1)[0]
        return (Claim(message_id=message_id, tracking_number=UPS_PRINTED, carrier="UPS"),)

    def usage(self) -> ApiUsage:
        return self._usage


@dataclass
class FakeLedger:
    """Remembers committed batches; can fail, or hold each commit at a gate."""

    entries: dict[str, LedgerEntry] = field(default_factory=dict)
    batches: list[list[Outcome]] = field(default_factory=list)
    fail_with: BaseException | None = None
    gate: asyncio.Event | None = None
    committed: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0  # commits currently held at the gate

    async def ledger_for(self, ids: Sequence[str]) -> dict[str, LedgerEntry]:
        return {i: self.entries[i] for i in ids if i in self.entries}

    async def record(self, outcomes: Sequence[Outcome], run_id: int | None) -> int:
        if self.gate is not None:
            self.waiting += 1
            await self.gate.wait()
            self.waiting -= 1
        if self.fail_with is not None:
            raise self.fail_with
        self.batches.append(list(outcomes))
        self.committed.set()
        return sum(len(o.numbers) for o in outcomes)

    @property
    def recorded(self) -> list[str]:
        return [o.conversation.id for batch in self.batches for o in batch]


@dataclass
class FakeReporter:
    """Keeps every event the pipeline reports, in order."""

    totals: list[int] = field(default_factory=list)
    skips: list[int] = field(default_factory=list)
    done: list[Outcome] = field(default_factory=list)
    timings: list[BatchTiming] = field(default_factory=list)

    def add_total(self, conversations: int) -> None:
        self.totals.append(conversations)

    def skipped(self, conversations: int) -> None:
        self.skips.append(conversations)

    def conversation_done(self, outcome: Outcome) -> None:
        self.done.append(outcome)

    def batch_committed(self, timing: BatchTiming) -> None:
        self.timings.append(timing)
