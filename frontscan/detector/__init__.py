"""The deterministic detector: carrier formats as data, check digits, text cleaning.

`find_candidates(text)` is the whole detector from the outside: every tracking-number
shaped match with its carrier, format and checksum verdict. `normalize` is the one form
numbers are stored and compared in; `tracking_url` links a number to its carrier.
"""

from frontscan.detector.carriers import find_candidates, tracking_url
from frontscan.detector.matching import normalize

__all__ = ["find_candidates", "normalize", "tracking_url"]
