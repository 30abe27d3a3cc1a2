"""Turn a seeded `random.Random` into conversations: who writes, what, when, with which numbers.

Scenarios follow real support mailboxes: shop notices, customers asking where a parcel is,
supplier dispatch threads, SMS and chat channels, and threads with no numbers at all.
Numbers come from `frontscan.simulator.samples.valid_number` and are attributed with
`frontscan.detector.matching.classify`, so the ground truth uses the project's own carrier codes.
Only the first appearance of a number is truth; quotes and restatements repeat it.
"""

from __future__ import annotations

import random
import re
from datetime import date

from frontscan.detector import matching
from frontscan.simulator import content, realistic, samples
from frontscan.simulator.content import Body, Party, Planted
from frontscan.simulator.records import (
    TAGS,
    TEAMMATES,
    Inbox,
    SimConversation,
    SimMessage,
    TruthMention,
)
from frontscan.simulator.records import TruthNumber as Truth
from frontscan.simulator.threads import UpdateThreads

INBOXES = (
    Inbox("inb_1ix6", "Support", "support@acme.example"),
    Inbox("inb_3kd9", "Shipping", "shipping@acme.example"),
    Inbox("inb_5pq2", "Purchasing", "purchasing@acme.example"),
    Inbox("inb_7zt4", "SMS", "+14155550100"),
    Inbox("inb_8cw1", "Chat", "chat@acme.example"),
)
# scenario -> (weight, inbox index, channel)
SCENARIOS = {
    "notice": (25, 1, "email"),
    "wismo": (30, 0, "email"),
    "supplier": (13, 2, "email"),
    "quiet": (15, 0, "email"),
    "sms": (11, 3, "sms"),
    "chat": (6, 4, "custom"),
    "updates": (14, 1, "email"),
}
# The realistic mailbox adds marketing mail (no numbers) and longer threads.
REALISTIC_SCENARIOS = {**SCENARIOS, "newsletter": (18, 0, "email")}
_DIGIT_RUN = re.compile(r"[0-9][0-9 \-]{7,}[0-9]")
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


_QUOTE_NOISE = re.compile(r"[\s\-.\u00a0>]+")


def _printed_in(quoted: str | None, known: list[tuple[str, str]], named: set[str]) -> list[str]:
    """The conversation's numbers the quoted mail prints (at any depth) that the message's
    own words do not name: where a reader sees the parcel only in the quote."""
    if not quoted:
        return []
    flat = _QUOTE_NOISE.sub("", quoted).upper()
    numbers = dict.fromkeys(number for number, _ in known)
    return [n for n in numbers if n not in named and n in flat]


def base36(value: int) -> str:
    digits = ""
    while value:
        value, rest = divmod(value, 36)
        digits = _BASE36[rest] + digits
    return digits or "0"


