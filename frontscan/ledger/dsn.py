"""DSN text helpers that need no database: a DSN is shown only with its password hidden."""

from __future__ import annotations

import re

_SECRET_PARAM = re.compile(r"(?i)(\b\w*password\s*=\s*)('(?:[^'\\]|\\.)*'?|\S+)")
_QUERY_PARAM = re.compile(r"(?i)([?&]\w*password=)[^&#]*")


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
