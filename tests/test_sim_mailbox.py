"""The generated mailbox: determinism, realistic content and exact ground truth."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from frontscan.detector import matching
from frontscan.simulator.mailbox import Mailbox, normalize

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def mailbox() -> Mailbox:
    return Mailbox.generate(150, 42, START, END)


def fingerprint(box: Mailbox) -> list[object]:
    return [
        (c.id, c.subject, [(m.id, m.created_at, m.body, m.text) for m in c.messages])
        for c in box.by_activity()
    ]


def test_same_seed_same_mailbox_different_seed_different(mailbox: Mailbox) -> None:
    again = Mailbox.generate(150, 42, START, END)
    assert fingerprint(again) == fingerprint(mailbox)
    assert again.truth == mailbox.truth
    assert again.merged_into == mailbox.merged_into
    other = Mailbox.generate(150, 43, START, END)
    assert fingerprint(other) != fingerprint(mailbox)
    assert {t.tracking_number for t in other.truth} != {t.tracking_number for t in mailbox.truth}


def test_ids_times_and_shape(mailbox: Mailbox) -> None:
    convs = list(mailbox.conversations.values())
    assert len(convs) == 150
    for conv in convs:
        assert re.fullmatch(r"cnv_[0-9a-z]+", conv.id)
        assert 1 <= len(conv.messages) <= 6
        stamps = [m.created_at for m in conv.messages]
        assert stamps == sorted(stamps)
        assert len(set(stamps)) == len(stamps)
        assert all(START.timestamp() <= s <= END.timestamp() for s in stamps)
        assert all(round(s, 3) == s for s in stamps)
        assert conv.last_activity == max(stamps)
        assert all(re.fullmatch(r"msg_[0-9a-z]+", m.id) for m in conv.messages)
    assert all(i.id.startswith("inb_") for i in mailbox.inboxes)
    assert {c.channel for c in convs} == {"email", "sms", "custom"}
    emails = [m for c in convs for m in c.messages if m.type == "email"]
    assert any(m.text is None for m in emails)
    assert any(m.text for m in emails)
    stamps = [c.last_activity for c in mailbox.by_activity()]
    assert stamps == sorted(stamps, reverse=True)


def test_content_has_quotes_distractors_and_quiet_threads(mailbox: Mailbox) -> None:
    texts = [m.plain for c in mailbox.conversations.values() for m in c.messages]
    bodies = [m.body for c in mailbox.conversations.values() for m in c.messages]
    joined = "\n".join(texts)
    assert re.search(r"On \w{3}, \d+ \w{3} \d{4} at \d\d:\d\d, .+ <.+> wrote:\n> ", joined)
    assert "-----Original Message-----" in joined
    assert any("<blockquote" in b for b in bodies)
    assert re.search(r"\d{3}-\d{7}-\d{7}", joined)  # order ids
    assert re.search(r"\d{5}-\d{4}", joined)  # ZIP+4
    assert re.search(r"\$\d+\.\d\d", joined)  # prices
    with_truth = {t.conversation_id for t in mailbox.truth}
    assert len(with_truth) < len(mailbox.conversations)  # some threads have no numbers


def test_truth_is_the_first_appearance_with_the_right_carrier(mailbox: Mailbox) -> None:
    repeated = 0
    for row in mailbox.truth:
        conv = mailbox.conversations[row.conversation_id]
        index = next(i for i, m in enumerate(conv.messages) if m.id == row.message_id)
        assert row.tracking_number in normalize(conv.messages[index].plain)
        assert row.tracking_number in normalize(conv.messages[index].body)
        assert all(row.tracking_number not in normalize(m.plain) for m in conv.messages[:index])
        repeated += any(
            row.tracking_number in normalize(m.plain) for m in conv.messages[index + 1 :]
        )
        found = matching.classify(row.tracking_number)
        assert found is not None
        assert found.carrier == row.carrier
    assert repeated > 10  # quoted replies repeat older numbers
    numbers = [t.tracking_number for t in mailbox.truth]
    assert len(numbers) == len(set(numbers)) > 100
    assert len({t.carrier for t in mailbox.truth}) >= 8


def test_truth_for_text_finds_plain_and_grouped_numbers(mailbox: Mailbox) -> None:
    row = mailbox.truth[0]
    grouped = " ".join(
        row.tracking_number[i : i + 4] for i in range(0, len(row.tracking_number), 4)
    )
    assert mailbox.truth_for_text(f"see {grouped.lower()} thanks") == [row]
    assert mailbox.truth_for_text(f"<b>{row.tracking_number}</b>") == [row]
    assert mailbox.truth_for_text("nothing here 1234") == []
    for conv in list(mailbox.conversations.values())[:30]:
        first = conv.messages[0]
        expected = {t for t in mailbox.truth if t.message_id == first.id}
        assert set(mailbox.truth_for_text(first.plain)) == expected


def test_append_messages_moves_activity_and_quotes(mailbox: Mailbox) -> None:
    box = Mailbox.generate(20, 9, START, END)
    targets = [c.id for c in box.by_activity()[-3:]]
    previous = {cid: box.conversations[cid].last_message for cid in targets}
    at = END.timestamp() + 3600.5
    added = box.append_messages(targets, rng_seed=5, at=at)
    assert {t.conversation_id for t in added} == set(targets)
    assert [c.id for c in box.by_activity()[:3]] == sorted(targets)
    for cid in targets:
        conv = box.conversations[cid]
        assert conv.last_activity == at
        new = conv.last_message
        assert new.replied_to == previous[cid].id
        assert box.message(new.id) == new
        if new.type == "email":
            assert "wrote:" in new.plain or "-----Original Message-----" in new.plain
            quoted = [t for t in box.truth if t.message_id == previous[cid].id]
            assert all(t.tracking_number in normalize(new.plain) for t in quoted)
    assert all(t in box.truth for t in added)
    assert len({t.tracking_number for t in box.truth}) == len(box.truth)
    again = Mailbox.generate(20, 9, START, END)
    assert again.append_messages(targets, rng_seed=5, at=at) == added


def test_merged_ids_point_at_listed_conversations(mailbox: Mailbox) -> None:
    assert mailbox.merged_into
    for merged, survivor in mailbox.merged_into.items():
        assert merged not in mailbox.conversations
        assert survivor in mailbox.conversations


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="after"):
        Mailbox.generate(3, 1, END, START)
    assert Mailbox.generate(0, 1, START, END).truth == []


def test_the_realistic_mailbox_looks_like_real_mail() -> None:
    box = Mailbox.generate(120, 42, START, END, realistic=True)
    convs = list(box.conversations.values())
    emails = [m for c in convs for m in c.messages if m.type == "email"]
    first_notices = [
        c.messages[0] for c in convs if c.subject.startswith("Your ") and "shipped" in c.subject
    ]
    assert first_notices
    for notice in first_notices:  # long HTML with a footer and the number in a tracking URL
        assert len(notice.body) > 1500
        assert notice.body.startswith("<html>")
        assert "unsubscribe" in notice.body.lower()
        assert "track.example.com" in notice.body
    newsletters = [c for c in convs if "% off" in c.subject]
    assert newsletters
    truth_messages = {t.message_id for t in box.truth}
    assert all(c.messages[0].id not in truth_messages for c in newsletters)
    assert max(len(c.messages) for c in convs) > 6  # threads several replies deep

    def quotes(text: str) -> int:
        return text.count("wrote:") + text.count("Original Message")

    threads = [c for c in convs if c.channel == "email" and len(c.messages) > 3]
    assert max(quotes(c.messages[-1].plain) for c in threads) >= 3  # replies quote replies
    assert sum(len(m.body) for m in emails) / len(emails) > 1500
    for row in box.truth:  # the truth still holds: each number is in its message
        message = box.message(row.message_id)
        assert message is not None
        assert row.tracking_number in normalize(message.plain)
    assert fingerprint(box) == fingerprint(Mailbox.generate(120, 42, START, END, realistic=True))
    assert fingerprint(box) != fingerprint(Mailbox.generate(120, 42, START, END))
