"""HTML to text, quoted replies in the styles of common mail clients, signatures, the cap."""

from __future__ import annotations

from frontscan.detector.text import clean_message, html_to_text, looks_like_html

UPS = "1Z999AA10123456784"


def test_html_blocks_breaks_entities_and_skipped_elements() -> None:
    html = (
        "<html><head><title>T</title><style>p {color: red}</style></head><body>"
        "<script>var x = '1Z999AA10123456784';</script>"
        "<h1>Shipped!</h1><p>Tracking&nbsp;number:   <b>123</b>&amp;more</p>"
        "Line one<br>Line two<br/>"
        "<ul><li>first</li><li>second</li></ul>"
        "<table><tr><td>Carrier</td><td>UPS</td></tr></table>"
        "<pre>keep   spacing</pre></body></html>"
    )
    assert html_to_text(html) == (
        "Shipped!\n\nTracking number: 123&more\nLine one\nLine two\n\nfirst\nsecond\n\n"
        "Carrier UPS\n\nkeep spacing"
    )


def test_blockquotes_are_marked_as_quoted() -> None:
    html = (
        "<div>Thanks!</div><div class='gmail_quote'><div>On Mon, Jan 1, 2024 at 9:00 AM "
        "Bob &lt;bob@example.com&gt; wrote:<br></div><blockquote class='gmail_quote'>"
        "<div>Where is my parcel?</div></blockquote></div>"
    )
    assert html_to_text(html).splitlines() == [
        "Thanks!",
        "",
        "> On Mon, Jan 1, 2024 at 9:00 AM Bob <bob@example.com> wrote:",
        "",
        "> Where is my parcel?",
    ]
    cleaned = clean_message(html, None)
    assert cleaned.new == "Thanks!"
    assert "Where is my parcel?" in cleaned.quoted


def test_front_quote_and_unclosed_markup() -> None:
    html = "<p>New text</p><div class='front-blockquote'>old <b>text"
    assert clean_message(html, None).new == "New text"
    assert clean_message(html, None).quoted == "> old text"


def test_plain_text_is_preferred_and_html_detected() -> None:
    assert clean_message("<p>html</p>", "plain").new == "plain"
    assert clean_message("if a < b and c > d", None).new == "if a < b and c > d"
    assert looks_like_html("<div>x</div>")
    assert not looks_like_html("3 < 4")


def test_gmail_reply_header_on_two_lines() -> None:
    text = (
        f"Here it is: {UPS}\n\nOn Tue, Feb 6, 2024 at 3:14 PM John Smith <john@example.com>\n"
        "wrote:\n> hello\n> where is it?"
    )
    cleaned = clean_message("", text)
    assert cleaned.new == f"Here it is: {UPS}"
    assert cleaned.quoted.startswith("On Tue, Feb 6")
    assert cleaned.quoted.endswith("> where is it?")


def test_reply_headers_in_other_languages() -> None:
    for header in (
        "Le mar. 6 févr. 2024 à 15:14, Jean Dupont <jean@example.fr> a écrit :",
        "Am Di., 6. Feb. 2024 um 15:14 Uhr schrieb Hans Muster <hans@example.de>:",
        "El mar, 6 feb 2024 a las 15:14, Ana <ana@example.es> escribió:",
        "Op di 6 feb. 2024 om 15:14 schreef Piet <piet@example.nl>:",
        "On 6 Feb 2024, at 15:14, Jane <jane@example.com> wrote:",
    ):
        cleaned = clean_message("", f"New part\n\n{header}\nold part")
        assert cleaned.new == "New part", header
        assert cleaned.quoted == f"{header}\nold part"


def test_outlook_header_block() -> None:
    text = (
        "Please see below.\n\n________________________________\n"
        "From: Carrier Desk <desk@example.com>\nSent: Monday, January 1, 2024 10:00 AM\n"
        f"To: Me\nSubject: RE: shipment\n\nYour number is {UPS}"
    )
    cleaned = clean_message("", text)
    assert cleaned.new == "Please see below."
    assert cleaned.quoted.startswith("________")
    assert UPS in cleaned.quoted


def test_original_and_forwarded_messages() -> None:
    for marker in (
        "-----Original Message-----",
        "---------- Forwarded message ---------",
        "Begin forwarded message:",
    ):
        cleaned = clean_message("", f"FYI\n{marker}\nFrom: a@example.com\nold {UPS}")
        assert cleaned.new == "FYI"
        assert UPS in cleaned.quoted


def test_inline_gt_lines_go_to_quoted() -> None:
    cleaned = clean_message("", "> question one\nanswer one\n> question two\nanswer two")
    assert cleaned.new == "answer one\nanswer two"
    assert cleaned.quoted == "> question one\n> question two"


def test_signatures_are_trimmed() -> None:
    for signature in (
        "-- \nJane Doe\nAcme Corp",
        "Sent from my iPhone",
        "Best regards,\nJane Doe\nAcme Corp\n+1 555 123 4567",
        "Kind regards,\nJane",
        "Thanks,\nJ.",
    ):
        cleaned = clean_message("", f"Your parcel shipped.\n\n{signature}")
        assert cleaned.new == "Your parcel shipped.", signature


def test_signature_with_a_tracking_number_is_kept() -> None:
    text = f"See below.\n\nThanks,\nUPS tracking {UPS}\nJane"
    assert UPS in clean_message("", text).new


def test_long_closing_text_is_not_a_signature() -> None:
    text = "Hi.\n\nThanks,\n" + "this line is part of the real message and it is long enough " * 2
    assert "real message" in clean_message("", text).new


def test_cap_sets_truncated() -> None:
    cleaned = clean_message("", "x" * 50, max_chars=10)
    assert (cleaned.new, cleaned.truncated) == ("x" * 10, True)
    assert clean_message("", "short").truncated is False