class Writer:
    """Draws ids, numbers, distractors and messages from one rng; never repeats an id or number."""

    def __init__(
        self,
        rng: random.Random,
        used_ids: set[str],
        used_numbers: set[str],
        known: dict[str, list[tuple[str, str]]],
        *,
        realistic: bool = False,
        printed_forms: bool = False,
    ) -> None:
        self.rng = rng
        self.realistic = realistic
        self.used_ids = used_ids
        self.used_numbers = used_numbers
        self.known = known
        self.mentions: list[TruthMention] = []
        self.stated: dict[str, frozenset[str]] = {}  # message id → statuses its words name
        self.threads = UpdateThreads(rng)
        self.printed_forms = printed_forms

    def new_id(self, prefix: str) -> str:
        while True:
            candidate = f"{prefix}_{base36(self.rng.randrange(36**5, 36**7))}"
            if candidate not in self.used_ids:
                self.used_ids.add(candidate)
                return candidate

    def plant(self, count: int) -> list[Planted]:
        """`count` fresh valid numbers; about a third printed in groups of four
        (`printed_forms`: about half in one of the carrier's printed forms)."""
        planted: list[Planted] = []
        while len(planted) < count:
            format_id = self.rng.choice(samples.BASE_SAMPLE_FORMATS)
            number = samples.valid_number(format_id, self.rng)
            found = matching.classify(number)
            if found is None or number in self.used_numbers:
                continue
            self.used_numbers.add(number)
            grouped = self.rng.random() < (0.5 if self.printed_forms else 0.3)
            if grouped and self.printed_forms:
                printed = self.rng.choice(samples.printed_forms(number, format_id)[1:])
            else:
                printed = samples.printed_groups(number) if grouped else number
            planted.append(Planted(number, found.carrier, printed))
        return planted

    def extras(self, count: int) -> list[str]:
        """Distractors, re-drawn if a digit run in one happens to be a valid tracking number."""
        out: list[str] = []
        while len(out) < count:
            text = content.distractor(self.rng)
            runs = (re.sub(r"[ \-]", "", m.group()) for m in _DIGIT_RUN.finditer(text))
            if not any(matching.classify(run) is not None for run in runs):
                out.append(text)
        return out

    def times(self, count: int, start: float, end: float) -> list[float]:
        """Message times, oldest first, all inside [start, end], strictly increasing at ms."""
        last = self.rng.uniform(start, end)
        gaps = [self.rng.expovariate(1 / 21_600) + 30 for _ in range(count - 1)]
        room = last - start
        if sum(gaps) > room:
            gaps = [g * room * 0.99 / sum(gaps) for g in gaps]
        stamps = [last]
        for gap in reversed(gaps):
            stamps.insert(0, stamps[0] - gap)
        out: list[float] = []
        for stamp in stamps:
            value = round(stamp, 3)
            out.append(value if not out or value > out[-1] else round(out[-1] + 0.001, 3))
        return out

    def conversation(self, start: float, end: float) -> tuple[SimConversation, list[Truth]]:
        rng = self.rng
        table = REALISTIC_SCENARIOS if self.realistic else SCENARIOS
        names = list(table)
        scenario = rng.choices(names, weights=[table[n][0] for n in names])[0]
        _, inbox_index, channel = table[scenario]
        inbox = INBOXES[inbox_index]
        if scenario == "newsletter":
            count = 1
        elif self.realistic:  # quoted threads several replies deep
            count = rng.choices(range(1, 9), weights=(12, 16, 18, 16, 14, 10, 8, 6))[0]
        else:
            count = rng.choices(range(1, 7), weights=(22, 26, 20, 14, 10, 8))[0]
        if channel == "sms":
            contact = Party(content.person(rng).name, content.phone(rng).replace(" ", ""))
        else:
            contact = content.person(rng)
        subject = self._subject(scenario)
        status = rng.choice(("assigned", "unassigned", "archived", "archived", "unassigned"))
        assignee = rng.choice(TEAMMATES)[0] if status == "assigned" else None
        tags = tuple(t for t, _ in rng.sample(TAGS, rng.randint(0, 2)))
        conversation = SimConversation(
            self.new_id("cnv"), subject, channel, inbox.id, status, assignee, tags, contact, ()
        )
        truth: list[Truth] = []
        for at in self.times(count, start, end):
            conversation, new = self.add_message(conversation, scenario, at, inbox)
            truth.extend(new)
        return conversation, truth

    def _subject(self, scenario: str) -> str:
        rng = self.rng
        if scenario == "notice":
            return f"Your {rng.choice(content.SHOPS)} order has shipped"
        if scenario == "newsletter":
            return f"{rng.choice(content.SHOPS)}: up to 40% off this week only"
        if scenario == "supplier":
            return f"Dispatch confirmation PO-{rng.randint(1000, 9999)}"
        if scenario in ("sms", "chat"):
            return ""
        if scenario == "updates":
            return rng.choice(("Shipping update", "Update on your order", "Your parcel"))
        return rng.choice(
            (
                "Where is my parcel?",
                "Order not received",
                "Question about my order",
                "Return request",
                "Invoice copy please",
                "Delivery problem",
            )
        )

    def add_message(
        self,
        conversation: SimConversation,
        scenario: str,
        at: float,
        inbox: Inbox,
        min_numbers: int = 0,
        force_quote: bool = False,
    ) -> tuple[SimConversation, list[Truth]]:
        """Append one message written for `scenario`, quoting the previous e-mail if any."""
        rng = self.rng
        position = len(conversation.messages)
        previous = conversation.messages[-1] if conversation.messages else None
        if scenario == "updates" and conversation.channel == "email":
            return self._update_message(conversation, at, inbox)
        inbound = previous is None or not previous.is_inbound
        if scenario == "notice" and position == 0:
            inbound = True
        wanted = 0
        if scenario not in ("quiet", "newsletter"):  # rng untouched for them, as before
            wanted = rng.choices((0, 1, 2, 3), (35, 45, 15, 5))[0]
        if position == 0 and scenario in ("notice", "supplier"):
            wanted = max(1, wanted)
        wanted = max(min_numbers, wanted)
        fresh = self.plant(wanted)
        said = list(fresh)
        if previous is not None and inbound and rng.random() < 0.25:
            said.extend(self._restate(conversation))
        extra = self.extras(rng.randint(0, 3) if scenario != "quiet" else rng.randint(1, 3))
        shop = rng.choice(content.SHOPS) if self.realistic else ""
        sender_name = conversation.contact.name if inbound else "Acme Support"
        if conversation.channel != "email":
            body = content.short_text(rng, said, extra or self.extras(1))
        elif scenario == "newsletter":
            body = realistic.newsletter(rng, shop)
        elif position == 0 and scenario == "notice" and self.realistic:
            body = realistic.long_notice(rng, shop, said, extra or self.extras(1))
        elif position == 0 and scenario == "notice":
            shop = rng.choice(content.SHOPS)
            body = content.notice(rng, shop, said, extra or self.extras(1), self.printed_forms)
        elif scenario == "supplier" and inbound:
            body = content.supplier(rng, rng.choice(content.SUPPLIERS), said, extra)
        elif inbound:
            body = content.question(rng, said, extra)
        else:
            body = content.agent_reply(rng, said, extra)
        if self.realistic and conversation.channel == "email" and position > 0:
            body = realistic.dress_reply(rng, body, sender_name, not inbound)
        quoted = None
        if (
            conversation.channel == "email"
            and previous is not None
            and (force_quote or rng.random() < (0.95 if self.realistic else 0.85))
        ):
            quoted = previous.plain
            body = content.quote(
                rng,
                body,
                Body(previous.plain, previous.body),
                previous.sender,
                previous.created_at,
                previous.subject,
            )
        said_truth = {p.number: body.status for p in said}
        return self._append(
            conversation, inbox, at, inbound, body, fresh, said_truth, body.order, None,
            body.stated, quoted,
        )  # fmt: skip

    def _update_message(
        self, conversation: SimConversation, at: float, inbox: Inbox
    ) -> tuple[SimConversation, list[Truth]]:
        """The next mail of a shipment-update thread (see `threads.UpdateThreads`)."""
        step = self.threads.next(conversation, at, self.plant)
        body = step.body
        if step.quote is not None:
            body = content.quote(
                self.rng, body, Body(step.quote.plain, step.quote.body), step.quote.sender,
                step.quote.created_at, step.quote.subject,
            )  # fmt: skip
        said = step.said
        return self._append(
            conversation, inbox, at, step.inbound, body, step.fresh, said.statuses, said.order,
            said.expected, said.stated, step.quote.plain if step.quote is not None else None,
        )  # fmt: skip

    def _append(
        self,
        conversation: SimConversation,
        inbox: Inbox,
        at: float,
        inbound: bool,
        body: Body,
        fresh: list[Planted],
        statuses: dict[str, str],
        order: str | None,
        expected: date | None,
        stated: frozenset[str],
        quoted: str | None = None,
    ) -> tuple[SimConversation, list[Truth]]:
        """Write the message, its number truth and its mention truth into the thread;
        `quoted` is the plain text of the mail it quotes (its numbers: quoted mentions)."""
        rng = self.rng
        position = len(conversation.messages)
        previous = conversation.messages[-1] if conversation.messages else None
        ours = Party("Acme Support", inbox.address)
        sender, recipient = (
            (conversation.contact, ours) if inbound else (ours, conversation.contact)
        )
        message_id = self.new_id("msg")
        subject = conversation.subject if position == 0 else f"Re: {conversation.subject}"
        html_share = 0.5 if self.realistic else 0.15
        html_only = conversation.channel == "email" and rng.random() < html_share
        message = SimMessage(
            id=message_id,
            conversation_id=conversation.id,
            message_uid=f"{rng.getrandbits(128):032x}",
            created_at=at,
            type=conversation.channel,
            is_inbound=inbound,
            subject=subject if conversation.channel == "email" else "",
            body=body.html,
            text=None if html_only else (body.stub or body.plain),
            plain=body.plain,
            sender=sender,
            recipient=recipient,
            author_id=None if inbound else (conversation.assignee_id or rng.choice(TEAMMATES)[0]),
            replied_to=previous.id if previous is not None else None,
        )
        truth = [Truth(conversation.id, message_id, p.number, p.carrier) for p in fresh]
        self.stated[message_id] = stated
        self.mentions.extend(
            TruthMention(
                conversation_id=conversation.id,
                message_id=message_id,
                tracking_number=number,
                status=status,
                expected_delivery=expected,
                order_reference=order,
                direction="inbound" if inbound else "outbound",
                stated_at=at,
            )
            for number, status in statuses.items()
        )
        in_quote = _printed_in(quoted, self.known.get(conversation.id, []), set(statuses))
        self.mentions.extend(
            TruthMention(
                conversation_id=conversation.id, message_id=message_id, tracking_number=number,
                status="unknown", expected_delivery=None, order_reference=None,
                direction="inbound" if inbound else "outbound", stated_at=at, quoted=True,
            )
            for number in in_quote
        )  # fmt: skip
        self.known.setdefault(conversation.id, []).extend((p.number, p.carrier) for p in fresh)
        updated = SimConversation(
            conversation.id,
            conversation.subject,
            conversation.channel,
            conversation.inbox_id,
            conversation.status,
            conversation.assignee_id,
            conversation.tag_ids,
            conversation.contact,
            (*conversation.messages, message),
        )
        return updated, truth

    def _restate(self, conversation: SimConversation) -> list[Planted]:
        """A customer repeating an earlier number in their own words (not a new truth row)."""
        numbers = self.known.get(conversation.id, [])
        if not numbers:
            return []
        number, carrier = self.rng.choice(numbers)
        return [Planted(number, carrier, number)]
