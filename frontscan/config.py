"""Settings: flags > environment > TOML file > defaults, read in this one place.

Secrets (`FRONT_API_TOKEN`, `OPENAI_API_KEY`, the password in `DATABASE_URL`) are wrapped
in `Secret` so no `repr`, log line or error can print them by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

LlmMode = Literal["auto", "always", "never"]

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
    headroom: float = 0.1  # share of the Front budget left for other integrations


@dataclass(frozen=True)
class OpenAISettings:
    base_url: str | None = None
    api_key: Secret | None = None
    model: str = "gpt-4o-mini"
    rpm: int = 500
    tpm: int = 200_000
    max_completion_tokens: int = 400


@dataclass(frozen=True)
class ScanSettings:
    concurrency: int = 20
    batch_size: int = 50
    llm: LlmMode = "auto"


@dataclass(frozen=True)
class DatabaseSettings:
    url: Secret | None = None  # None = embedded PostgreSQL under the user data dir


@dataclass(frozen=True)
class Settings:
    front: FrontSettings = field(default_factory=FrontSettings)
    openai: OpenAISettings = field(default_factory=OpenAISettings)
    scan: ScanSettings = field(default_factory=ScanSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    config_file: Path | None = None  # the TOML file these settings were read from, if any
