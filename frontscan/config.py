"""Settings: flags > environment > TOML file > defaults, read in this one place.

Secrets (`FRONT_API_TOKEN`, `OPENAI_API_KEY`, the password in `DATABASE_URL`) are wrapped
in `Secret` so no `repr`, log line or error can print them by accident. Secrets come only
from the environment; a token in the TOML file is an error.

Every key `<section>.<key>` can be set by `FRONTSCAN_<SECTION>_<KEY>`; three also have a
standard name (`FRONT_API_URL`, `OPENAI_BASE_URL`, `DATABASE_URL`). Both are "environment";
when both are set the `FRONTSCAN_` one wins. Empty environment variables count as unset.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from frontscan.errors import ConfigError
from frontscan.ledger.dsn import dsn_problem, redact_dsn
from frontscan.models import LlmMode, Prompting, SourceMode

DEFAULT_FRONT_API_URL = "https://api2.frontapp.com"


class Secret:
    """A string that never shows itself: `repr`/`str` print `'***'`; `reveal()` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class FrontSettings:
    api_url: str = DEFAULT_FRONT_API_URL
    token: Secret | None = None
    rpm: int = 0  # 0 = learn the company limit from x-ratelimit-limit
    headroom: float = 0.1  # share left unused until one whole window has been observed
    reserve: float = 0.05  # share left on top of what other integrations are seen to use
    source: SourceMode = "auto"  # how conversations are found: the event stream or search
    timeout_seconds: float = 60.0  # one request, connect to last byte; then it is retried
    # a search listing fewer than its `_total` (counted twice) keeps the watermark (exit 1)
    check_search_total: bool = True


@dataclass(frozen=True)
class OpenAISettings:
    base_url: str | None = None
    api_key: Secret | None = None
    model: str = "gpt-4o-mini"
    rpm: int = 500
    tpm: int = 200_000
    # the ceiling; each call's budget is sized to its answer (shipment fields included)
    max_completion_tokens: int = 1000
    prompt: Prompting = "evidence"  # "whole": the full new text of each message, as before
    batch: bool = False  # backfills through the Batch API (`scan --openai-batch`)
    batch_older_than_days: float = 0.0  # with batch: only conversations quiet this long
    batch_enqueued_tokens: int = 2_000_000  # the model's enqueued-token cap (tier 1 mini)
    timeout_seconds: float = 60.0  # connect, or silence mid-answer; then it is retried


@dataclass(frozen=True)
class ScanSettings:
    concurrency: int = 20
    batch_size: int = 50
    llm: LlmMode = "auto"


@dataclass(frozen=True)
class DatabaseSettings:
    url: Secret | None = None  # None = embedded PostgreSQL under the user data dir
    outage_seconds: int = 60  # how long a scan waits for a database that went away


