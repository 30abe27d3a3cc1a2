"""Every bad input is one line and exit code 2, and no secret in it reaches the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontscan.config import load_settings
from frontscan.errors import ConfigError
from frontscan.ledger.dsn import dsn_problem, redact_dsn
from tests.reliability.cli import frontscan
from tests.scanning import clean_env

PASSWORD = "Sekr1t-pw-4711"
TOKEN = "front-token-7c1d0e"

BAD_URLS = [
    ("FRONT_API_URL", "http://127.0.0.1:notaport", "port must be a number"),
    ("FRONT_API_URL", "http://[::1", "missing its closing ]"),
    ("FRONT_API_URL", "http://127.0.0.1:0", "port must be a number"),
    ("FRONT_API_URL", "https://[not-v6]:443", "IPv6 host must be a valid address"),
    ("OPENAI_BASE_URL", "http://127.0.0.1:99999/v1", "port must be a number"),
    ("OPENAI_BASE_URL", "http://127.0.0.1:8080 /v1", "it has spaces"),
]

# (DSN, what the one line must say): the password in each is PASSWORD, whole or in part.
BAD_DSNS = [
    (f"postgresql://frontscan:{PASSWORD}@[bad", "closing ]"),
    (f"postgresql://frontscan:{PASSWORD}%zz@localhost/db", "%XX"),
    (f"postgresql://frontscan:{PASSWORD}%00@localhost/db", "%00"),
    ("postgresql://frontscan:Sekr1t@pw-4711@localhost/db", "unencoded @ or /"),
    ("postgresql://frontscan:Sekr1t/pw-4711@localhost/db", "unencoded @ or /"),
    ("postgresql://frontscan:Sekr1t pw-4711@localhost/db", "spaces"),
    (f"postgresql://frontscan:{PASSWORD}@localhost:notaport/db", "port"),
    (f"host=localhost password={PASSWORD} dbname", "key=value"),
    (f"host=localhost password='{PASSWORD}", "quotes closed"),
]


@pytest.mark.parametrize(("var", "url", "why"), BAD_URLS)
def test_a_url_aiohttp_cannot_open_is_refused_at_config_time(var: str, url: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={var: url})
    assert why in str(caught.value)
    assert var in str(caught.value)


@pytest.mark.parametrize(("dsn", "why"), BAD_DSNS)
def test_a_dsn_libpq_would_misread_is_named_but_never_echoed(dsn: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"DATABASE_URL": dsn})
    message = str(caught.value)
    assert why in message
    for piece in ("Sekr1t", "pw-4711"):
        assert piece not in message


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://u:p%40ss@db.example.com:5432/frontscan?sslmode=require",
        "postgresql://u:a?b@h/db",  # libpq reads `a?b` as the password
        "postgresql:///frontscan?host=/var/run/postgresql",
        "postgresql://[::1]:5432,[::2]/db",
        "host=h password='a b' dbname=d",
        "dbname=frontscan",
    ],
)
def test_dsns_libpq_reads_as_written_are_accepted(dsn: str) -> None:
    assert dsn_problem(dsn) is None


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://u:pa/ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:pa@ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:pa?ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:pw@h/db?password=x", "postgresql://u:***@h/db?password=***"),
    ],
)
def test_redaction_hides_a_password_holding_separators(dsn: str, shown: str) -> None:
    assert redact_dsn(dsn) == shown


def test_an_unknown_frontscan_variable_is_refused_like_a_toml_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"FRONTSCAN_SCAN_CONCURENCY": "4"})
    assert str(caught.value) == (
        "unknown environment variable FRONTSCAN_SCAN_CONCURENCY "
        "(did you mean 'FRONTSCAN_SCAN_CONCURRENCY'?); unset it or fix the name"
    )
    assert load_settings(env={"FRONTSCAN_DATA_DIR": "/x", "FRONTSCAN_SCAN_CONCURRENCY": "4"})


async def test_bad_urls_and_typos_are_one_line_exit_2_from_the_cli(tmp_path: Path) -> None:
    base = {**clean_env(tmp_path), "FRONT_API_TOKEN": TOKEN, "DATABASE_URL": "dbname=x"}
    for var, url, why in BAD_URLS[:2] + BAD_URLS[4:5]:
        ran = await frontscan("scan", "--after", "2026-01-01", env={**base, var: url}, cwd=tmp_path)
        ran.one_line_error(2, why, var)
    typo = {**base, "FRONTSCAN_SCAN_CONCURENCY": "3"}
    ran = await frontscan("status", env=typo, cwd=tmp_path)
    ran.one_line_error(2, "FRONTSCAN_SCAN_CONCURENCY")


SLOW = pytest.mark.reliability
SAMPLE = pytest.mark.reliability(sample=True)


@pytest.mark.parametrize(
    ("dsn", "why"),
    [
        pytest.param(*case, marks=SAMPLE if i in (0, 3, 4) else SLOW)
        for i, case in enumerate(BAD_DSNS)
    ],
)
async def test_malformed_database_urls_never_print_the_password(
    dsn: str, why: str, tmp_path: Path
) -> None:
    for command in (["status"], ["db", "url"], ["db", "migrate"]):
        env = {**clean_env(tmp_path), "DATABASE_URL": dsn}
        ran = await frontscan(*command, env=env, cwd=tmp_path)
        line = ran.one_line_error(2, why)
        for piece in ("Sekr1t", "pw-4711"):
            assert piece not in ran.out + ran.err, (command, dsn, line)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("0.0000001", marks=SAMPLE),
        pytest.param("nan", marks=SAMPLE),
        pytest.param("inf", marks=SLOW),
        pytest.param("-1", marks=SLOW),
        pytest.param("0", marks=SLOW),
    ],
)
async def test_slice_days_must_be_finite_and_at_least_an_hour(
    value: str, tmp_path: Path, database_url: str
) -> None:
    env = {**clean_env(tmp_path), "FRONT_API_TOKEN": TOKEN, "DATABASE_URL": database_url}
    args = ["scan", "--after", "2026-01-01", "--llm", "never", f"--slice-days={value}"]
    ran = await frontscan(*args, env=env, cwd=tmp_path, limit=30)
    ran.one_line_error(2, "--slice-days", "one hour")


async def test_a_dry_run_over_centuries_is_refused_with_its_slice_count(
    tmp_path: Path, database_url: str
) -> None:
    env = {**clean_env(tmp_path), "FRONT_API_TOKEN": TOKEN, "DATABASE_URL": database_url}
    args = ["scan", "--after", "0001-01-01", "--dry-run"]
    ran = await frontscan(*args, env=env, cwd=tmp_path, limit=30)
    line = ran.one_line_error(2, "slices of 7 days", "at most 10,000")
    assert "105," in line
