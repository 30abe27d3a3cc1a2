"""The fake Front mailbox: generated conversations plus the ground truth to score a run.

`Mailbox.generate` is a pure function of its arguments (one `random.Random(seed)`, no
wall clock), so a benchmark or a failing test can be replayed exactly. The truth records
where each planted number FIRST appears; quoted repeats in later replies are not truth,
because frontscan is expected to attribute a number to its first message only. The
mention truth covers every message: what each one's own words say about each number
they name (`mentions`), and each number a message prints only in the mail it quotes
(`quoted_mentions`).
`truth_for_text` is the fake model's oracle: it finds planted numbers in any text.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from datetime import datetime

from frontscan.simulator.records import (
    Inbox,
    SimConversation,
    SimMessage,
    TruthMention,
    TruthNumber,
)
from frontscan.simulator.scenarios import INBOXES, Writer

__all__ = ["Mailbox", "TruthMention", "TruthNumber"]

_SEPARATORS = re.compile(r"[\s\-.\u00a0]+")
_KEY = 8  # every supported format is at least 10 characters long
_CHANNEL_SCENARIO = {"email": "wismo", "sms": "sms", "custom": "chat"}


def normalize(text: str) -> str:
    """frontscan's normal form: spaces, dashes and dots removed, upper case."""
    return _SEPARATORS.sub("", text).upper()