@dataclass(frozen=True)
class Settings:
    front: FrontSettings = field(default_factory=FrontSettings)
    openai: OpenAISettings = field(default_factory=OpenAISettings)
    scan: ScanSettings = field(default_factory=ScanSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    config_file: Path | None = None  # the TOML file these settings were read from, if any


@dataclass(frozen=True)
class _Key:
    kind: type  # int, float or str: what the file must hold and the environment parses to
    ok: Callable[[Any], bool]
    expect: str  # completes "<key> must be ..."
    env: str | None = None  # the standard variable name, besides FRONTSCAN_<SECTION>_<KEY>
    secret: bool = False  # never echo the value; wrap it in Secret
    problem: Callable[[Any], str | None] | None = None  # why a value is refused, unquoted


def _int(lo: int, hi: int | None = None) -> _Key:
    expect = f"an integer from {lo} to {hi}" if hi is not None else f"an integer >= {lo}"
    return _Key(int, lambda v: lo <= v and (hi is None or v <= hi), expect)


def _is_url(v: str) -> bool:
    return re.match(r"https?://[^\s/?#]+", v) is not None


def _url_problem(v: str) -> str | None:
    """Why aiohttp could not open `v` (a port that is no number, an unclosed `[`)."""
    if re.search(r"\s", v):
        return "it has spaces"
    try:
        parts = urlsplit(v)
        port = parts.port  # a ValueError for `:notaport` or out of range
        if parts.hostname is None:
            return "it has no host"
        if parts.netloc.rpartition("@")[2].startswith("["):
            ipaddress.IPv6Address(parts.hostname.partition("%")[0])
    except ValueError:  # `http://[::1`, a bad port or a bad IPv6 address
        if "[" not in v:
            return "the port must be a number from 1 to 65535"
        if "]" not in v:
            return "its IPv6 host is missing its closing ]"
        return "the IPv6 host must be a valid address and the port a number from 1 to 65535"
    return "the port must be a number from 1 to 65535" if port == 0 else None


def _is_dsn(v: str) -> bool:
    return re.match(r"postgres(?:ql)?://|\s*[A-Za-z_]+\s*=", v) is not None


_URL = "an http:// or https:// URL"
_TIMEOUT = "a number of seconds from 0.1 to 600"
KEYS: Mapping[str, _Key] = {
    "front.api_url": _Key(str, _is_url, _URL, env="FRONT_API_URL", problem=_url_problem),
    "front.rpm": _int(0),
    "front.headroom": _Key(float, lambda v: 0 <= v < 1, "a number >= 0 and < 1"),
    "front.reserve": _Key(float, lambda v: 0 <= v < 0.5, "a number >= 0 and < 0.5"),
    "front.source": _Key(
        str, lambda v: v in ("auto", "events", "search"), "auto, events or search"
    ),
    "front.timeout_seconds": _Key(float, lambda v: 0.1 <= v <= 600, _TIMEOUT),
    "front.check_search_total": _Key(bool, lambda v: True, "true or false"),
    "openai.base_url": _Key(str, _is_url, _URL, env="OPENAI_BASE_URL", problem=_url_problem),
    "openai.model": _Key(str, lambda v: bool(v.strip()), "a non-empty model name"),
    "openai.rpm": _int(1),
    "openai.tpm": _int(1),
    "openai.max_completion_tokens": _int(16, 16384),
    "openai.prompt": _Key(str, lambda v: v in ("evidence", "whole"), "evidence or whole"),
    "openai.batch": _Key(bool, lambda v: True, "true or false"),
    "openai.batch_older_than_days": _Key(float, lambda v: v >= 0, "a number of days >= 0"),
    "openai.batch_enqueued_tokens": _int(1000),
    "openai.timeout_seconds": _Key(float, lambda v: 0.1 <= v <= 600, _TIMEOUT),
    "scan.concurrency": _int(1, 500),
    "scan.batch_size": _int(1, 10000),
    "scan.llm": _Key(str, lambda v: v in ("auto", "always", "never"), "auto, always or never"),
    "database.url": _Key(
        str,
        _is_dsn,
        "a PostgreSQL DSN (a postgresql:// or postgres:// URI, or key=value conninfo)",
        env="DATABASE_URL",
        secret=True,
        problem=dsn_problem,
    ),
    "database.outage_seconds": _int(1, 3600),
}
SECTIONS = ("front", "openai", "scan", "database")
SECRET_ENV = {"front.token": "FRONT_API_TOKEN", "openai.api_key": "OPENAI_API_KEY"}
# FRONTSCAN_ variables that are not settings keys: the config file, the embedded data dir
# and the test database. Any other FRONTSCAN_ name is a typo and refused, as in TOML.
OTHER_ENV = ("FRONTSCAN_CONFIG", "FRONTSCAN_DATA_DIR", "FRONTSCAN_TEST_DATABASE_URL")

# The flag an override key came from, for error messages; keys not here are `--<section>-<key>`.
FLAG_NAMES: dict[str, str] = {
    "scan.concurrency": "--concurrency",
    "scan.batch_size": "--batch-size",
    "scan.llm": "--llm",
    "front.source": "--source",
    "openai.batch": "--openai-batch",
    "openai.batch_older_than_days": "--batch-older-than",
}


def env_names(key: str) -> tuple[str, ...]:
    """The environment variables that set `key`, strongest first."""
    section, name = key.split(".")
    plain = KEYS[key].env
    return (f"FRONTSCAN_{section}_{name}".upper(), *((plain,) if plain else ()))


def flag_name(key: str) -> str:
    return FLAG_NAMES.get(key) or "--" + key.replace(".", "-").replace("_", "-")


def _shown(value: object) -> str:
    """`value` for an error message, with anything that looks like a password hidden."""
    if not isinstance(value, str):
        return repr(value)
    text = redact_dsn(value)
    if "@" in text and "***" not in text:  # a malformed URL with user:password@ in it
        text = "***" + text[text.rfind("@") :]
    return repr(text)


_BOOLEAN = {"true": True, "1": True, "yes": True, "on": True}
_BOOLEAN |= {"false": False, "0": False, "no": False, "off": False}


def _convert(key: str, raw: object, source: str, parse: bool) -> object:
    """Check one raw value and return it typed; `parse`: it is text (environment or flag)."""
    spec = KEYS[key]
    value: object = raw
    if parse and isinstance(raw, str) and spec.kind is bool:
        value = _BOOLEAN.get(raw.strip().lower(), raw)
    elif parse and isinstance(raw, str) and spec.kind is not str:
        try:
            value = spec.kind(raw.strip())
        except ValueError:
            value = raw
    elif spec.kind is float and isinstance(raw, int) and not isinstance(raw, bool):
        value = float(raw)
    if type(value) is spec.kind and spec.ok(value):
        why = spec.problem(value) if spec.problem else None
        if why is None:
            return value
        got = "" if spec.secret else f", got {_shown(raw)}"
        raise ConfigError(f"{key} must be {spec.expect}: {why}{got} (from {source})")
    got = "" if spec.secret else f", got {_shown(raw)}"
    raise ConfigError(f"{key} must be {spec.expect}{got} (from {source})")


def _check_env_names(env: Mapping[str, str]) -> None:
    """Refuse a FRONTSCAN_ variable that sets nothing: a typo would be silently ignored."""
    known = {name for key in KEYS for name in env_names(key)} | set(OTHER_ENV)
    for var in sorted(env):
        if var.upper().startswith("FRONTSCAN_") and var not in known and env[var]:
            hint = _suggest(var, sorted(known))
            raise ConfigError(f"unknown environment variable {var}{hint}; unset it or fix the name")


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _find_file(config_path: Path | None, env: Mapping[str, str]) -> Path | None:
    given, source = config_path, "--config"
    if given is None and env.get("FRONTSCAN_CONFIG"):
        given, source = Path(env["FRONTSCAN_CONFIG"]), "FRONTSCAN_CONFIG"
    if given is not None:
        path = given.expanduser().absolute()
        if not path.is_file():
            raise ConfigError(f"config file not found: {path} (from {source})")
        return path
    for candidate in (Path("frontscan.toml"), user_config_file()):
        if candidate.is_file():
            return candidate.absolute()
    return None


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir("frontscan")) / "config.toml"


