"""describe(): every message naming a stored number says something about it; a message that
prints it only in its quote gives a quoted mention that says nothing."""

from __future__ import annotations

from datetime import date

from frontscan.answers import merge
from frontscan.models import Message
from frontscan.prompt import prepare
from frontscan.shipment.mentions import describe, left_open, printed_at

UPS, USPS = "1Z999AA10123456784", "9410598738069560423043"
T0 = 1_772_000_000.0  # 2026-02-25


def message(mid: str, at: float, text: str, *, inbound: bool = True) -> Message:
    return Message(
        id=mid, conversation_id="cnv_1", created_at=at, type="email", is_inbound=inbound,
        subject="Your order", body=text, text=text,
    )  # fmt: skip


SHIPPED = f"Your order W123456:\n\nYour parcel {UPS} has shipped.\n\nExpected delivery: 2026-03-03."


def _thread() -> list[Message]:
    quoted = "On Tue, 24 Feb 2026, Shop wrote:\n" + "\n".join(
        f"> {line}" for line in SHIPPED.splitlines()
    )
    return [
        message("msg_1", T0, SHIPPED),
        message("msg_2", T0 + 3600, f"Your parcel {UPS} was delivered.", inbound=True),
        message(
            "msg_3", T0 + 7200,
            f"Hello,\n\nMy parcel {UPS} never arrived.\n\n{quoted}",
        ),
        message("msg_4", T0 + 9000, f"Thanks, noted.\n\n{quoted}"),
        message("msg_5", T0 + 9900, "We are on it.", inbound=False),
    ]  # fmt: skip


def test_each_message_that_names_a_number_gives_a_mention_and_a_quote_only_a_quoted_one() -> None:
    prepared = [prepare(m) for m in _thread()]
    numbers, mentions, dropped = describe(prepared, merge("cnv_1", prepared, None))
    said = [
        (m.message_id, m.status, m.order_reference, m.expected_delivery, m.quoted) for m in mentions
    ]
    assert said == [
        ("msg_1", "in_transit", "W123456", date(2026, 3, 3), False),
        ("msg_2", "delivered", None, None, False),
        ("msg_3", "exception", None, None, False),  # named in its own words and in the quote
        ("msg_4", "unknown", None, None, True),  # "Thanks" above the quote: states nothing
    ]
    assert mentions[3].stated_at == T0 + 9000
    assert mentions[3].direction == "inbound"
    assert dropped == 0
    assert len(numbers) == 1
    stored = numbers[0]
    assert (stored.message_id, stored.status, stored.order_reference, stored.direction) == (
        "msg_1", "in_transit", "W123456", "inbound",
    )  # fmt: skip
    assert stored.expected_delivery == date(2026, 3, 3)


def test_claims_fill_what_the_rules_leave_open_and_unbacked_ones_are_counted() -> None:
    vague = (
        "Quick update on your two parcels: the first one was delivered, the second one is "
        f"delayed.\n\nTracking numbers: {UPS} and {USPS}"
    )
    prepared = [prepare(message("msg_9", T0, vague, inbound=False))]
    found = merge("cnv_1", prepared, None)
    _, open_mentions, _ = describe(prepared, found)
    assert {m.status for m in open_mentions} == {"unknown"}
    claims = {
        ("msg_9", UPS): ("delivered", None, None),
        ("msg_9", USPS): ("exception", "W1", "2026-03-01"),  # order too short, no date stated
        ("msg_1", UPS): ("returned", None, None),  # a message that does not name it
    }
    numbers, mentions, dropped = describe(prepared, found, claims)
    assert {m.tracking_number: m.status for m in mentions} == {UPS: "delivered", USPS: "exception"}
    assert {m.direction for m in mentions} == {"outbound"}
    assert dropped == 3
    assert {n.status for n in numbers} == {"delivered", "exception"}


def test_a_number_a_mail_client_broke_over_two_quoted_lines_is_a_quoted_mention() -> None:
    broken = f"> Your parcel {UPS[:10]}\n> {UPS[10:]} has shipped."
    reply = message("msg_2", T0 + 60, f"Thanks!\n\nOn Tue, 24 Feb 2026, Shop wrote:\n{broken}")
    prepared = [prepare(message("msg_1", T0, SHIPPED)), prepare(reply)]
    _, mentions, _ = describe(prepared, merge("cnv_1", prepared, None))
    assert [(m.message_id, m.quoted) for m in mentions] == [("msg_1", False), ("msg_2", True)]
    # A claim about a number its message only quotes has nothing to back it: dropped.
    _, _, dropped = describe(
        prepared, merge("cnv_1", prepared, None), {("msg_2", UPS): ("delivered", None, None)}
    )
    assert dropped == 1


def test_a_number_is_found_printed_in_groups_but_not_inside_a_longer_one() -> None:
    assert printed_at(f"see {UPS[:2]} {UPS[2:10]}-{UPS[10:]} now", UPS) == 4
    assert printed_at(f"ref 7{USPS}", USPS) == -1


def test_only_a_message_the_rules_cannot_read_needs_the_model() -> None:
    vague = (
        "Quick update on your two parcels: the first one was delivered, the second one is "
        f"delayed.\n\nTracking numbers: {UPS} and {USPS}"
    )
    assert left_open([prepare(message("msg_9", T0, vague))])
    assert not left_open([prepare(m) for m in _thread()])
    two_orders = f"Order W111111 and order W222222.\n\nTracking {UPS}."
    assert left_open([prepare(message("msg_8", T0, two_orders))])
