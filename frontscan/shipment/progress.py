"""Which statement about a parcel is the latest word on it.

A parcel's status only moves forward (label → transit → out for delivery → delivered →
returned) or to `exception`; from an exception it moves on only when the parcel is out
for delivery again, delivered or returned. A statement made before the current one
never moves it: that is what keeps a quoted or re-scanned old "shipped" mail from
undoing a newer "delivered" or "never arrived". The ledger applies the same rule in SQL
(`frontscan.status_advances`, migration 007); a test checks both agree on every case.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

ShipmentStatus = Literal[
    "label_created", "in_transit", "out_for_delivery", "delivered", "exception", "returned",
    "unknown",
]  # fmt: skip
STATUSES: tuple[ShipmentStatus, ...] = (
    "label_created", "in_transit", "out_for_delivery", "delivered", "exception", "returned",
    "unknown",
)  # fmt: skip
RANK: dict[str, int] = {
    "unknown": 0,
    "label_created": 1,
    "in_transit": 2,
    "out_for_delivery": 3,
    "delivered": 4,
    "returned": 5,
}
# What an exception can be resolved by: a new delivery attempt or an end state.
RESOLVES_EXCEPTION = RANK["out_for_delivery"]


def advances(current: str, current_at: float, new: str, new_at: float) -> bool:
    """Does a statement of `new` made at `new_at` replace `current`, stated at `current_at`?"""
    if new == "unknown" or new == current:
        return False
    if current == "unknown":
        return True
    if new_at < current_at or current == "returned":
        return False
    if new == "exception":
        return True
    if current == "exception":
        return RANK[new] >= RESOLVES_EXCEPTION
    return RANK[new] > RANK[current]


def latest(statements: Iterable[tuple[str, float]]) -> tuple[str, float | None]:
    """Fold (status, stated at) pairs, in the order they arrive, into the current status."""
    status, at = "unknown", None
    for new, new_at in statements:
        if advances(status, at if at is not None else new_at, new, new_at):
            status, at = new, new_at
    return status, at
