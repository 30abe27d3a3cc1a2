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
    # The last `@` ends the userinfo here, so a password holding an unencoded `/`, `?` or
    # `@` (which libpq would misread) is still hidden whole; an `@` in a query parameter
    # may hide more than the password, never less.
    at = rest.rfind("@")
    colon = rest.find(":", 0, at) if at > 0 else -1
    if colon >= 0 and at > colon + 1:  # an empty password has nothing to hide
        rest = f"{rest[: colon + 1]}***{rest[at:]}"
    return head + _QUERY_PARAM.sub(r"\g<1>***", rest)


_ENCODE_HINT = "percent-encode @ / ? % and spaces in the user name and password (@ is %40)"
_CONNINFO_PAIR = re.compile(r"\s*([^=\s]+)\s*=\s*('(?:[^'\\]|\\.)*'|(?:[^'\s\\]|\\.)+|(?=\s|$))")


def dsn_problem(dsn: str) -> str | None:
    """Why libpq would misread `dsn` (None if it reads it as written), never quoting it.

    libpq's own parse errors quote the DSN, password and all, and a password with an
    unencoded `@` or `/` is silently split into user, host and port, so a DSN is checked
    here, at start-up, by rules that name the problem without echoing any of it.
    """
    scheme = re.match(r"postgres(?:ql)?://", dsn)
    if scheme is None:
        return _conninfo_problem(dsn)
    rest = dsn[scheme.end() :]
    if re.search(r"\s", rest):
        return "it has spaces; " + _ENCODE_HINT
    if re.search(r"%(?![0-9A-Fa-f]{2})", rest):
        return "it has a % that does not start a %XX escape; " + _ENCODE_HINT
    if re.search(r"%00", rest):
        return "it has %00, which PostgreSQL refuses"
    # libpq ends the userinfo at the first `@` before any `/`; an `@` after that point
    # means the password held an unencoded `@` or `/` and would be misread.
    end = re.search(r"[@/]", rest)
    remainder = rest[end.end() :] if end is not None and end.group() == "@" else rest
    if "@" in remainder.partition("?")[0]:
        return "the user name or password holds an unencoded @ or /; " + _ENCODE_HINT
    hosts = re.split(r"[/?]", remainder, maxsplit=1)[0]
    for host in hosts.split(","):
        problem = _host_problem(host)
        if problem:
            return problem
    return None


def _host_problem(host: str) -> str | None:
    if host.startswith("["):
        close = host.find("]")
        if close < 0:
            return "an IPv6 host is missing its closing ]"
        port = host[close + 1 :]
        if port and not port.startswith(":"):
            return "text follows an IPv6 host's ]"
        port = port[1:]
    else:
        port = host.partition(":")[2] if ":" in host else ""
    if port and not (port.isdigit() and 1 <= int(port) <= 65535):
        return "the port must be a number from 1 to 65535"
    return None


def _conninfo_problem(dsn: str) -> str | None:
    """Key=value conninfo: every word a `key=value`, quotes closed."""
    position = 0
    while position < len(dsn.rstrip()):
        match = _CONNINFO_PAIR.match(dsn, position)
        if match is None or match.end() == position:
            return "a key=value conninfo needs key=value pairs with quotes closed"
        position = match.end()
    return None


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
