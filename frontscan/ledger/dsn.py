"""DSN text helpers that need no database: a DSN is shown only with its password hidden.

psycopg is imported only inside `passwords_in`, so `config` can use this without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

_SECRET_PARAM = re.compile(r"(?i)(\b\w*password\s*=\s*)('(?:[^'\\]|\\.)*'?|\S+)")
_QUERY_PARAM = re.compile(r"(?i)([?&]\w*password=)[^&#]*")
_URI_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@")


def redact_dsn(dsn: str) -> str:
    """`dsn` with any password (URI userinfo, `?password=`, conninfo `password=`) as `***`."""
    scheme = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", dsn)
    if scheme is None:
        return _SECRET_PARAM.sub(r"\g<1>***", dsn)
    head, rest = dsn[: scheme.end()], dsn[scheme.end() :]
    slash = rest.find("/")
    at = rest.rfind("@", 0, len(rest) if slash < 0 else slash)
    colon = rest.find(":", 0, at) if at > 0 else -1
    if colon >= 0 and at > colon + 1:  # an empty password has nothing to hide
        rest = f"{rest[: colon + 1]}***{rest[at:]}"
    return head + _QUERY_PARAM.sub(r"\g<1>***", rest)


def passwords_in(dsn: str) -> list[str]:
    """The DSN's password as psycopg reads it and percent-encoded (as a URI may hold it)."""
    import psycopg

    try:
        password = psycopg.conninfo.conninfo_to_dict(dsn).get("password")
    except psycopg.ProgrammingError:
        return []
    return list({str(password), quote(str(password), safe="")}) if password else []


def scrub(message: str, secrets: Iterable[str]) -> str:
    """`message` on one line with secrets as `***`: drivers may echo parts of the DSN.

    The raw password goes first, wherever it appears, then anything DSN-shaped:
    `scheme://user:password@` inside the text and `password=...` parameters.
    """
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            message = message.replace(secret, "***")
    message = redact_dsn(_URI_PASSWORD.sub(r"\g<1>***@", message))
    return " ".join(message.split())
