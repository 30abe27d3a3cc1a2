"""Message bodies to plain text, with quoted history and signatures split off.

The model should see only what a message adds: replies carry the whole thread again,
and sending it every time multiplies cost and credits numbers to the wrong message.
HTML is read with the stdlib parser (never regex), blockquotes and Gmail/Front quote
containers come out as `> ` lines, and textual reply headers in several mail clients
and languages mark where the quoted part starts.

Both parts of a message are read: a notification's `text/plain` part is often a stub
("view this e-mail in your browser") while the package table and the status line live
only in the HTML, and the other way round. One part is the base; the other adds the
lines the base lacks (`merge_parts`), so nothing is hidden and nothing is sent twice. Link
targets (`href`) are kept beside the text: a carrier tracking link is evidence for the
number it names, though the URL itself is never part of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from frontscan.detector.carriers import find_candidates


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


_BLOCK = _words(
    "address article aside blockquote center dd div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr main nav ol p pre section table tbody thead tfoot ul"
)
_LINES = _words("li tr dt dd")
_SKIP = _words("style script head title noscript template")
_VOID = _words("area base br col embed hr img input link meta source track wbr")
_QUOTE_CLASSES = ("gmail_quote", "front-blockquote", "yahoo_quoted", "protonmail_quote")
_WHITESPACE = re.compile(r"\s+")
_QUOTE_IN, _QUOTE_OUT = "\ue000", "\ue001"
_HTML_HINT = re.compile(r"<(?:html|body|div|p|br|table|span|a|blockquote|font|b|i)\b[^>]*>", re.I)

_HEADER_LINE = re.compile(
    r"^\s*(?:"
    r"-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original"
    r"|forwarded message|weitergeleitete nachricht|message transféré)\s*-{2,}"
    r"|begin forwarded message:|forwarded message:"
    r"|(?:on|le|am|el|il|op|em|på|w dniu)\s.{4,250}?"
    r"(?:wrote|a écrit|schrieb|escribió|ha scritto|schreef|escreveu|skrev|napisał)\b.{0,120}:"
    r")\s*$",
    re.IGNORECASE,
)
_FROM = re.compile(r"^\s*\*?(?:from|de|von|van|da)\s?:\*?\s+\S", re.IGNORECASE)
_SENT = re.compile(
    r"^\s*\*?(?:sent|date|envoyé|gesendet|datum|enviado|fecha|inviato)\s?:", re.IGNORECASE
)
_RULE = re.compile(r"^\s*_{10,}\s*$")
_SIGNATURE = re.compile(
    r"^(?:-- ?|sent from my \w+.*|sent from (?:outlook|mail|yahoo).*|get outlook for \w+.*"
    r"|(?:best|kind|warm|many thanks|with)? ?regards,?|thanks(?: again)?[,!]?|thank you[,!]?"
    r"|cheers,?|sincerely,?|best,?|best wishes,?|mit freundlichen grüßen,?|cordialement,?"
    r"|saludos,?|groeten,?)\s*$",
    re.IGNORECASE,
)
_SIGNATURE_LINES = 7
_MAX_LINKS = 200
_STRETCH = re.compile(r"[A-Za-z0-9]*\d[A-Za-z0-9]*(?:[ .\-\u00a0]+[A-Za-z0-9]*\d[A-Za-z0-9]*)*")
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")
_WORD = re.compile(r"[^\W_]+")
_STUB_SHARE = 0.5  # a part this much shorter than the other is a stub, not the base


@dataclass(frozen=True, slots=True)
class CleanText:
    """The text a message adds (`new`), the history it quotes, and whether `new` was cut."""

    new: str
    quoted: str
    truncated: bool
    links: tuple[str, ...] = ()


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []
        self.skipping = 0
        self.links: list[str] = []
        self.quoting = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
            return
        if tag == "br":
            self.parts.append("\n")
            return
        classes = " ".join(v or "" for k, v in attrs if k in ("class", "id")).lower()
        quote = tag == "blockquote" or any(c in classes for c in _QUOTE_CLASSES)
        self.quoting += quote
        if tag == "a" and not self.quoting and len(self.links) < _MAX_LINKS:
            self.links.extend(v.strip() for k, v in attrs if k == "href" and v)
        if tag in _BLOCK or tag in _LINES:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        if quote:
            self.parts.append(_QUOTE_IN)
        if tag not in _VOID:
            self.stack.append((tag, quote))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
            return
        if not any(open_tag == tag for open_tag, _ in self.stack):
            return
        while self.stack:
            open_tag, quote = self.stack.pop()
            if quote:
                self.parts.append(_QUOTE_OUT)
                self.quoting -= 1
            if open_tag in _BLOCK:
                self.parts.append("\n")
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(_WHITESPACE.sub(" ", data))


def html_to_text(html: str) -> str:
    """Readable plain text: blocks and <br> become line breaks, quotes become `> ` lines."""
    return read_html(html)[0]


def read_html(html: str) -> tuple[str, tuple[str, ...]]:
    """The text of an HTML body (as `html_to_text`) and the targets of its unquoted links."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines: list[str] = []
    depth = 0
    for raw in "".join(parser.parts).replace("\xa0", " ").split("\n"):
        quoted = depth > 0 or _QUOTE_IN in raw
        depth += raw.count(_QUOTE_IN) - raw.count(_QUOTE_OUT)
        line = " ".join(raw.replace(_QUOTE_IN, "").replace(_QUOTE_OUT, "").split())
        if line:
            lines.append(f"> {line}" if quoted else line)
        elif lines and lines[-1]:
            lines.append("")
    return "\n".join(lines).strip(), tuple(parser.links)


