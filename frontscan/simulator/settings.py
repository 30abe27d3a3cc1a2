"""Settings pointed at a running simulator: one definition for the demo, benchmarks and tests."""

from __future__ import annotations

from dataclasses import replace

from frontscan.config import DatabaseSettings, FrontSettings, Secret, Settings
from frontscan.simulator.runtime import RunningSimulator


def simulator_settings(
    settings: Settings,
    sim: RunningSimulator,
    *,
    openai_rpm: int,
    openai_tpm: int,
    database_url: str | None = None,
) -> Settings:
    """`settings` pointed at a running simulator and its OpenAI limits (demo, bench, tests).

    Front's limit is learned from the simulator's headers, as it would be from Front's.
    `database_url` None means the embedded database.
    """
    return replace(
        settings,
        front=FrontSettings(api_url=sim.front_url, token=Secret(sim.front_token)),
        openai=replace(
            settings.openai,
            base_url=sim.openai_url,
            api_key=Secret(sim.openai_key),
            rpm=openai_rpm,
            tpm=openai_tpm,
        ),
        database=DatabaseSettings(url=Secret(database_url) if database_url else None),
    )
