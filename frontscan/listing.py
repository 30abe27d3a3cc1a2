"""Whether one paged Front listing can be trusted: loops, overlaps and shortfalls.

Front pages by `_pagination.next` and counts a search's matches in `_total`
(front-api.md §1). A next link that leads back to a page already read would loop
forever; a page that repeats results of an earlier one would count (and queue) them
twice; a dropped or skipping next link ends a listing early, and the conversations it
never showed would be lost without a word if the run then advanced the cron watermark
past them. `Listing` follows one listing page by page: it hands on only results not seen
before, refuses a next link already followed, and at the end says whether the listing
fell short of the total the first page announced (or, with no total, whether it had to
stop at a loop). Pure: no I/O, plain unit tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
logger = logging.getLogger(__name__)


STALE_PAGES = 3  # pages in a row with nothing new: the next links go round in a circle


class Listing:
    """One listing (`what`, for messages) followed page by page."""

    def __init__(self, what: str, first_url: str) -> None:
        self.what = what
        self._followed = {first_url}
        self._ids: set[str] = set()
        self.pages = 0
        self.repeated = 0  # results already handed on by an earlier page
        self.looped = False
        self._stale = 0  # pages in a row that brought nothing new
        self.total: int | None = None  # the first page's `_total`, when it has one
        self.recount: int | None = None  # `_total` asked again when the pages fell short

    @property
    def listed(self) -> int:
        return len(self._ids)

    def page(self, results: Iterable[T], key: Callable[[T], str], total: object = None) -> list[T]:
        """The page's results not handed on before (each once, in order)."""
        self.pages += 1
        if self.pages == 1 and isinstance(total, int) and not isinstance(total, bool):
            self.total = total
        fresh: list[T] = []
        for item in results:
            ident = key(item)
            if ident in self._ids:
                self.repeated += 1
                continue
            self._ids.add(ident)
            fresh.append(item)
        self._stale = 0 if fresh else self._stale + 1
        return fresh

    def follow(self, url: str | None) -> bool:
        """Whether to read `url` next: no when there is none, when it was read already, or
        when the last `STALE_PAGES` pages brought nothing new (a loop whose links differ:
        an opaque page token can lead back to a page as well as a repeated URL can)."""
        if url is None:
            return False
        if url in self._followed or self._stale >= STALE_PAGES:
            self.looped = True
            why = (
                "leads back to a page already read"
                if url in self._followed
                else (f"follows {self._stale} pages with nothing new")
            )
            logger.info(
                "%s: page %d's next link %s; stopping there", self.what, self.pages, why,
                extra={"event": "front.page_loop", "listing": self.what, "page": self.pages},
            )  # fmt: skip
            return False
        self._followed.add(url)
        return True

    @property
    def short(self) -> bool:
        """Fewer listed than the first page's `_total`: worth counting again."""
        return self.total is not None and self.listed < self.total

    def recounted(self, total: object) -> None:
        """`_total` as a second look at the first page gives it, after the listing."""
        if isinstance(total, int) and not isinstance(total, bool):
            self.recount = total

    def problem(self, *, use_total: bool = True) -> str | None:
        """Why the listing cannot be trusted to be whole, or None when it can.

        With `use_total` false (`front.check_search_total = false`, for an account whose
        `_total` proves approximate) a shortfall is logged (`front.listing_short`) and
        only a loop counts, as for a listing with no total.

        Short of the first page's `_total`: pages were dropped or skipped, unless the
        total counted again after the listing is no more than what was listed: then
        conversations left the window meanwhile (new activity moved them past a slice's
        `before:`), and those are in the next run's window anyway. With no total, a loop
        is the only sign, and what lay past it was never read. More than the total is no
        problem (new activity during the listing adds matches).
        """
        if self.repeated:
            logger.info(
                "%s: %d results repeated an earlier page; each is used once",
                self.what, self.repeated,
                extra={"event": "front.page_overlap", "listing": self.what,
                       "repeated": self.repeated, "pages": self.pages},
            )  # fmt: skip
        if self.short and not use_total:
            logger.info(
                "%s: %d listed of the %d Front counted (not checked: check_search_total)",
                self.what, self.listed, self.total,
                extra={"event": "front.listing_short", "listing": self.what,
                       "listed": self.listed, "total": self.total},
            )  # fmt: skip
            return (
                f"{self.what}: a next link looped after {self.pages} pages" if self.looped else None
            )
        if self.short and self.recount is not None and self.listed >= self.recount:
            logger.info(
                "%s: %d listed of %d, and Front now counts %d: they left the window",
                self.what, self.listed, self.total, self.recount,
                extra={"event": "front.listing_recounted", "listing": self.what,
                       "listed": self.listed, "total": self.total, "recount": self.recount},
            )  # fmt: skip
            return None
        if self.short:
            pages = f"{self.pages} page" + ("s" if self.pages != 1 else "")
            looping = ", a next link looping" if self.looped else ""
            return (
                f"{self.what}: Front counted {self.total} but its pages listed {self.listed} "
                f"({pages}{looping})"
            )
        if self.total is None and self.looped:
            return f"{self.what}: a next link looped after {self.pages} pages"
        return None