def merge_parts(plain: str, html_text: str) -> str:
    """One text from a message's plain and HTML parts, nothing in it twice.

    The plain part is the base unless it is a stub next to the HTML. Onto a plain base
    the HTML, which is what the reader sees, adds every line holding text the plain part
    lacks: a word it does not have ("out for delivery" under a "view this e-mail in your
    browser" pointer that is long enough not to count as a stub), or a number it does
    not have, however grouped. Onto an HTML base the plain part adds only the lines with
    a number the HTML lacks. A line whose words and numbers the base already has (the
    same sentence, or a table row of it laid out differently) is never added.
    """
    if not plain.strip() or not html_text.strip():
        return plain if plain.strip() else html_text
    base, other = plain, html_text
    if len(_NON_ALNUM.sub("", plain)) < _STUB_SHARE * len(_NON_ALNUM.sub("", html_text)):
        base, other = html_text, plain
    flat = _NON_ALNUM.sub("", base).upper()
    words = frozenset(_WORD.findall(base.lower())) if base is plain else None
    added: list[str] = []
    for line in other.split("\n"):
        if line in added or not (
            _adds_number(line, flat) or (words is not None and _adds_words(line, flat, words))
        ):
            continue
        added.append(line)
    return base if not added else base.rstrip() + "\n\n" + "\n".join(added)


def _adds_number(line: str, flat: str) -> bool:
    for stretch in _STRETCH.finditer(line):
        digits = _NON_ALNUM.sub("", stretch.group()).upper()
        if len(digits) >= 8 and sum(c.isdigit() for c in digits) >= 2 and digits not in flat:
            return True
    return False


def _adds_words(line: str, flat: str, words: frozenset[str]) -> bool:
    """A word the base lacks; a token with digits counts as present when the base has it
    anywhere, grouped or not (`999` of `1Z 999 AA1…` in a plain `1Z999AA1…`)."""
    for word in _WORD.findall(line.lower()):
        if word in words:
            continue
        if not (word.isascii() and any(c.isdigit() for c in word) and word.upper() in flat):
            return True
    return False


def looks_like_html(body: str) -> bool:
    """True if the body has real markup rather than a stray `<` in plain text."""
    return _HTML_HINT.search(body) is not None


def clean_message(body: str, text: str | None, *, max_chars: int = 20_000) -> CleanText:
    """Split a message into what it adds and what it quotes; cap the new part.

    `text` (the plain-text alternative) and `body` (read as HTML when it looks like HTML)
    are both split into new and quoted text; the new parts are merged (`merge_parts`),
    the plain part's quote is kept. Signature blocks are trimmed from the new part,
    except any line that holds a tracking candidate.
    """
    plain = text if text and text.strip() else ""
    html_text, links = read_html(body) if looks_like_html(body) else ("", ())
    if not plain and not html_text:
        plain = body
    parts = [_split(part) for part in (plain, html_text) if part.strip()]
    if not parts:
        return CleanText("", "", False, links)
    new = parts[0][0] if len(parts) == 1 else merge_parts(parts[0][0], parts[1][0])
    quoted = parts[0][1] or (parts[1][1] if len(parts) > 1 else "")
    truncated = len(new) > max_chars
    return CleanText(new[:max_chars] if truncated else new, quoted, truncated, links)


def _split(text: str) -> tuple[str, str]:
    """(new text without its signature, quoted text) of one part."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _quote_start(lines)
    new_lines = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    quoted_lines = [line for line in lines[:cut] if line.lstrip().startswith(">")] + lines[cut:]
    return "\n".join(_trim_signature(new_lines)).strip(), "\n".join(quoted_lines).strip()


def _quote_start(lines: list[str]) -> int:
    """Index of the first line of a reply/forward header; len(lines) if there is none."""
    for index, line in enumerate(lines):
        joined = f"{line} {lines[index + 1]}" if index + 1 < len(lines) else line
        if _HEADER_LINE.match(line) or (
            line.strip().lower().startswith("on ") and _HEADER_LINE.match(joined)
        ):
            return index
        if _FROM.match(line) and any(_SENT.match(nxt) for nxt in lines[index + 1 : index + 5]):
            return index - 1 if index and _RULE.match(lines[index - 1]) else index
    return len(lines)


def _trim_signature(lines: list[str]) -> list[str]:
    """Drop a closing block at the end: a sign-off line followed by a few short lines."""
    content = [i for i, line in enumerate(lines) if line.strip()]
    for index in content[-_SIGNATURE_LINES:]:
        if index == content[0]:
            continue
        stripped = lines[index].strip()
        if not _SIGNATURE.match(stripped) and stripped != "--":
            continue
        tail = lines[index:]
        if any(len(line.strip()) > 72 for line in tail) or find_candidates("\n".join(tail)):
            continue
        return lines[:index]
    return lines
