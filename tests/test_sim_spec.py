"""Sample responses of every fake Front route validate against Front's own OpenAPI spec.

The spec (frontapp/front-api-specs core-api.json) is reference data kept outside the
project; without it these tests skip. OpenAPI 3.0's `nullable` is translated to JSON
Schema, and `$ref`s resolve inside the spec. Two fields the spec types as non-null are
null in real responses (front-api.md §3: `author` on inbound messages, `text` on non-text
mail); the test widens exactly those two and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator

from frontscan.simulator import RunningSimulator, SimulatorOptions, running_simulator

SPEC = Path(__file__).resolve().parents[2] / "shared" / "specs" / "core-api.json"
REAL_WORLD_NULLS = {"MessageResponse": ("author", "text")}
KNOWN_EXTRAS = {"is_draft", "address", "send_as", "type"}


def _openapi_to_jsonschema(node: Any) -> Any:
    if isinstance(node, list):
        return [_openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _openapi_to_jsonschema(value) for key, value in node.items()}
    if out.pop("nullable", False):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC.exists():
        pytest.skip(
            "Front's core-api.json spec not available: reference data, not part of the project"
        )
    raw = json.loads(SPEC.read_text())
    schemas = raw["components"]["schemas"]
    for name, fields in REAL_WORLD_NULLS.items():
        for field in fields:
            schemas[name]["properties"][field]["nullable"] = True
    converted: dict[str, Any] = _openapi_to_jsonschema(raw)
    return converted


def validator_for(spec: dict[str, Any], path: str) -> Draft202012Validator:
    """A validator for the 200 response of `GET path`, as the spec itself declares it."""
    ref = spec["paths"][path]["get"]["responses"]["200"]["$ref"]
    name = ref.rsplit("/", 1)[-1]
    pointer = f"#/components/responses/{name}/content/application~1json/schema"
    root = {key: value for key, value in spec.items() if key != "paths"}
    return Draft202012Validator({**root, "$ref": pointer})


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    options = SimulatorOptions(
        conversations=80,
        seed=3,
        start=datetime(2026, 1, 1, tzinfo=UTC),
        end=datetime(2026, 2, 1, tzinfo=UTC),
        front_rpm=100_000,
        latency_scale=0.0,
    )
    async with running_simulator(options) as running:
        yield running


def check(spec: dict[str, Any], path: str, body: Any) -> None:
    errors = sorted(validator_for(spec, path).iter_errors(body), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def check_no_unknown_fields(spec: dict[str, Any], schema: str, item: dict[str, Any]) -> None:
    """The spec allows extra fields, but a typo would slip through: only known extras pass."""
    declared = set(spec["components"]["schemas"][schema]["properties"])
    assert set(item) - declared <= KNOWN_EXTRAS


async def test_every_route_matches_the_spec(spec: dict[str, Any], sim: RunningSimulator) -> None:
    mailbox = sim.mailbox
    convs = list(mailbox.conversations.values())
    samples = [c for c in convs if c.assignee_id and c.tag_ids][:2]
    samples += [next(c for c in convs if c.channel == kind) for kind in ("sms", "custom")]
    samples += [next(c for c in convs if any(m.text is None for m in c.messages))]
    headers = {"Authorization": f"Bearer {sim.front_token}"}
    base = sim.front_url
    async with aiohttp.ClientSession(headers=headers) as http:

        async def get(url: str) -> Any:
            async with http.get(url) as response:
                assert response.status == 200
                return await response.json()

        check(spec, "/me", await get(f"{base}/me"))
        inboxes = await get(f"{base}/inboxes")
        check(spec, "/inboxes", inboxes)
        for inbox in inboxes["_results"]:
            check_no_unknown_fields(spec, "InboxResponse", inbox)
        listing = await get(f"{base}/conversations?limit=100")
        check(spec, "/conversations", listing)
        check(
            spec,
            "/conversations/search/{query}",
            await get(f"{base}/conversations/search/is%3Aopen"),
        )
        for conv in samples:
            body = await get(f"{base}/conversations/{conv.id}")
            check(spec, "/conversations/{conversation_id}", body)
            check_no_unknown_fields(spec, "ConversationResponse", body)
            messages = await get(f"{base}/conversations/{conv.id}/messages")
            check(spec, "/conversations/{conversation_id}/messages", messages)
            for message in messages["_results"]:
                check_no_unknown_fields(spec, "MessageResponse", message)
                single = await get(f"{base}/messages/{message['id']}")
                check(spec, "/messages/{message_id}", single)
        broken = await get(f"{base}/conversations/{samples[0].id}")
    del broken["subject"]
    broken["status"] = "snoozed"
    broken["recipient"]["role"] = "sender"
    errors = list(validator_for(spec, "/conversations/{conversation_id}").iter_errors(broken))
    assert len(errors) == 3  # the validator really checks required fields, enums and $refs


async def test_events_match_the_spec(spec: dict[str, Any], sim: RunningSimulator) -> None:
    """The envelope and each event's own fields validate against list-events; a message
    target's `data` is checked as a MessageResponse and the conversation as a
    ConversationResponse, because the spec's `oneOf` over objects that share no required
    fields cannot tell them apart (every object matches several branches)."""
    headers = {"Authorization": f"Bearer {sim.front_token}"}
    root = {key: value for key, value in spec.items() if key != "paths"}
    message_schema = Draft202012Validator({**root, "$ref": "#/components/schemas/MessageResponse"})
    url = f"{sim.front_url}/events?limit=15&sort_order=asc"
    async with aiohttp.ClientSession(headers=headers) as http, http.get(url) as response:
        assert response.status == 200
        body = await response.json()
    events = body["_results"]
    kinds = {e["type"] for e in events}
    assert "inbound" in kinds
    assert len(kinds) > 1
    for event in events:
        target = event["target"]
        if target["_meta"]["type"] == "message":
            errors = list(message_schema.iter_errors(target["data"]))
            assert not errors, errors[0].message
            check_no_unknown_fields(spec, "MessageResponse", target["data"])
        check_no_unknown_fields(spec, "EventResponse", event)
        check_no_unknown_fields(spec, "ConversationResponse", event["conversation"])
        event["target"] = {"_meta": target["_meta"]}  # the oneOf, see above
    check(spec, "/events", body)
