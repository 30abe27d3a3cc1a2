"""The names `export` and `shipments` filter on, checked before they match nothing.

A `--carrier` or `--status` that names nothing would print nothing and exit 0, so a
typo (`--carrier usp`) looks like an empty ledger. A carrier is known when the
detector has a format or a tracking page for it, or the ledger holds a number of it
(the model may name carriers the detector has no format for); otherwise it is refused
with the names to use and the nearest one. A known carrier with no rows still exports
nothing, successfully. Pure functions apart from `checked_carrier`, which asks the
ledger only for a name the detector does not know.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable
from typing import Any, Protocol

from frontscan.detector.formats import CARRIER_CODES
from frontscan.detector.vocabulary import TRACKING_URLS
from frontscan.errors import UsageError

DETECTOR_CARRIERS = CARRIER_CODES | frozenset(TRACKING_URLS)


class CarrierCounts(Protocol):
    async def rows(self, name: str) -> list[dict[str, Any]]: ...


def carrier_code(value: str) -> str:
    """The stored form of a carrier name: `Royal Mail` → `royal_mail` (as `answers` stores)."""
    return "_".join(value.lower().split())


def known_carrier(value: str, stored: Iterable[str] = ()) -> str:
    """`value` as stored, or a `UsageError` naming the carriers to use."""
    code = carrier_code(value)
    known = DETECTOR_CARRIERS | frozenset(stored)
    if code in known:
        return code
    if not code:
        raise UsageError("--carrier needs a carrier name, e.g. --carrier ups")
    raise UsageError(f"--carrier {value!r} is not a carrier frontscan knows: {_hint(code, known)}")


def known_status(value: str, statuses: Collection[str]) -> str:
    """`value` if it is one of `statuses` (case and spaces forgiven), else a `UsageError`."""
    code = carrier_code(value)
    if code in statuses:
        return code
    raise UsageError(f"--status {value!r} is not a parcel status: {_hint(code, statuses)}")


async def checked_carrier(ledger: CarrierCounts, value: str | None) -> str | None:
    """`known_carrier`, reading the ledger's carriers only for a name the detector lacks."""
    if value is None:
        return None
    if carrier_code(value) in DETECTOR_CARRIERS:
        return carrier_code(value)
    stored = [str(row["carrier"]) for row in await ledger.rows("numbers_by_carrier")]
    return known_carrier(value, stored)


def _hint(code: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(code, list(choices), n=1)
    near = f"did you mean {close[0]!r}? " if close else ""
    return f"{near}use one of {', '.join(sorted(choices))}"