def _read_file(path: Path) -> dict[str, tuple[object, str, bool]]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    found: dict[str, tuple[object, str, bool]] = {}
    for section, table in data.items():
        if section not in SECTIONS and isinstance(table, dict):
            hint = _suggest(section, list(SECTIONS))
            raise ConfigError(f"unknown section [{section}] in {path}{hint}")
        if section not in SECTIONS:
            by_name = {k.split(".")[1]: k for k in KEYS}
            close = difflib.get_close_matches(section, list(by_name), n=1)
            hint = f" (did you mean {by_name[close[0]]!r}?)" if close else ""
            raise ConfigError(f"unknown key {section} outside any section in {path}{hint}")
        if not isinstance(table, dict):
            raise ConfigError(f"{section} must be a [{section}] table (from {path})")
        for name, value in table.items():
            key = f"{section}.{name}"
            if key in SECRET_ENV:
                raise ConfigError(
                    f"put secrets in the environment ({SECRET_ENV[key]}), not in {path}"
                )
            if key not in KEYS:
                names = [k.split(".")[1] for k in KEYS if k.startswith(section + ".")]
                hint = _suggest(name, names) or _suggest(key, list(KEYS))
                raise ConfigError(f"unknown key {key} in {path}{hint}")
            found[key] = (value, str(path), False)
    return found


def load_settings(
    overrides: Mapping[str, object] | None = None,
    *,
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Build Settings from flags (`overrides`, None = not given) > env > TOML file > defaults."""
    env = os.environ if env is None else env
    _check_env_names(env)
    path = _find_file(config_path, env)
    raw = _read_file(path) if path else {}  # key -> (value, where from, is it text to parse)
    for key in KEYS:
        for var in reversed(env_names(key)):  # weakest first, so the FRONTSCAN_ name wins
            if env.get(var):
                raw[key] = (env[var], var, True)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key in SECRET_ENV:
            raise ConfigError(
                f"put secrets in the environment ({SECRET_ENV[key]}), not on the command line"
            )
        if key not in KEYS:
            raise ConfigError(f"unknown setting {key!r} in overrides{_suggest(key, list(KEYS))}")
        raw[key] = (value, flag_name(key), True)
    values: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
    for key, (value, source, parse) in raw.items():
        section, name = key.split(".")
        typed = _convert(key, value, source, parse)
        values[section][name] = Secret(str(typed)) if KEYS[key].secret else typed
    for key, var in SECRET_ENV.items():
        section, name = key.split(".")
        if env.get(var, "").strip():
            values[section][name] = Secret(env[var].strip())
    return Settings(
        front=FrontSettings(**values["front"]),
        openai=OpenAISettings(**values["openai"]),
        scan=ScanSettings(**values["scan"]),
        database=DatabaseSettings(**values["database"]),
        config_file=path,
    )
