"""The check-digit algorithms carriers use (jkeen's six plus GLS's), as pure functions.

Each function takes the serial (the characters the check digit protects, already without
spaces) and returns the check character it expects, so one comparison validates a number
and the sample generator can produce a correct number without trial and error.
Written from the descriptions in shared/reference/tracking-numbers.md §3 and
carrier-formats-more.md §1 (GS1, DP 4/9 and Colissimo are mod10 with other weights).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

Algorithm = Literal["mod10", "mod7", "s10", "luhn", "sum_product", "mod37_36", "gls"]


def ups_value(char: str) -> int:
    """A digit is itself; a letter is (ASCII code - 3) mod 10, UPS's mapping (A=2, I=0, Z=7)."""
    if char.isdigit():
        return int(char)
    return (ord(char) - 3) % 10


def mod10(serial: str, evens: int, odds: int, *, reverse: bool = False) -> str:
    """Weighted mod 10: positions alternate between two multipliers, letters mapped as UPS does.

    Positions count from 0 at the left, or at the right when `reverse` is set; the check is
    whatever brings the weighted sum up to a multiple of ten.
    """
    chars = serial[::-1] if reverse else serial
    total = 0
    for position, char in enumerate(chars):
        total += ups_value(char) * (evens if position % 2 == 0 else odds)
    return str((10 - total % 10) % 10)


def gls(serial: str) -> str:
    """GLS parcel numbers: weights 3,1 from the left, plus one, then up to a multiple of ten."""
    total = 1 + sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(serial))
    return str((10 - total % 10) % 10)


def mod7(serial: str) -> str:
    """DHL Express: the whole serial read as one integer, modulo 7 (so the check is 0-6)."""
    return str(int(serial) % 7)


_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10(serial: str) -> str:
    """UPU S10: weights 8,6,4,2,3,5,9,7 mod 11; remainder 0 gives 5, remainder 1 gives 0."""
    remainder = sum(int(d) * w for d, w in zip(serial, _S10_WEIGHTS, strict=True)) % 11
    if remainder == 0:
        return "5"
    if remainder == 1:
        return "0"
    return str(11 - remainder)


def luhn(serial: str) -> str:
    """Standard Luhn: from the right, double every second digit starting with the rightmost."""
    total = 0
    for position, char in enumerate(reversed(serial)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """True if the last digit of an all-digit string is its Luhn check (card numbers)."""
    return len(number) > 1 and number.isdigit() and luhn(number[:-1]) == number[-1]


def sum_product(serial: str, weights: Sequence[int], modulo1: int = 11, modulo2: int = 10) -> str:
    """FedEx Express: sum of digit x weight, mod 11 then mod 10 (a remainder of 10 gives 0)."""
    total = sum(int(d) * w for d, w in zip(serial, weights, strict=True))
    return str(total % modulo1 % modulo2)


def mod37_36(serial: str) -> str:
    """ISO 7064 MOD 37,36 (hybrid), used by DPD: the check may be a digit or a letter."""
    p = 36
    for char in serial:
        p += _ALPHANUMERIC.index(char)
        if p > 36:
            p -= 36
        p *= 2
        if p > 36:
            p -= 37
    return _ALPHANUMERIC[(37 - p) % 36]


@dataclass(frozen=True, slots=True)
class Checksum:
    """One format's check-digit rule: the algorithm plus its constants, as data."""

    algorithm: Algorithm
    evens: int = 1
    odds: int = 1
    reverse: bool = False
    weights: tuple[int, ...] = ()

    def expected(self, serial: str) -> str:
        """The check character this rule expects for `serial`."""
        match self.algorithm:
            case "mod10":
                return mod10(serial, self.evens, self.odds, reverse=self.reverse)
            case "mod7":
                return mod7(serial)
            case "s10":
                return s10(serial)
            case "luhn":
                return luhn(serial)
            case "sum_product":
                return sum_product(serial, self.weights)
            case "mod37_36":
                return mod37_36(serial)
            case "gls":
                return gls(serial)

    @property
    def alphabet(self) -> str:
        """Every character a check can take: DPD's can be a letter, the rest are digits."""
        return _ALPHANUMERIC if self.algorithm == "mod37_36" else _ALPHANUMERIC[:10]
