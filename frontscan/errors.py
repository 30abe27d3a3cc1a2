"""The one exception tree frontscan raises.

Every third-party error (aiohttp, openai, psycopg) is translated into one of these in
exactly one module, so the CLI can turn any failure into a one-line message and an exit
code without knowing where it came from. Messages say what to do and never carry secrets.

    FrontscanError                 exit 1
    ├── UsageError                 exit 2   bad flags, bad input file, bad dates
    │   └── ConfigError            exit 2   bad configuration file or environment
    ├── DatabaseError              exit 2   unreachable or broken database
    │   └── DatabaseGoneError      exit 1   it went away mid-run for too long; run again
    ├── AuthError                  exit 2   a token was rejected (401/403)
    │   └── MissingScopeError      exit 2   the token lacks one scope (403 on that route)
    ├── QuotaError                 exit 1   OpenAI quota or billing exhausted: stop the run
    ├── ApiDownError               exit 1   one API failed conversation after conversation
    ├── LockHeldError              exit 75  another scan holds the advisory lock
    ├── Interrupted                exit 130 Ctrl-C / SIGTERM, after a graceful drain
    └── ItemError                  exit 1   one conversation failed; recorded, run goes on
        └── TransientError         exit 1   worth retrying (429, 5xx, timeouts, resets)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2
EXIT_LOCKED = 75
EXIT_INTERRUPTED = 130


class FrontscanError(Exception):
    """Base class: `str(error)` is a one-line message an operator can act on."""

    exit_code: int = EXIT_FAILURES

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(FrontscanError):
    """The command line or an input file is wrong."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A configuration file, environment variable or setting is wrong."""


class DatabaseError(FrontscanError):
    """PostgreSQL cannot be reached or refused an operation.

    `lost` is True when the session itself was lost (restart, stop, terminated backend):
    the work can be retried on a new connection.
    """

    exit_code = EXIT_USAGE
    lost: bool = False


class DatabaseGoneError(DatabaseError):
    """The database went away mid-run for longer than frontscan waits; run again later."""

    exit_code = EXIT_FAILURES
    lost = True


class AuthError(FrontscanError):
    """An API rejected the credentials; nothing will work until they are fixed."""

    exit_code = EXIT_USAGE


class MissingScopeError(AuthError):
    """The token works but lacks the scope one route needs (e.g. `events:*:read`)."""

    def __init__(self, message: str, scope: str) -> None:
        super().__init__(message)
        self.scope = scope


class QuotaError(FrontscanError):
    """OpenAI says the account is out of quota or credit; retrying cannot help."""


class ApiDownError(FrontscanError):
    """Front or OpenAI failed a streak of conversations and stayed down through the pauses."""


class LockHeldError(FrontscanError):
    """Another scan is running against the same database."""

    exit_code = EXIT_LOCKED


class Interrupted(FrontscanError):
    """The run was stopped by a signal after draining in-flight work."""

    exit_code = EXIT_INTERRUPTED


class ItemError(FrontscanError):
    """One conversation (or one API call for it) failed; the run goes on."""


class TransientError(ItemError):
    """A failure that may succeed later: rate limits, server errors, timeouts.

    `retry_after` is the delay the server asked for, in seconds, when it said one.
    """

    def __init__(
        self, message: str, retry_after: float | None = None, outage: str | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.outage = outage  # "front" or "openai": the API looked down (refused, 5xx, timeout)
