"""Shipment-update threads: a parcel's life told by mail, with its customer's complaints.

The first mail says a label was created or the parcel shipped, with the order reference
and often an expected date, in one of seven languages. Later mails move the parcels
along (out for delivery, delivered, an exception, back to the sender), sometimes one
line per parcel, sometimes in a sentence only a reader of the whole mail can map to its
numbers. Customers write "it never arrived" or "thanks" above a quote of the FIRST mail,
so the old "shipped" sits in the quote under a newer word: the case where a scanner that
reads quotes would move a parcel back.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from frontscan.simulator import content
from frontscan.simulator.content import Body, Planted, _paragraphs_to_html
from frontscan.simulator.records import SimConversation, SimMessage
from frontscan.simulator.updates import (
    GREETING,
    Said,
    complaint,
    language,
    order_reference,
    split_update,
    update,
    vague_pair,
)

# Where a parcel can go next, as its carrier would report it.
NEXT: dict[str, tuple[str, ...]] = {
    "label_created": ("in_transit",),
    "in_transit": ("out_for_delivery", "delivered", "exception"),
    "out_for_delivery": ("delivered", "exception"),
    "exception": ("out_for_delivery", "delivered", "returned"),
    "delivered": (),
    "returned": (),
}
THANKS = {"en": "Thanks, noted.", "de": "Danke, alles klar.", "fr": "Merci, c'est noté.",
          "es": "Gracias, entendido.", "nl": "Bedankt, genoteerd.", "pl": "Dziękuję, rozumiem.",
          "it": "Grazie, tutto chiaro."}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Step:
    """The next mail: its body and truth, new numbers, direction, and the mail it quotes."""

    body: Body
    said: Said
    fresh: list[Planted]
    inbound: bool
    quote: SimMessage | None


@dataclass(slots=True)
class _Thread:
    lang: str
    order: str
    parcels: list[Planted]
    status: dict[str, str] = field(default_factory=dict)
    last: str = "update"


class UpdateThreads:
    """Writes each update thread's next mail; keeps where each thread's parcels are."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._threads: dict[str, _Thread] = {}

    def next(
        self, conversation: SimConversation, at: float, plant: Callable[[int], list[Planted]]
    ) -> Step:
        rng = self.rng
        thread = self._threads.get(conversation.id)
        if thread is None or not conversation.messages:
            return self._first(conversation.id, at, plant)
        if thread.last == "complaint":
            thread.last = "reply"
            return Step(content.agent_reply(rng, [], []), Said(), [], False,
                        conversation.messages[-1])  # fmt: skip
        movable = [p for p in thread.parcels if NEXT[thread.status[p.number]]]
        if movable and rng.random() < 0.65:
            thread.last = "update"
            body, said = self._progress(thread, movable)
            thread.status.update(said.statuses)
            return Step(body, said, [], True, None)
        first = conversation.messages[0]
        if rng.random() < 0.6:
            thread.last = "complaint"
            named = thread.parcels if rng.random() < 0.8 else []
            body, said = complaint(thread.lang, named)
            thread.status.update(said.statuses)
            return Step(body, said, [], True, first)
        thread.last = "thanks"
        paragraphs = [GREETING[thread.lang], THANKS[thread.lang]]
        body = Body("\n\n".join(paragraphs), _paragraphs_to_html(paragraphs))
        return Step(body, Said(), [], True, first)

    def _first(
        self, conversation_id: str, at: float, plant: Callable[[int], list[Planted]]
    ) -> Step:
        rng = self.rng
        lang, order = language(rng), order_reference(rng)
        parcels = plant(rng.choice((1, 1, 2)))
        status = rng.choices(("label_created", "in_transit"), (3, 7))[0]
        sent = datetime.fromtimestamp(at, UTC).date()
        expected = sent + timedelta(days=rng.randint(1, 5)) if rng.random() < 0.6 else None
        body, said = update(rng, lang, parcels, status, order, expected)
        self._threads[conversation_id] = _Thread(lang, order, parcels, dict(said.statuses))
        return Step(body, said, parcels, True, None)

    def _progress(self, thread: _Thread, movable: list[Planted]) -> tuple[Body, Said]:
        rng = self.rng
        order = thread.order if rng.random() < 0.7 else None
        if len(movable) == 2:
            first, second = (thread.status[p.number] for p in movable)
            if "delivered" in NEXT[first] and "exception" in NEXT[second] and rng.random() < 0.3:
                return vague_pair(*movable)
            if rng.random() < 0.4:
                chosen = [rng.choice(NEXT[thread.status[p.number]]) for p in movable]
                return split_update(thread.lang, movable, chosen, order)
        shared = set.intersection(*(set(NEXT[thread.status[p.number]]) for p in movable))
        options = sorted(shared) or list(NEXT[thread.status[movable[0].number]])
        status = rng.choice(options)
        parcels = [p for p in movable if status in NEXT[thread.status[p.number]]] or movable[:1]
        return update(rng, thread.lang, parcels, status, order, None)
