"""Front's search syntax and keyset page tokens, for the simulated Front server.

Search: `after:`/`before:`/`during:` take unix seconds and filter on a conversation's
last activity; `inbox:`, `tag:`, `is:`, `from:`, `to:` narrow further; everything else is
free text (quoted phrases kept whole) ANDed against subject and bodies. Malformed input is
a 400, as Front rejects `before:2026-01-01`.

Page tokens are opaque hex wrapping the sort key of the last item served, so paging stays
consistent while new mail moves conversations to the top (they are not served twice).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from frontscan.simulator.records import SimConversation

IS_VALUES = frozenset(
    {
        "open",
        "archived",
        "assigned",
        "unassigned",
        "snoozed",
        "trashed",
        "unreplied",
        "waiting",
        "resolved",
    }
)
FILTERS = frozenset({"after", "before", "during", "inbox", "tag", "is", "from", "to"})
MAX_FILTERS = 15
_TOKEN = re.compile(r'(\w+):("[^"]*"|\S+)|"([^"]*)"|(\S+)')


class QueryError(ValueError):
    """The query cannot be parsed; the server answers 400 with this message."""


@dataclass(frozen=True, slots=True)
class SearchQuery:
    after: float | None = None
    before: float | None = None
    inboxes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    words: tuple[str, ...] = field(default_factory=tuple)

    def matches(self, conv: SimConversation, haystack: str) -> bool:
        last = conv.last_activity
        if self.after is not None and last <= self.after:
            return False
        if self.before is not None and last >= self.before:
            return False
        if any(inbox != conv.inbox_id for inbox in self.inboxes):
            return False
        if any(tag not in conv.tag_ids for tag in self.tags):
            return False
        if not all(_status_matches(status, conv) for status in self.statuses):
            return False
        if self.senders and not any(_handles(conv, "from", s) for s in self.senders):
            return False
        if self.recipients and not any(_handles(conv, "to", r) for r in self.recipients):
            return False
        return all(word in haystack for word in self.words)


def _status_matches(status: str, conv: SimConversation) -> bool:
    if status == "open":
        return conv.status in ("assigned", "unassigned")
    if status == "trashed":
        return conv.status == "deleted"
    if status == "unreplied":
        return conv.last_message.is_inbound
    if status in ("archived", "assigned", "unassigned"):
        return conv.status == status
    return False  # snoozed, waiting, resolved: nothing is snoozed and ticketing is off


def _handles(conv: SimConversation, role: str, handle: str) -> bool:
    wanted = handle.lower()
    for msg in conv.messages:
        party = msg.sender if role == "from" else msg.recipient
        if party.handle.lower() == wanted:
            return True
    return False


def _seconds(name: str, value: str) -> float:
    try:
        return float(int(value))
    except ValueError:
        raise QueryError(f"Invalid value for {name}: expected a unix timestamp") from None


def parse_query(raw: str) -> SearchQuery:
    """Parse Front's search syntax into a `SearchQuery`, or raise `QueryError`."""
    after: float | None = None
    before: float | None = None
    lists: dict[str, list[str]] = {"inbox": [], "tag": [], "is": [], "from": [], "to": []}
    words: list[str] = []
    filters = 0
    for match in _TOKEN.finditer(raw):
        name, value, phrase, word = match.groups()
        if name is not None:
            name = name.lower()
            if name not in FILTERS:
                raise QueryError(f"Unsupported search filter: {name}")
            filters += 1
            value = value.strip('"')
            if name == "after":
                after = _seconds(name, value)
            elif name == "before":
                before = _seconds(name, value)
            elif name == "during":
                day = datetime.fromtimestamp(_seconds(name, value), UTC).replace(
                    hour=0, minute=0, second=0, microsecond=0
                )
                after = day.timestamp() - 0.001
                before = (day + timedelta(days=1)).timestamp()
            else:
                if name == "is" and value not in IS_VALUES:
                    raise QueryError(f"Unsupported value for is: {value}")
                lists[name].append(value)
        elif phrase is not None:
            if phrase.strip():
                words.append(phrase.lower())
        elif word is not None:
            words.append(word.lower())
    if filters > MAX_FILTERS:
        raise QueryError(f"Too many filters: at most {MAX_FILTERS} are allowed")
    if not words and filters == 0:
        raise QueryError("Empty search query")
    return SearchQuery(
        after=after,
        before=before,
        inboxes=tuple(lists["inbox"]),
        tags=tuple(lists["tag"]),
        statuses=tuple(lists["is"]),
        senders=tuple(lists["from"]),
        recipients=tuple(lists["to"]),
        words=tuple(words),
    )


def encode_token(kind: str, stamp: float, item_id: str) -> str:
    """An opaque hex token carrying the sort key of the last item served."""
    return f"{kind}|{stamp:.3f}|{item_id}".encode().hex()


def decode_token(kind: str, token: str) -> tuple[float, str]:
    try:
        found, stamp, item_id = bytes.fromhex(token).decode().split("|")
        if found != kind:
            raise ValueError(kind)
        return float(stamp), item_id
    except ValueError:
        raise QueryError("Invalid page token") from None


def after_key(key: tuple[float, str], cursor: tuple[float, str], descending: bool) -> bool:
    """Whether an item's (time, id) sorts strictly after the cursor in the given order."""
    if descending:
        return (-key[0], key[1]) > (-cursor[0], cursor[1])
    return key > cursor
