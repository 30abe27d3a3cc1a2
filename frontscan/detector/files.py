"""Reading a file for `frontscan detect`: plain text, HTML or an e-mail message.

Input is untrusted: anything that is not text (binary, too large, not UTF-8, missing)
becomes a one-line UsageError saying what to do instead, never a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import BinaryIO

from frontscan.detector.text import looks_like_html, merge_parts, read_html
from frontscan.errors import UsageError

MAX_INPUT_BYTES = 20 * 1024 * 1024
_HEADER_BLOCK = re.compile(rb"\A(?:[A-Za-z0-9-]+:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*)+\r?\n")
_MIME_HEADER = re.compile(rb"^(?:mime-version|content-type):", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Document:
    """What `detect` scans: the text, and the link targets of its HTML (tracking links)."""

    text: str
    links: tuple[str, ...] = ()


def load_text(source: BinaryIO | Path) -> str:
    """The text to scan: plain text as is, HTML and e-mail (.eml) converted to plain text."""
    return load_document(source).text


def load_document(source: BinaryIO | Path) -> Document:
    """The text and links to scan; an e-mail's plain and HTML parts are both read."""
    name = str(source) if isinstance(source, Path) else "stdin"
    data = _read(source, name)
    if len(data) > MAX_INPUT_BYTES:
        raise UsageError(f"{name} is larger than 20 MB; split it into smaller files")
    if not data.strip():
        return Document("")
    if b"\x00" in data:
        raise UsageError(f"{name} looks binary (it has NUL bytes); pass a text, HTML or .eml file")
    if name.lower().endswith(".eml") or _looks_like_email(data):
        return _email_text(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(
            f"{name} is not UTF-8 text; convert it first (iconv -t UTF-8) or pass an .eml file"
        ) from None
    if looks_like_html(text):
        return Document(*read_html(text))
    return Document(text)


def _read(source: BinaryIO | Path, name: str) -> bytes:
    if not isinstance(source, Path):
        return source.read(MAX_INPUT_BYTES + 1)
    try:
        if source.stat().st_size > MAX_INPUT_BYTES:
            raise UsageError(f"{name} is larger than 20 MB; split it into smaller files")
        with source.open("rb") as handle:
            return handle.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{name} is a directory; pass a text, HTML or .eml file") from None
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror or error}") from None


def _looks_like_email(data: bytes) -> bool:
    block = _HEADER_BLOCK.match(data[:65536])
    return block is not None and _MIME_HEADER.search(block.group()) is not None


def _email_text(data: bytes) -> Document:
    """The subject plus the text/plain parts merged with the text/html parts' text."""
    message = BytesParser(policy=policy.default).parsebytes(data)
    plain: list[str] = []
    html: list[str] = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind in ("text/plain", "text/html"):
            (plain if kind == "text/plain" else html).append(_part_text(part))
    read = [read_html(h) for h in html]
    body = merge_parts("\n\n".join(plain), "\n\n".join(text for text, _ in read))
    links = tuple(link for _, found in read for link in found)
    subject = str(message.get("subject", "") or "").strip()
    return Document(
        "\n\n".join(([f"Subject: {subject}"] if subject else []) + [body]).strip(), links
    )


def _part_text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        content = None
    if isinstance(content, str):
        return content
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
