"""`examples/` works as shipped: the config loads, the env file sources, the message detects,
and the cron line runs a scan against the simulator that leaves one JSON object per run."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from frontscan.config import load_settings
from frontscan.simulator.command import scan_env
from frontscan.simulator.runtime import running_simulator
from tests.scanning import clean_env, fast_options

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FRONTSCAN = str(Path(sys.executable).parent / "frontscan")


def test_the_sample_config_loads_with_the_values_it_documents() -> None:
    settings = load_settings(config_path=EXAMPLES / "frontscan.toml", env={})
    assert (settings.front.rpm, settings.front.headroom) == (100, 0.2)
    assert (settings.openai.rpm, settings.openai.tpm) == (5000, 2_000_000)
    assert (settings.scan.concurrency, settings.scan.batch_size, settings.scan.llm) == (
        20,
        50,
        "auto",
    )


def sourced(env_file: Path) -> dict[str, str]:
    """The environment after `. ./env`, as the cron line's shell sees it."""
    done = subprocess.run(
        ["sh", "-c", f". {shlex.quote(str(env_file))} && env -0"],
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        check=True,
    )
    pairs = (item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item)
    return dict(pairs)


def test_the_env_file_sets_every_variable_a_scan_needs() -> None:
    env = sourced(EXAMPLES / "env")
    for name in ("FRONT_API_TOKEN", "OPENAI_API_KEY", "DATABASE_URL", "FRONTSCAN_CONFIG"):
        assert env.get(name), name
    settings = load_settings(env={k: v for k, v in env.items() if k != "FRONTSCAN_CONFIG"})
    assert settings.database.url is not None  # a DSN the settings accept
    assert settings.front.token is not None
    assert settings.openai.api_key is not None


def test_the_sample_message_gives_its_two_tracking_numbers() -> None:
    done = subprocess.run(
        [FRONTSCAN, "detect", str(EXAMPLES / "message.eml")],
        capture_output=True,
        text=True,
        check=True,
    )
    numbers = {json.loads(line)["tracking_number"] for line in done.stdout.splitlines()}
    assert {"1Z999AA10123456784", "9205595881399869879730"} <= numbers


def cron_command(srv: Path, log: Path) -> str:
    """The command part of examples/crontab, with its directories moved under the test's."""
    lines = [
        line
        for line in (EXAMPLES / "crontab").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(lines) == 1
    fields = lines[0].split(maxsplit=5)
    assert fields[:5] == ["*/5", "*", "*", "*", "*"]
    return fields[5].replace("/srv/frontscan", str(srv)).replace("/var/log", str(log))


async def shell(command: str, env: dict[str, str]) -> int:
    """Run `command` as cron would (`sh -c`), without blocking the simulator's loop."""
    proc = await asyncio.create_subprocess_exec("sh", "-c", command, env=env)
    return await asyncio.wait_for(proc.wait(), timeout=120)


async def test_the_cron_line_records_every_run_as_one_json_object(
    database_url: str, tmp_path: Path
) -> None:
    srv, log = tmp_path / "srv", tmp_path / "log"
    (srv / ".venv" / "bin").mkdir(parents=True)
    log.mkdir()
    (srv / ".venv" / "bin" / "frontscan").symlink_to(FRONTSCAN)
    (srv / "frontscan.toml").write_text((EXAMPLES / "frontscan.toml").read_text())
    command = cron_command(srv, log)
    options = fast_options(40)
    async with running_simulator(options) as sim:
        values = sim.env() | {
            "DATABASE_URL": database_url,
            "FRONTSCAN_CONFIG": str(srv / "frontscan.toml"),
        }
        lines = []
        for line in (EXAMPLES / "env").read_text().splitlines():
            if line.startswith("export "):
                name = line.removeprefix("export ").split("=", 1)[0]
                line = f"export {name}={shlex.quote(values[name])}"
            lines.append(line)
        # Where this test's Front and OpenAI are, and their limits, as `simulate` prints them.
        lines += [f"export {k}={shlex.quote(v)}" for k, v in scan_env(sim, options).items()]
        (srv / "env").write_text("\n".join(lines) + "\n")
        env = clean_env(tmp_path)
        assert await shell(command, env) == 2  # no scan has run yet: the first needs --after
        first = f"cd {srv} && . ./env && .venv/bin/frontscan scan --after 2026-01-01"
        assert await shell(first, env) == 0
        assert await shell(command, env) == 0
    records = [json.loads(line) for line in (log / "frontscan.jsonl").read_text().splitlines()]
    assert [r["status"] for r in records] == ["error", "succeeded"]
    assert records[0]["exit_code"] == 2
    assert "--after" in records[0]["error"]
    assert records[1]["database"]  # the object names the database it wrote to
    assert (log / "frontscan-log.jsonl").stat().st_size > 0  # the --log-file records
    assert "frontscan:" in (log / "frontscan.log").read_text()  # the error line on stderr
