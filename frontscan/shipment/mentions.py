"""A conversation's stored numbers → what each of its messages says about each of them.

Runs after numbers are merged: every message whose own text (quotes removed) names a
stored number gives a `Mention` — the first one describes the stored row, later ones
tell the ledger's `shipments` row how the parcel moved on. A message that prints a
stored number only in the history it quotes gives a `quoted` mention, which states
nothing: the reply is linked to the parcel in its history, and the old words of the
quote never move it (their own message, when scanned, said them at its own time).
The rules read each message once; the model's claims from the same structured answer
fill what they leave open and are dropped and counted when the message does not back
them (`facts.settle`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from frontscan.models import Candidate, Mention, Message, TrackingNumber
from frontscan.shipment.facts import read_message, read_number, settle


class Prepared(Protocol):
    """A message and its own text, as the extraction step prepared it."""

    @property
    def message(self) -> Message: ...
    @property
    def text(self) -> str: ...
    @property
    def candidates(self) -> Sequence[Candidate]: ...
    @property
    def quoted(self) -> str: ...


# (message id, normalized number) → what the model said: status, order reference, date.
ClaimKey = tuple[str, str]
ClaimValues = tuple[str | None, str | None, str | None]


def printed_at(text: str, number: str) -> int:
    """Where `number` is printed in `text` (spaces, dashes or dots between any characters,
    the detector's separators; any case), not as part of a longer token; -1 if absent."""
    pattern = r"[\s\-.]*".join(re.escape(ch) for ch in number)
    match = re.search(r"(?<![0-9A-Za-z])" + pattern + r"(?![0-9A-Za-z])", text, re.IGNORECASE)
    return match.start() if match else -1


def left_open(prepared: Sequence[Prepared]) -> bool:
    """Would the rules leave a status, order or date of a candidate to the model?

    In `--llm auto` a conversation the detector is sure of skips the model; it still
    needs the model when one of its messages names several statuses (orders, dates)
    and none stands next to a number.
    """
    for item in prepared:
        storable = [c for c in item.candidates if c.storable]
        if not storable:
            continue
        facts = read_message(item.text, item.message.created_at, [c.number for c in storable])
        for cand in storable:
            reading = read_number(facts, cand.start, cand.end)
            if reading.status is None or reading.orders_open or reading.dates_open:
                return True
    return False


def describe(
    prepared: Sequence[Prepared],
    numbers: Sequence[TrackingNumber],
    claims: Mapping[ClaimKey, ClaimValues] | None = None,
    earlier: Sequence[tuple[str, str]] = (),
) -> tuple[tuple[TrackingNumber, ...], tuple[Mention, ...], int]:
    """(numbers with their first mention's fields, every mention, claims dropped).

    `earlier` are the (number, carrier) pairs earlier scans stored for the conversation:
    a new message that names or quotes one of them is its mention too."""
    claims = claims or {}
    stored = {n.tracking_number: n for n in numbers}
    carriers = {number: carrier for number, carrier in earlier}
    carriers.update((n.tracking_number, n.carrier) for n in numbers)
    mentions: list[Mention] = []
    first: dict[str, Mention] = {}
    dropped = 0
    for item in sorted(prepared, key=lambda p: p.message.created_at):
        message = item.message
        present = {n: at for n in carriers if (at := printed_at(item.text, n)) >= 0}
        mentions.extend(_quoted(item, [n for n in carriers if n not in present], carriers))
        if not present:
            continue
        facts = read_message(item.text, message.created_at, list(present))
        for number, at in present.items():
            reading = read_number(facts, at, at + _printed_length(item.text, at, number))
            status, order, when = claims.get((message.id, number), (None, None, None))
            statement, lost = settle(
                facts, reading, status=status, order_reference=order, expected_delivery=when
            )
            dropped += lost
            mention = Mention(
                tracking_number=number,
                carrier=carriers[number],
                conversation_id=message.conversation_id,
                message_id=message.id,
                stated_at=message.created_at,
                status=statement.status,
                expected_delivery=statement.expected_delivery,
                order_reference=statement.order_reference,
                direction="inbound" if message.is_inbound else "outbound",
            )
            mentions.append(mention)
            if number in stored and stored[number].message_id == message.id:
                first[number] = mention
    described = tuple(_with(n, first.get(n.tracking_number)) for n in numbers)
    return described, tuple(mentions), dropped + _unplaced(claims, mentions)


def _quoted(item: Prepared, absent: Sequence[str], carriers: Mapping[str, str]) -> list[Mention]:
    """The numbers a message prints only inside its quote, as mentions that state nothing."""
    if not absent or not item.quoted:
        return []
    history = unquoted(item.quoted)
    message = item.message
    return [
        Mention(
            tracking_number=number,
            carrier=carriers[number],
            conversation_id=message.conversation_id,
            message_id=message.id,
            stated_at=message.created_at,
            status="unknown",
            expected_delivery=None,
            order_reference=None,
            direction="inbound" if message.is_inbound else "outbound",
            quoted=True,
        )
        for number in absent
        if printed_at(history, number) >= 0
    ]


_QUOTE_MARKS = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.MULTILINE)


def unquoted(quoted: str) -> str:
    """Quoted history without its `>` marks, so a number a mail client broke over two
    quoted lines ("1Z 999\n> AA1 …") reads as printed."""
    return _QUOTE_MARKS.sub("", quoted)


def _printed_length(text: str, start: int, number: str) -> int:
    """How many characters the number takes in the text, separators included."""
    seen, index = 0, start
    while index < len(text) and seen < len(number):
        if not (text[index].isspace() or text[index] in "-."):
            seen += 1
        index += 1
    return index - start


def _with(number: TrackingNumber, mention: Mention | None) -> TrackingNumber:
    if mention is None:
        return number
    return replace(
        number,
        status=mention.status,
        expected_delivery=mention.expected_delivery,
        order_reference=mention.order_reference,
        direction=mention.direction,
    )


def _unplaced(claims: Mapping[ClaimKey, ClaimValues], mentions: Sequence[Mention]) -> int:
    """Claims about a message that does not name that number: nothing can back them."""
    placed = {(m.message_id, m.tracking_number) for m in mentions if not m.quoted}
    return sum(
        sum(value is not None for value in values)
        for key, values in claims.items()
        if key not in placed
    )
