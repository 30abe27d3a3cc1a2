"""The simulator's shipment truth: update threads in seven languages and the model's new fields."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ConfigDict

from frontscan.detector.text import clean_message
from frontscan.shipment.facts import read_message, read_number
from frontscan.shipment.mentions import printed_at
from frontscan.simulator.mailbox import Mailbox
from frontscan.simulator.openai_model import FakeModel, MistakeRates
from frontscan.simulator.updates import LANGUAGES, ORDER, SENTENCES

START, END = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def mailbox() -> Mailbox:
    return Mailbox.generate(400, 11, START, END)


def _new_text(mailbox: Mailbox, message_id: str) -> str:
    message = mailbox.message(message_id)
    assert message is not None
    return clean_message(message.body, message.text).new


def test_update_threads_cover_every_language_and_status(mailbox: Mailbox) -> None:
    plains = [m.plain for c in mailbox.conversations.values() for m in c.messages]
    for lang in LANGUAGES:
        opener = ORDER[lang].split("{o}")[0]
        assert any(opener in text for text in plains), lang
    statuses = Counter(m.status for m in mailbox.mentions)
    assert set(statuses) == set(SENTENCES) | {"unknown"}
    assert sum(m.expected_delivery is not None for m in mailbox.mentions) > 10
    assert sum(m.order_reference is not None for m in mailbox.mentions) > 100
    assert {m.direction for m in mailbox.mentions} == {"inbound", "outbound"}


def test_a_complaint_quotes_the_old_shipped_mail_under_its_new_word(mailbox: Mailbox) -> None:
    quoted_old = 0
    for mention in mailbox.mentions:
        if mention.status != "exception":
            continue
        message = mailbox.message(mention.message_id)
        assert message is not None
        cleaned = clean_message(message.body, message.text)
        old = read_message(cleaned.quoted, message.created_at)
        if (
            "in_transit" in old.statuses
            and printed_at(cleaned.quoted, mention.tracking_number) >= 0
        ):
            quoted_old += 1
    assert quoted_old >= 5


def test_every_mention_is_in_its_messages_own_text_and_the_rules_agree_with_it(
    mailbox: Mailbox,
) -> None:
    """Where the rules decide, they say what the writer meant; open only where it is vague."""
    left_open = Counter[str]()
    for mention in mailbox.mentions:
        text = _new_text(mailbox, mention.message_id)
        at = printed_at(text, mention.tracking_number)
        assert at >= 0, mention
        facts = read_message(text, mention.stated_at, [mention.tracking_number])
        assert facts.statuses == mailbox.stated(mention.message_id), text
        reading = read_number(facts, at, at + len(mention.tracking_number))
        if reading.status is None:
            left_open["status"] += 1
        else:
            assert reading.status == mention.status, text
        if reading.orders_open:
            left_open["order"] += 1
        else:
            assert reading.order_reference == mention.order_reference, text
        assert reading.expected_delivery == mention.expected_delivery, text
    assert left_open["status"] >= 1  # the model gets something to decide
    assert left_open["order"] >= 1


class _Found(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_id: str
    tracking_number: str
    carrier: str | None
    status: str | None
    order_reference: str | None
    expected_delivery: str | None


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    numbers: list[_Found]


def _prompt(mailbox: Mailbox, message_ids: list[str]) -> list[dict[str, str]]:
    blocks = [f'<message id="{mid}">\n{_new_text(mailbox, mid)}\n</message>' for mid in message_ids]
    return [{"role": "system", "content": "find"}, {"role": "user", "content": "\n".join(blocks)}]


def test_the_model_answers_what_each_message_says_and_can_claim_unbacked(
    mailbox: Mailbox,
) -> None:
    ids = sorted({m.message_id for m in mailbox.mentions})[:60]
    schema = _Answer.model_json_schema()
    honest = FakeModel(mailbox, MistakeRates(), seed=3)
    answered = 0
    for mid in ids:
        answer = honest.answer(_prompt(mailbox, [mid]), schema, 4000)
        assert answer.content is not None
        for entry in json.loads(answer.content)["numbers"]:
            truth = mailbox.mention(entry["message_id"], entry["tracking_number"])
            assert truth is not None
            assert entry["status"] == (None if truth.status == "unknown" else truth.status)
            assert entry["order_reference"] == truth.order_reference
            answered += 1
        assert answer.unbacked_claims == 0
    assert answered >= 60
    liar = FakeModel(mailbox, MistakeRates(unbacked_status=1.0), seed=3)
    silent = {m.message_id for m in mailbox.mentions if m.status == "unknown"}
    lies = 0
    for mid in ids:
        answer = liar.answer(_prompt(mailbox, [mid]), schema, 4000)
        assert answer.unbacked_claims == (1 if mid in silent else 0)
        assert answer.content is not None
        for entry in json.loads(answer.content)["numbers"]:
            truth = mailbox.mention(entry["message_id"], entry["tracking_number"])
            assert truth is not None
            if entry["status"] not in (None, truth.status):  # the lie: where nothing was said
                assert truth.status == "unknown"
                assert entry["status"] not in mailbox.stated(mid)
                lies += 1
    assert lies == len(silent & set(ids)) > 5
    old_schema = {
        "type": "object",
        "properties": {"numbers": {"type": "array", "items": {
            "type": "object", "required": ["message_id", "tracking_number", "carrier"],
            "properties": {k: {"type": ["string", "null"]} for k in
                           ("message_id", "tracking_number", "carrier")}}}},
        "required": ["numbers"],
    }  # fmt: skip
    plain = liar.answer(_prompt(mailbox, ids[:1]), old_schema, 4000)
    assert plain.content is not None
    assert not plain.schema_mismatch
    assert set(json.loads(plain.content)["numbers"][0]) == {
        "message_id", "tracking_number", "carrier"
    }  # fmt: skip
