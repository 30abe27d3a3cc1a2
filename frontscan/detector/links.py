"""URLs in mail: where they are (numbers inside them are never stored) and what they prove.

Real notifications are full of ids in links: shipment ids, Unix timestamps, campaign
hashes. A number that occurs only inside a URL is never a candidate of its own. But a
link to a carrier's own tracking page that carries a number as a path segment or query
value is the strongest evidence there is for the number printed beside it: it names
the carrier and says "this is a tracking number".
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from frontscan.detector.vocabulary import TRACKING_HOSTS

_TLD = r"\.(?:com|net|org|de|fr|es|pl|it|nl|eu|uk|au|ca|se|dk|at|io)/"
_URL = re.compile(
    rf"(?:https?://|www\.)[^\s<>\"'()\[\]]+|\b[a-z0-9][a-z0-9.-]*{_TLD}[^\s<>\"'()\[\]]*",
    re.IGNORECASE,
)
_HINT = re.compile(rf"://|www\.|{_TLD}", re.IGNORECASE)
_HINT_LOWER = re.compile(rf"://|www\.|{_TLD}")  # the same test on lower-cased ASCII text
_ID = re.compile(r"[A-Za-z0-9]{8,40}")


def url_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every URL-looking piece of `text`, in order."""
    hint = _HINT_LOWER.search(text.lower()) if text.isascii() else _HINT.search(text)
    if hint is None:
        return []
    return [m.span() for m in _URL.finditer(text)]


def without_urls(text: str) -> str:
    """`text` with every URL replaced by a space: what a number must occur in to count."""
    spans = url_spans(text)
    if not spans:
        return text
    pieces: list[str] = []
    last = 0
    for start, end in spans:
        pieces += [text[last:start], " "]
        last = end
    return "".join(pieces) + text[last:]


def inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """True when [start, end) overlaps one of the sorted, disjoint `spans`."""
    if not spans:
        return False
    index = bisect.bisect_right(spans, (start, 1 << 62)) - 1
    if index >= 0 and spans[index][1] > start:
        return True
    return index + 1 < len(spans) and spans[index + 1][0] < end


def carrier_of_host(host: str) -> str | None:
    """The carrier whose tracking site `host` is (any subdomain of a known host)."""
    host = host.lower().rstrip(".")
    while host:
        found = TRACKING_HOSTS.get(host)
        if found is not None:
            return found
        _, dot, host = host.partition(".")
        if not dot:
            return None
    return None


def link_evidence(urls: Iterable[str]) -> dict[str, str]:
    """Normalized id -> carrier, for ids in the path or query of carrier tracking links."""
    evidence: dict[str, str] = {}
    for url in urls:
        raw = url if "://" in url else f"https://{url}"
        try:
            parts = urlsplit(raw)
        except ValueError:
            continue
        carrier = carrier_of_host(parts.hostname or "")
        if carrier is None:
            continue
        where = unquote(f"{parts.path}?{parts.query}#{parts.fragment}".replace("+", " "))
        for token in _ID.findall(where.replace(" ", "")):
            if sum(c.isdigit() for c in token) >= 6:
                evidence.setdefault(token.upper(), carrier)
    return evidence
