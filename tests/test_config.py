"""Configuration loading: precedence, file discovery, validation, and secret hygiene."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import platformdirs
import pytest

from frontscan import config
from frontscan.config import KEYS, Secret, Settings, env_names, load_settings
from frontscan.errors import ConfigError
from frontscan.ledger.dsn import redact_dsn

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config.example.toml"

TOKEN = "front-tok-5f3a9c"
API_KEY = "sk-test-8e2b71"
DB_PASSWORD = "pg-pass-4d6e0a"
DB_URL = f"postgresql://scanner:{DB_PASSWORD}@db.internal:5432/frontscan"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty directory, with a user config dir that exists only for this test."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    # platformdirs reads XDG_CONFIG_HOME, so the user config dir is this test's own.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "userconf"))
    return work


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(
    tmp_path: Path,
    toml: str | None = None,
    env: dict[str, str] | None = None,
    overrides: dict[str, object] | None = None,
) -> tuple[str, Path]:
    path = write(tmp_path / "conf" / "x.toml", toml if toml is not None else "")
    with pytest.raises(ConfigError) as info:
        load_settings(overrides, config_path=path, env=env or {})
    message = str(info.value)
    assert "\n" not in message
    assert info.value.exit_code == 2
    return message, path


# --- defaults and precedence ---------------------------------------------------------------


def test_defaults_without_file_or_environment() -> None:
    assert load_settings(env={}) == Settings()


@pytest.mark.parametrize(
    ("key", "file_value", "env_value", "flag_value", "expected"),
    [
        ("scan.concurrency", "30", "40", 50, (30, 40, 50)),
        ("scan.batch_size", "100", "200", 300, (100, 200, 300)),
        ("scan.llm", '"never"', "always", "auto", ("never", "always", "auto")),
        ("front.headroom", "0.2", "0.3", 0.4, (0.2, 0.3, 0.4)),
        ("openai.tpm", "1000", "2000", 3000, (1000, 2000, 3000)),
        (
            "front.api_url",
            '"http://file:1"',
            "http://env:2",
            "http://flag:3",
            ("http://file:1", "http://env:2", "http://flag:3"),
        ),
    ],
)
def test_precedence_flags_over_env_over_file_over_defaults(
    tmp_path: Path,
    key: str,
    file_value: str,
    env_value: str,
    flag_value: object,
    expected: tuple[object, object, object],
) -> None:
    section, name = key.split(".")
    path = write(tmp_path / "c.toml", f"[{section}]\n{name} = {file_value}\n")
    env = {env_names(key)[0]: env_value}

    def get(settings: Settings) -> object:
        return getattr(getattr(settings, section), name)

    assert get(load_settings(env={})) == get(Settings())
    assert get(load_settings(config_path=path, env={})) == expected[0]
    assert get(load_settings(config_path=path, env=env)) == expected[1]
    assert get(load_settings({key: flag_value}, config_path=path, env=env)) == expected[2]
    # A None override means the flag was not given.
    assert get(load_settings({key: None}, config_path=path, env=env)) == expected[1]


ENV_SAMPLES: dict[str, tuple[str, object]] = {
    "front.api_url": ("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
    "front.rpm": ("120", 120),
    "front.headroom": ("0.25", 0.25),
    "front.reserve": ("0.02", 0.02),
    "front.source": ("search", "search"),
    "front.timeout_seconds": ("2.5", 2.5),
    "front.check_search_total": ("false", False),
    "openai.base_url": ("https://proxy.example/v1", "https://proxy.example/v1"),
    "openai.model": ("gpt-4.1-mini", "gpt-4.1-mini"),
    "openai.rpm": ("60", 60),
    "openai.tpm": ("90000", 90000),
    "openai.max_completion_tokens": ("16384", 16384),
    "openai.prompt": ("whole", "whole"),
    "openai.batch": ("true", True),
    "openai.batch_older_than_days": ("2.5", 2.5),
    "openai.batch_enqueued_tokens": ("20000000", 20_000_000),
    "openai.timeout_seconds": ("90", 90.0),
    "scan.concurrency": ("500", 500),
    "scan.batch_size": ("1", 1),
    "scan.llm": ("never", "never"),
    "database.url": (DB_URL, Secret(DB_URL)),
    "database.outage_seconds": ("5", 5),
}


def test_env_samples_cover_every_key() -> None:
    assert set(ENV_SAMPLES) == set(KEYS)


@pytest.mark.parametrize("key", sorted(KEYS))
def test_frontscan_env_name_sets_every_key(key: str) -> None:
    section, name = key.split(".")
    var = f"FRONTSCAN_{section.upper()}_{name.upper()}"
    text, expected = ENV_SAMPLES[key]
    settings = load_settings(env={var: text})
    assert getattr(getattr(settings, section), name) == expected


@pytest.mark.parametrize(
    ("var", "key"),
    [
        ("FRONT_API_URL", "front.api_url"),
        ("OPENAI_BASE_URL", "openai.base_url"),
        ("DATABASE_URL", "database.url"),
    ],
)
def test_standard_env_names_and_frontscan_name_wins(var: str, key: str) -> None:
    section, name = key.split(".")
    plain = "postgresql://plain/db" if key == "database.url" else "http://plain:1"
    mine = "postgresql://mine/db" if key == "database.url" else "http://mine:2"

    def get(env: dict[str, str]) -> object:
        value = getattr(getattr(load_settings(env=env), section), name)
        return value.reveal() if isinstance(value, Secret) else value

    frontscan_var = env_names(key)[0]
    assert get({var: plain}) == plain
    assert get({var: plain, frontscan_var: mine}) == mine


def test_secrets_come_from_the_environment() -> None:
    settings = load_settings(
        env={"FRONT_API_TOKEN": TOKEN, "OPENAI_API_KEY": API_KEY, "DATABASE_URL": DB_URL}
    )
    assert settings.front.token == Secret(TOKEN)
    assert settings.openai.api_key == Secret(API_KEY)
    assert settings.database.url is not None
    assert settings.database.url.reveal() == DB_URL


def test_empty_environment_variables_count_as_unset() -> None:
    env = {"FRONT_API_TOKEN": "", "FRONTSCAN_SCAN_CONCURRENCY": "", "FRONTSCAN_CONFIG": ""}
    assert load_settings(env=env) == Settings()


def test_string_flag_values_are_parsed_like_environment_values() -> None:
    settings = load_settings({"scan.concurrency": "40", "front.headroom": "0"}, env={})
    assert settings.scan.concurrency == 40
    assert settings.front.headroom == 0.0


def test_file_integer_is_accepted_for_a_float_key(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[front]\nheadroom = 0\n")
    headroom = load_settings(config_path=path, env={}).front.headroom
    assert headroom == 0.0
    assert isinstance(headroom, float)


def test_database_url_in_file_is_allowed_and_kept_secret(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", f'[database]\nurl = "{DB_URL}"\n')
    settings = load_settings(config_path=path, env={})
    assert settings.database.url == Secret(DB_URL)
    assert DB_PASSWORD not in repr(settings)


# --- which file ----------------------------------------------------------------------------


def test_config_path_flag_wins_over_frontscan_config(tmp_path: Path) -> None:
    flag = write(tmp_path / "flag.toml", "[scan]\nconcurrency = 1\n")
    env_file = write(tmp_path / "env.toml", "[scan]\nconcurrency = 2\n")
    settings = load_settings(config_path=flag, env={"FRONTSCAN_CONFIG": str(env_file)})
    assert settings.scan.concurrency == 1
    assert settings.config_file == flag


def test_frontscan_config_wins_over_local_file(tmp_path: Path, isolated: Path) -> None:
    env_file = write(tmp_path / "env.toml", "[scan]\nconcurrency = 2\n")
    write(isolated / "frontscan.toml", "[scan]\nconcurrency = 3\n")
    settings = load_settings(env={"FRONTSCAN_CONFIG": str(env_file)})
    assert (settings.scan.concurrency, settings.config_file) == (2, env_file)


def test_local_file_wins_over_user_config_dir(isolated: Path) -> None:
    local = write(isolated / "frontscan.toml", "[scan]\nconcurrency = 3\n")
    write(config.user_config_file(), "[scan]\nconcurrency = 4\n")
    settings = load_settings(env={})
    assert (settings.scan.concurrency, settings.config_file) == (3, local)


def test_user_config_dir_is_the_last_resort() -> None:
    user = write(config.user_config_file(), "[scan]\nconcurrency = 4\n")
    settings = load_settings(env={})
    assert (settings.scan.concurrency, settings.config_file) == (4, user)


def test_no_file_at_all() -> None:
    assert load_settings(env={}).config_file is None


def test_user_config_file_lives_in_the_platform_config_dir(tmp_path: Path) -> None:
    expected = Path(platformdirs.user_config_dir("frontscan")) / "config.toml"
    assert config.user_config_file() == expected
    assert expected.is_relative_to(tmp_path / "userconf")


def test_missing_config_flag_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(
        ConfigError, match=r"^config file not found: .*nope\.toml \(from --config\)$"
    ):
        load_settings(config_path=missing, env={})


def test_missing_frontscan_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml \(from FRONTSCAN_CONFIG\)$"):
        load_settings(env={"FRONTSCAN_CONFIG": str(missing)})


# --- bad values: one line naming the key and the source ------------------------------------


def test_out_of_range_in_file(tmp_path: Path) -> None:
    message, path = error_of(tmp_path, "[scan]\nconcurrency = 0\n")
    assert message == f"scan.concurrency must be an integer from 1 to 500, got 0 (from {path})"


def test_out_of_range_in_env(tmp_path: Path) -> None:
    message, _ = error_of(tmp_path, env={"FRONTSCAN_SCAN_BATCH_SIZE": "10001"})
    assert message == (
        "scan.batch_size must be an integer from 1 to 10000, got '10001' "
        "(from FRONTSCAN_SCAN_BATCH_SIZE)"
    )


def test_out_of_range_from_flag(tmp_path: Path) -> None:
    message, _ = error_of(tmp_path, overrides={"scan.concurrency": 501})
    assert (
        message == "scan.concurrency must be an integer from 1 to 500, got 501 (from --concurrency)"
    )


DSN_EXPECT = "a PostgreSQL DSN (a postgresql:// or postgres:// URI, or key=value conninfo)"
URL_EXPECT = "an http:// or https:// URL"

# (file text, environment, expected message with {path} for the file's path)
BAD_VALUES: list[tuple[str, dict[str, str], str]] = [
    # unknown keys and sections, with a suggestion when one is close
    (
        "[scan]\nconcurency = 5\n",
        {},
        "unknown key scan.concurency in {path} (did you mean 'concurrency'?)",
    ),
    ("[opnai]\nmodel = 'x'\n", {}, "unknown section [opnai] in {path} (did you mean 'openai'?)"),
    ("[logging]\nlevel = 'x'\n", {}, "unknown section [logging] in {path}"),
    (
        "concurrency = 5\n",
        {},
        "unknown key concurrency outside any section in {path} (did you mean 'scan.concurrency'?)",
    ),
    ("scan = 5\n", {}, "scan must be a [scan] table (from {path})"),
    # wrong types: strings, bools and floats in the file are not integers
    (
        '[scan]\nconcurrency = "20"\n',
        {},
        "scan.concurrency must be an integer from 1 to 500, got '20' (from {path})",
    ),
    (
        "[scan]\nconcurrency = true\n",
        {},
        "scan.concurrency must be an integer from 1 to 500, got True (from {path})",
    ),
    ("[openai]\nrpm = 1.5\n", {}, "openai.rpm must be an integer >= 1, got 1.5 (from {path})"),
    (
        "[front]\nheadroom = true\n",
        {},
        "front.headroom must be a number >= 0 and < 1, got True (from {path})",
    ),
    (
        "[openai]\nmodel = 4\n",
        {},
        "openai.model must be a non-empty model name, got 4 (from {path})",
    ),
    (
        "",
        {"FRONTSCAN_OPENAI_TPM": "lots"},
        "openai.tpm must be an integer >= 1, got 'lots' (from FRONTSCAN_OPENAI_TPM)",
    ),
    (
        "",
        {"FRONTSCAN_FRONT_HEADROOM": "nan"},
        "front.headroom must be a number >= 0 and < 1, got 'nan' (from FRONTSCAN_FRONT_HEADROOM)",
    ),
    # out of range
    ("[front]\nrpm = -1\n", {}, "front.rpm must be an integer >= 0, got -1 (from {path})"),
    (
        "[front]\nheadroom = 1.0\n",
        {},
        "front.headroom must be a number >= 0 and < 1, got 1.0 (from {path})",
    ),
    (
        "[openai]\nmax_completion_tokens = 15\n",
        {},
        "openai.max_completion_tokens must be an integer from 16 to 16384, got 15 (from {path})",
    ),
    (
        "",
        {"FRONTSCAN_OPENAI_MAX_COMPLETION_TOKENS": "16385"},
        "openai.max_completion_tokens must be an integer from 16 to 16384, got '16385'"
        " (from FRONTSCAN_OPENAI_MAX_COMPLETION_TOKENS)",
    ),
    # bad enum
    (
        '[scan]\nllm = "sometimes"\n',
        {},
        "scan.llm must be auto, always or never, got 'sometimes' (from {path})",
    ),
    (
        "",
        {"FRONTSCAN_SCAN_LLM": "Auto"},
        "scan.llm must be auto, always or never, got 'Auto' (from FRONTSCAN_SCAN_LLM)",
    ),
    # bad URL
    (
        '[front]\napi_url = "api2.frontapp.com"\n',
        {},
        f"front.api_url must be {URL_EXPECT}, got 'api2.frontapp.com' (from {{path}})",
    ),
    (
        "",
        {"OPENAI_BASE_URL": "ftp://proxy/v1"},
        f"openai.base_url must be {URL_EXPECT}, got 'ftp://proxy/v1' (from OPENAI_BASE_URL)",
    ),
    # bad DSN: named, but never echoed (it may hold a password)
    (
        "",
        {"DATABASE_URL": "mysql://u:hunter2@h/db"},
        f"database.url must be {DSN_EXPECT} (from DATABASE_URL)",
    ),
    ('[database]\nurl = "localhost"\n', {}, f"database.url must be {DSN_EXPECT} (from {{path}})"),
    # secrets in the file
    (
        '[front]\ntoken = "abc"\n',
        {},
        "put secrets in the environment (FRONT_API_TOKEN), not in {path}",
    ),
    (
        '[openai]\napi_key = "abc"\n',
        {},
        "put secrets in the environment (OPENAI_API_KEY), not in {path}",
    ),
]


@pytest.mark.parametrize(("toml", "env", "expected"), BAD_VALUES)
def test_bad_values_give_one_line_naming_key_and_source(
    tmp_path: Path, toml: str, env: dict[str, str], expected: str
) -> None:
    message, path = error_of(tmp_path, toml, env)
    assert message == expected.format(path=path)


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    message, path = error_of(tmp_path, "[scan]\nconcurrency = 5\nbatch_size = \n")
    assert message.startswith(f"{path}: invalid TOML: ")
    assert "line 3" in message


def test_unknown_override_key(tmp_path: Path) -> None:
    message, _ = error_of(tmp_path, overrides={"scan.concurency": 5})
    assert (
        message
        == "unknown setting 'scan.concurency' in overrides (did you mean 'scan.concurrency'?)"
    )


def test_secret_override_is_rejected(tmp_path: Path) -> None:
    message, _ = error_of(tmp_path, overrides={"front.token": TOKEN})
    assert message == "put secrets in the environment (FRONT_API_TOKEN), not on the command line"


def test_flag_name_defaults_to_section_and_key(tmp_path: Path) -> None:
    message, _ = error_of(tmp_path, overrides={"openai.rpm": 0})
    assert message.endswith("(from --openai-rpm)")


def test_invalid_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(b"[scan]\nllm = '\xff'\n")
    with pytest.raises(ConfigError, match=r"bad\.toml") as info:
        load_settings(config_path=path, env={})
    assert "\n" not in str(info.value)


# --- secrets never shown -------------------------------------------------------------------

SECRET_ENV = {"FRONT_API_TOKEN": TOKEN, "OPENAI_API_KEY": API_KEY, "DATABASE_URL": DB_URL}


def test_secrets_not_in_repr_or_str() -> None:
    settings = load_settings(env=SECRET_ENV)
    for text in (repr(settings), str(settings), repr(settings.front), repr(settings.database)):
        for secret in (TOKEN, API_KEY, DB_PASSWORD):
            assert secret not in text


@pytest.mark.parametrize(
    ("toml", "env"),
    [
        ("[scan]\nconcurrency = 0\n", SECRET_ENV),
        (f'[front]\ntoken = "{TOKEN}"\n', {}),
        (f'[openai]\napi_key = "{API_KEY}"\n', {}),
        ("", {**SECRET_ENV, "DATABASE_URL": f"mysql://u:{DB_PASSWORD}@h/db"}),
        ("", {**SECRET_ENV, "FRONTSCAN_DATABASE_URL": f"//h password={DB_PASSWORD}"}),
        ("", {**SECRET_ENV, "FRONT_API_URL": f"ftp://u:{TOKEN}@h"}),
        ("", {**SECRET_ENV, "OPENAI_BASE_URL": f"https:/u:{API_KEY}@h"}),
        (f'[scan]\nllm = "{TOKEN}"\nbroken', SECRET_ENV),
    ],
)
def test_secrets_not_in_errors(tmp_path: Path, toml: str, env: dict[str, str]) -> None:
    message, _ = error_of(tmp_path, toml, env)
    for secret in (TOKEN, API_KEY, DB_PASSWORD):
        assert secret not in message, message


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        (DB_URL, "postgresql://scanner:***@db.internal:5432/frontscan"),
        ("postgres://u:p%40ss@h/db?sslmode=require", "postgres://u:***@h/db?sslmode=require"),
        ("postgresql://u:p@s:s@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h:5432/db", "postgresql://u@h:5432/db"),
        (
            "postgresql://postgres:@/postgres?host=/tmp/pg",
            "postgresql://postgres:@/postgres?host=/tmp/pg",
        ),
        ("postgresql://h:5432/db", "postgresql://h:5432/db"),
        ("postgresql:///db?host=/tmp", "postgresql:///db?host=/tmp"),
        (
            "postgresql://h/db?user=u&password=pw&sslmode=require",
            "postgresql://h/db?user=u&password=***&sslmode=require",
        ),
        ("postgresql://h1:5432,h2:5433/db", "postgresql://h1:5432,h2:5433/db"),
        ("host=h user=u password=secret dbname=d", "host=h user=u password=*** dbname=d"),
        ("host=h password = 'se cr\\'et' dbname=d", "host=h password = *** dbname=d"),
        ("host=h sslpassword=s1 password=s2", "host=h sslpassword=*** password=***"),
        ("host=h dbname=d", "host=h dbname=d"),
    ],
)
def test_redact_dsn(dsn: str, expected: str) -> None:
    assert redact_dsn(dsn) == expected


# --- the example file never drifts from the code --------------------------------------------


def test_example_loads_and_equals_defaults() -> None:
    settings = load_settings(config_path=EXAMPLE, env={})
    assert settings.config_file == EXAMPLE
    assert dataclasses.replace(settings, config_file=None) == Settings()


def test_example_documents_every_key_and_variable() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    sections = re.split(r"^\[(\w+)\]$", text, flags=re.MULTILINE)
    bodies = dict(zip(sections[1::2], sections[2::2], strict=True))
    for key in KEYS:
        section, name = key.split(".")
        assert re.search(rf"^(# )?{name} = ", bodies[section], re.MULTILINE), key
        for var in env_names(key):
            assert var in bodies[section], (key, var)
    for var in ("FRONT_API_TOKEN", "OPENAI_API_KEY"):
        assert var in text


def test_example_with_commented_keys_enabled_is_valid(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    names = "|".join(key.split(".")[1] for key in KEYS)
    enabled = re.sub(rf"^# ((?:{names}) = )", r"\1", text, flags=re.MULTILINE)
    assert enabled != text
    settings = load_settings(config_path=write(tmp_path / "all.toml", enabled), env={})
    assert settings.openai.base_url is not None
    assert settings.database.url is not None


@pytest.mark.parametrize(("text", "expected"), [("yes", True), ("0", False), ("OFF", False)])
def test_batch_switch_reads_booleans_from_the_environment(text: str, expected: bool) -> None:
    assert load_settings(env={"FRONTSCAN_OPENAI_BATCH": text}).openai.batch is expected


def test_batch_switch_refuses_other_words() -> None:
    with pytest.raises(ConfigError, match=r"openai.batch must be true or false, got 'sometimes'"):
        load_settings(env={"FRONTSCAN_OPENAI_BATCH": "sometimes"})
