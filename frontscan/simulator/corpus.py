"""A mailbox made of real-looking e-mail files: one conversation per `.eml`, truth from JSON.

The generated mailbox is good for volume; hand-written carrier notifications (HTML
tables, spans, tracking links, stub plain parts, several languages) are good for
realism. A directory of `.eml` files plus an `expected.json` (file name -> list of
`{"tracking_number", "carrier"}`) becomes a `Mailbox` the fake Front serves like any
other: the HTML part is the message `body`, the plain part its `text` (None when the
e-mail has none), and the expected numbers are the ground truth the fake model answers.
"""

from __future__ import annotations

import json
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from frontscan.detector.text import html_to_text
from frontscan.simulator.content import Party
from frontscan.simulator.mailbox import Mailbox, normalize
from frontscan.simulator.records import SimConversation, SimMessage, TruthNumber
from frontscan.simulator.scenarios import INBOXES, base36

_SHIPPING_INBOX = INBOXES[1]


def load_corpus(directory: Path) -> Mailbox:
    """Every `*.eml` in `directory`, sorted by name, with `expected.json`'s numbers as truth."""
    expected = json.loads((directory / "expected.json").read_text(encoding="utf-8"))
    conversations: list[SimConversation] = []
    truth: list[TruthNumber] = []
    used: set[str] = {inbox.id for inbox in INBOXES}
    for index, path in enumerate(sorted(directory.glob("*.eml"))):
        conversation = _conversation(path, index)
        conversations.append(conversation)
        used |= {conversation.id, conversation.messages[0].id}
        message_id = conversation.messages[0].id
        for row in expected.get(path.name, []):
            number = normalize(row["tracking_number"])
            truth.append(TruthNumber(conversation.id, message_id, number, row["carrier"]))
    return Mailbox(conversations, INBOXES, truth, {}, used)


def _conversation(path: Path, index: int) -> SimConversation:
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    plain = _part(parsed, "plain")
    html = _part(parsed, "html")
    name, address = parseaddr(str(parsed["From"]))
    sender = Party(name or address, address)
    recipient = Party("Acme Shipping", _SHIPPING_INBOX.address)
    suffix = base36(36**5 + index)
    subject = str(parsed["Subject"] or "")
    message = SimMessage(
        id=f"msg_{suffix}",
        conversation_id=f"cnv_{suffix}",
        message_uid=f"{index:032x}",
        created_at=parsedate_to_datetime(str(parsed["Date"])).timestamp(),
        type="email",
        is_inbound=True,
        subject=subject,
        body=html if html is not None else plain or "",
        text=plain,
        plain=plain if plain is not None else html_to_text(html or ""),
        sender=sender,
        recipient=recipient,
        author_id=None,
        replied_to=None,
    )
    return SimConversation(
        f"cnv_{suffix}", subject, "email", _SHIPPING_INBOX.id, "unassigned", None, (), sender,
        (message,),
    )  # fmt: skip


def _part(message: EmailMessage, subtype: str) -> str | None:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}" and not part.is_multipart():
            content = part.get_content()
            return content if isinstance(content, str) else None
    return None
