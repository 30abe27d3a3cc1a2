"""`Listing`: each result once, loops refused, a listing short of its total named."""

from __future__ import annotations

import logging

import pytest

from frontscan.listing import STALE_PAGES, Listing


def test_repeated_results_are_handed_on_once_and_a_whole_listing_is_trusted() -> None:
    listing = Listing("search 'x'", "p1")
    assert listing.page(["a", "b", "c"], key=str, total=5) == ["a", "b", "c"]
    assert listing.follow("p2")
    assert listing.page(["c", "d", "e"], key=str, total=6) == ["d", "e"]  # overlap dropped
    assert not listing.follow(None)
    assert listing.repeated == 1
    assert listing.total == 5  # the first page's count, not a later one
    assert listing.problem() is None


def test_a_listing_short_of_its_total_is_named() -> None:
    listing = Listing("search 'x'", "p1")
    listing.page(["a", "b"], key=str, total=4)
    assert not listing.follow(None)  # the next link was dropped
    assert listing.problem() == "search 'x': Front counted 4 but its pages listed 2 (1 page)"


def test_a_shortfall_is_only_logged_when_totals_are_not_checked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`front.check_search_total = false`: an account whose `_total` overstates is not
    failed on every run; a loop still counts."""
    caplog.set_level(logging.INFO, logger="frontscan.listing")
    listing = Listing("search 'x'", "p1")
    listing.page(["a", "b"], key=str, total=4)
    assert not listing.follow(None)
    assert listing.problem(use_total=False) is None
    assert [r.__dict__["event"] for r in caplog.records] == ["front.listing_short"]
    looping = Listing("search 'x'", "p1")
    looping.page(["a"], key=str, total=4)
    assert looping.follow("p2")
    looping.page(["b"], key=str)
    assert not looping.follow("p1")
    assert looping.problem(use_total=False) == "search 'x': a next link looped after 2 pages"


def test_more_than_the_total_is_no_problem() -> None:
    listing = Listing("search 'x'", "p1")
    listing.page(["a", "b", "c"], key=str, total=2)  # new activity since the count
    assert listing.problem() is None


def test_a_next_link_already_followed_ends_the_listing() -> None:
    listing = Listing("event stream", "p1")
    listing.page(["a"], key=str)
    assert listing.follow("p2")
    listing.page(["b"], key=str)
    assert not listing.follow("p1")
    assert listing.looped
    assert listing.problem() == "event stream: a next link looped after 2 pages"


def test_pages_with_nothing_new_end_the_listing_whatever_their_links_say() -> None:
    listing = Listing("search 'x'", "p0")
    listing.page(["a", "b"], key=str, total=3)
    for page in range(1, STALE_PAGES + 1):
        assert listing.follow(f"p{page}")  # a page again, each time by a new token
        assert listing.page(["a", "b"], key=str) == []
    assert not listing.follow("p-next")
    assert listing.looped
    problem = listing.problem()
    assert problem is not None
    assert problem.endswith("listed 2 (4 pages, a next link looping)")


def test_one_page_with_nothing_new_does_not_end_the_listing() -> None:
    listing = Listing("search 'x'", "p0")
    listing.page(["a"], key=str, total=2)
    assert listing.follow("p1")
    listing.page([], key=str)  # Front may send a short, even empty, page mid-stream
    assert listing.follow("p2")
    assert listing.page(["b"], key=str) == ["b"]
    assert listing.problem() is None


def test_a_shortfall_the_recount_explains_is_no_problem() -> None:
    """Conversations that left the window mid-listing (new activity past `before:`)
    lower Front's count too; a dropped page does not."""
    moved = Listing("search 'x'", "p1")
    moved.page(["a", "b"], key=str, total=3)
    assert moved.short
    moved.recounted(2)
    assert moved.problem() is None
    dropped = Listing("search 'x'", "p1")
    dropped.page(["a", "b"], key=str, total=3)
    dropped.recounted(3)
    assert dropped.problem() == "search 'x': Front counted 3 but its pages listed 2 (1 page)"