class Mailbox:
    """Conversations by id, inboxes, merged ids and the planted-number truth.

    Mutable only through `append_messages`, which models new mail arriving between runs.
    """

    def __init__(
        self,
        conversations: Iterable[SimConversation],
        inboxes: tuple[Inbox, ...],
        truth: Iterable[TruthNumber],
        merged_into: dict[str, str],
        used_ids: set[str],
        mentions: Iterable[TruthMention] = (),
        stated: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self.conversations: dict[str, SimConversation] = {c.id: c for c in conversations}
        self.inboxes = inboxes
        self.merged_into = merged_into
        self._truth: list[TruthNumber] = []
        self._by_number: dict[str, TruthNumber] = {}
        self._by_prefix: dict[str, list[str]] = {}
        self._used_ids = used_ids
        self._messages: dict[str, SimMessage] = {}
        self._ordered: list[SimConversation] | None = None
        self._haystacks: dict[str, str] = {}
        self.version = 0  # bumped by every change, so derived views (the event log) rebuild
        self._mentions: dict[tuple[str, str], TruthMention] = {}
        self._quoted: dict[tuple[str, str], TruthMention] = {}
        self._stated: dict[str, frozenset[str]] = dict(stated or {})
        self._add_mentions(mentions)
        self.printed_forms = False
        for conversation in self.conversations.values():
            self._index_messages(conversation)
        self._add_truth(truth)

    @classmethod
    def generate(
        cls,
        conversations: int,
        seed: int,
        start: datetime,
        end: datetime,
        *,
        realistic: bool = False,
        printed_forms: bool = False,
    ) -> Mailbox:
        """`conversations` threads with last activity spread over [start, end].

        `realistic` writes mail as it really arrives (`simulator.realistic`): long HTML
        notices with footers, newsletters with no number, deeper quoted threads.
        `printed_forms` prints numbers in every carrier grouping (spaces, no-break spaces,
        hyphens, dots, a line break, HTML spans), gives shop notices a stub plain part and
        footers with ids and timestamps in URLs.
        """
        if conversations < 0:
            raise ValueError("conversations must be >= 0")
        start_ts, end_ts = start.timestamp(), end.timestamp()
        if end_ts <= start_ts:
            raise ValueError("end must be after start")
        rng = random.Random(seed)
        used_ids: set[str] = {inbox.id for inbox in INBOXES}
        writer = Writer(rng, used_ids, set(), {}, realistic=realistic, printed_forms=printed_forms)
        made: list[SimConversation] = []
        truth: list[TruthNumber] = []
        for _ in range(conversations):
            conversation, found = writer.conversation(start_ts, end_ts)
            made.append(conversation)
            truth.extend(found)
        merged: dict[str, str] = {}
        if made:
            for _ in range(max(1, conversations // 30) if conversations >= 10 else 0):
                merged[writer.new_id("cnv")] = rng.choice(made).id
        mailbox = cls(made, INBOXES, truth, merged, used_ids, writer.mentions, writer.stated)
        mailbox.printed_forms = printed_forms
        return mailbox

    @property
    def truth(self) -> list[TruthNumber]:
        """Every planted number once, at the message where it first appears."""
        return list(self._truth)

    @property
    def mentions(self) -> list[TruthMention]:
        """What each message's own text says about each number it names, oldest first."""
        return sorted(self._mentions.values(), key=lambda m: (m.stated_at, m.message_id))

    @property
    def quoted_mentions(self) -> list[TruthMention]:
        """Each number a message prints only in the mail it quotes, oldest first."""
        return sorted(self._quoted.values(), key=lambda m: (m.stated_at, m.message_id))

    def mention(self, message_id: str, number: str) -> TruthMention | None:
        return self._mentions.get((message_id, normalize(number)))

    def stated(self, message_id: str) -> frozenset[str]:
        """Every status the words of a message's own text name (for unbacked claims)."""
        return self._stated.get(message_id, frozenset())

    def truth_for_text(self, text: str) -> list[TruthNumber]:
        """Planted numbers whose normal form occurs in `text` (in order of appearance)."""
        flat = normalize(text)
        found: dict[str, TruthNumber] = {}
        for i in range(len(flat) - _KEY + 1):
            candidates = self._by_prefix.get(flat[i : i + _KEY])
            if not candidates:
                continue
            for number in candidates:
                if number not in found and flat.startswith(number, i):
                    found[number] = self._by_number[number]
        return list(found.values())

    def carrier_of(self, number: str) -> str | None:
        truth = self._by_number.get(normalize(number))
        return truth.carrier if truth else None

    def message(self, message_id: str) -> SimMessage | None:
        return self._messages.get(message_id)

    def by_activity(self) -> list[SimConversation]:
        """Conversations, most recent activity first (Front's list and search order)."""
        if self._ordered is None:
            self._ordered = sorted(
                self.conversations.values(), key=lambda c: (-c.last_activity, c.id)
            )
        return self._ordered

    def haystack(self, conversation_id: str) -> str:
        """Lower-cased subject and message texts: what Front's free-text search matches."""
        found = self._haystacks.get(conversation_id)
        if found is None:
            conv = self.conversations[conversation_id]
            found = "\n".join([conv.subject, *(m.plain for m in conv.messages)]).lower()
            self._haystacks[conversation_id] = found
        return found

    def append_messages(
        self, conversation_ids: Iterable[str], rng_seed: int, at: float
    ) -> list[TruthNumber]:
        """New mail: one reply per conversation, quoting the last message, with new numbers.

        Each reply is dated `at` (or 1 ms after the conversation's last message if that is
        later), which moves the conversation's last activity. Returns the new truth rows.
        """
        rng = random.Random(rng_seed)
        known: dict[str, list[tuple[str, str]]] = {}
        for row in self._truth:
            known.setdefault(row.conversation_id, []).append((row.tracking_number, row.carrier))
        writer = Writer(
            rng, self._used_ids, set(self._by_number), known, printed_forms=self.printed_forms
        )
        inboxes = {inbox.id: inbox for inbox in self.inboxes}
        added: list[TruthNumber] = []
        for conversation_id in conversation_ids:
            conversation = self.conversations[conversation_id]
            when = round(max(at, conversation.last_activity + 0.001), 3)
            scenario = _CHANNEL_SCENARIO.get(conversation.channel, "wismo")
            updated, found = writer.add_message(
                conversation,
                scenario,
                when,
                inboxes[conversation.inbox_id],
                min_numbers=1,
                force_quote=True,
            )
            self.conversations[conversation_id] = updated
            self._index_messages(updated)
            self._haystacks.pop(conversation_id, None)
            added.extend(found)
        self._add_truth(added)
        self._add_mentions(writer.mentions)
        self._stated.update(writer.stated)
        self._ordered = None
        self.version += 1
        return added

    def _index_messages(self, conversation: SimConversation) -> None:
        for message in conversation.messages:
            self._messages[message.id] = message

    def _add_mentions(self, rows: Iterable[TruthMention]) -> None:
        for row in rows:
            kept = self._quoted if row.quoted else self._mentions
            kept[(row.message_id, row.tracking_number)] = row

    def _add_truth(self, rows: Iterable[TruthNumber]) -> None:
        for row in rows:
            self._truth.append(row)
            self._by_number[row.tracking_number] = row
            self._by_prefix.setdefault(row.tracking_number[:_KEY], []).append(row.tracking_number)
