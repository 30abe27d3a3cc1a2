"""Batch files as pure data: lines, splitting under the limits, result lines, prepared text."""

from __future__ import annotations

import json

import pytest

from frontscan.batch.lines import (
    BatchRequest,
    Limits,
    conversation_of,
    custom_id,
    fits_alone,
    jsonl,
    parse_results,
    prepared_from_json,
    prepared_json,
    request_line,
    split,
    usage_of,
)
from frontscan.extract import batch_body, claims_from_batch
from frontscan.models import Message
from frontscan.prompt import model_call, prepare

HTML = (
    "<html><body><p>Hi Dana,</p><p>Your order shipped with UPS, tracking number "
    "<a href='https://www.ups.com/track?tracknum=1Z999AA10123456784'>1Z 999 AA1 01 2345 6784"
    "</a>.</p><p>Thanks, the warehouse team</p></body></html>"
)


def request(index: int, *, size: int = 100, tokens: int = 10) -> BatchRequest:
    custom = f"cnv_{index}:abc"
    line = request_line(custom, {"model": "gpt-4o-mini", "pad": "x" * size})
    return BatchRequest(
        custom_id=custom,
        conversation_id=f"cnv_{index}",
        line=line,
        prompt_tokens=tokens,
        completion_budget=400,
    )


def test_custom_id_holds_the_conversation_and_a_short_hash() -> None:
    custom = custom_id("cnv_abc:1", "f" * 64)
    assert custom == "cnv_abc:1:" + "f" * 16
    assert conversation_of(custom) == "cnv_abc:1"


def test_request_line_is_one_post_to_chat_completions() -> None:
    line = request_line("cnv_1:h", {"model": "gpt-4o-mini", "messages": []})
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert json.loads(line) == {
        "custom_id": "cnv_1:h",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": []},
    }


def test_split_honours_the_request_count() -> None:
    chunks = split([request(i) for i in range(7)], Limits(max_requests=3))
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert [r.custom_id for c in chunks for r in c] == [f"cnv_{i}:abc" for i in range(7)]


def test_split_honours_bytes_and_enqueued_tokens() -> None:
    items = [request(i, size=1000, tokens=40) for i in range(6)]
    size = len(items[0].line)
    by_bytes = split(items, Limits(max_bytes=2 * size + 10))
    assert [len(c) for c in by_bytes] == [2, 2, 2]
    by_tokens = split(items, Limits(max_tokens=130))
    assert [len(c) for c in by_tokens] == [3, 3]
    assert all(sum(len(r.line) for r in c) <= 2 * size + 10 for c in by_bytes)


def test_a_request_too_big_alone_is_left_out() -> None:
    big = request(1, tokens=500)
    limits = Limits(max_tokens=100)
    assert not fits_alone(big, limits)
    assert split([request(0), big, request(2)], limits) == [[request(0), request(2)]]


def test_jsonl_is_the_lines_in_order() -> None:
    assert jsonl([request(0), request(1)]) == request(0).line + request(1).line


def test_result_lines_answer_error_and_expired() -> None:
    answer = {
        "id": "batch_req_1",
        "custom_id": "cnv_1:h",
        "response": {"status_code": 200, "request_id": "req_1", "body": {"usage": {
            "prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}}},
        "error": None,
    }  # fmt: skip
    failure = {
        "id": "batch_req_2",
        "custom_id": "cnv_2:h",
        "response": {"status_code": 500, "request_id": "req_2", "body": {"error": {
            "message": "The server had an error", "type": "server_error", "param": None,
            "code": None}}},
        "error": None,
    }  # fmt: skip
    expired = {
        "id": "batch_req_3",
        "custom_id": "cnv_3:h",
        "response": None,
        "error": {"code": "batch_expired", "message": "This request could not be executed."},
    }
    content = "\n".join(json.dumps(r) for r in (expired, answer, failure)).encode() + b"\n"
    results = parse_results(content)
    assert results["cnv_1:h"].kind == "answer"
    assert results["cnv_1:h"].body is not None
    assert usage_of(results["cnv_1:h"].body) == (12, 3)
    assert results["cnv_2:h"].kind == "error"
    assert results["cnv_2:h"].error == "HTTP 500 server_error: The server had an error"
    assert results["cnv_3:h"].kind == "expired"
    assert str(results["cnv_3:h"].error).startswith("batch_expired: ")


def test_a_broken_result_file_is_refused() -> None:
    with pytest.raises(ValueError, match="not JSON"):
        parse_results(b'{"custom_id": "a"\n')


def test_prepared_text_round_trips_with_its_candidates() -> None:
    message = Message(
        id="msg_1", conversation_id="cnv_1", created_at=1_767_225_600.123, type="email",
        is_inbound=False, subject="Shipped", body=HTML, text=None,
    )  # fmt: skip
    prepared = [prepare(message)]
    again = prepared_from_json("cnv_1", "Shipped", json.loads(prepared_json(prepared)))
    assert [(p.message.id, p.message.created_at, p.text, p.content_hash) for p in again] == [
        (p.message.id, p.message.created_at, p.text, p.content_hash) for p in prepared
    ]
    assert again[0].candidates == prepared[0].candidates
    assert again[0].candidates  # the UPS number printed in groups


def test_batch_line_is_the_online_request_and_its_answer_parses_the_same() -> None:
    message = Message(
        id="msg_1", conversation_id="cnv_1", created_at=1.0, type="email", is_inbound=False,
        subject="Shipped", body=HTML, text=None,
    )  # fmt: skip
    call = model_call("Shipped", [prepare(message)], model="gpt-4o-mini", max_completion_tokens=99)
    body = batch_body(call)
    assert body["max_completion_tokens"] == 99
    assert body["messages"] == call.body()["messages"]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    content = json.dumps({"numbers": [{"message_id": "msg_1", "tracking_number":
                          "1Z999AA10123456784", "carrier": "ups", "status": "in_transit",
                          "order_reference": None, "expected_delivery": None}]})  # fmt: skip
    completion = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None, "message": {
            "role": "assistant", "content": content, "refusal": None}}],
    }  # fmt: skip
    claims = claims_from_batch(completion, 99)
    assert [(c.message_id, c.tracking_number, c.carrier, c.status) for c in claims] == [
        ("msg_1", "1Z999AA10123456784", "ups", "in_transit")
    ]
