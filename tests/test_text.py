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
    assert clean_message("<p>Plain text.</p>", "plain text").new == "plain text"
    assert clean_message("<p>html</p>", "plain").new == "plain\n\nhtml"  # plain first
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


def _notice_html(status_line: str, number: str, printed: str) -> str:
    """A carrier notification as shops send it: header, preheader, a parcel table with the
    number split into spans and a tracking link, buttons and a long legal footer."""
    spans = "".join(f"<span>{group}</span>" for group in printed.split())
    footer = "".join(f"<p style='font-size:10px;color:#999'>{line}</p>" for line in _legal(6))
    return (
        "<html><head><style>td{padding:4px}</style></head><body>"
        "<div style='display:none'>Your parcel update from Lumen Audio</div>"
        "<table width='600'><tr><td><img src='https://cdn.example.com/logo.png' alt=''></td></tr>"
        f"<tr><td><h1>{status_line}</h1><p>Hello Anna, here is the latest on order #58213.</p>"
        "</td></tr><tr><td><table><tr><th>Carrier</th><th>Tracking number</th></tr>"
        f"<tr><td>DHL</td><td><a href='https://www.dhl.de/track?piececode={number}'>{spans}"
        "</a></td></tr></table></td></tr>"
        "<tr><td><a href='https://shop.example.com/account'>My account</a></td></tr>"
        f"</table>{footer}</body></html>"
    )


def _legal(count: int) -> list[str]:
    return [
        f"Paragraph {i}: you receive this e-mail because you ordered from Lumen Audio. "
        "Prices include VAT. Lumen Audio GmbH, Marktstraße 1, 10115 Berlin, HRB 123456."
        for i in range(count)
    ]


def test_html_lines_the_plain_part_lacks_are_kept_once() -> None:
    """The status phrase stands only in the HTML. Under a plain part that is a mere
    pointer to the browser version the HTML is the text; under a generated plain part
    that has the pointer and the legal footer but not the parcel lines (too long to count
    as a stub) the HTML adds exactly the lines it lacks; under a complete plain part it
    adds no line at all."""
    number = "00340434161094042557"
    pointer = (
        "View this e-mail in your browser: "
        "https://view.mail.example.net/v/90936174799314?ts=1714925887"
    )
    for status_line, phrase in (
        ("Your parcel is out for delivery today", "out for delivery"),
        ("Ihr Paket wurde zugestellt", "wurde zugestellt"),
    ):
        html = _notice_html(status_line, number, "00 3404 3416 1094 0425 57")
        generated = pointer + "\n\n" + "\n".join(_legal(6))
        for plain in (pointer, generated):
            new = clean_message(html, plain).new
            assert phrase in new.lower(), plain
            assert new.count(status_line) == 1
            assert "order #58213" in new
            assert new.count(number) == 1  # its spans read as one, and only once
            assert new.count("Paragraph 3:") == 1
        assert clean_message(html, generated).new.startswith(generated)

        complete = (
            f"{status_line}\n\nHello Anna, here is the latest on order #58213.\n\n"
            f"Carrier: DHL\nTracking number: {number}\n\nMy account: "
            "https://shop.example.com/account\n\n" + "\n".join(_legal(6))
            + "\nYour parcel update from Lumen Audio"
        )  # fmt: skip
        assert clean_message(html, complete).new == complete
