"""Local fakes of Front's Core API and OpenAI's chat completions, with ground truth.

Nothing here talks to the real services: tests, demos and benchmarks run frontscan
against these servers, so their value is faithfulness to the documented behaviour
(envelopes, limits, headers, error bodies) and a mailbox whose planted tracking numbers
are known exactly.
"""

from __future__ import annotations

from frontscan.simulator.mailbox import Mailbox, TruthNumber
from frontscan.simulator.runtime import (
    RunningSimulator,
    SimulatorOptions,
    running_simulator,
    serve,
)

__all__ = [
    "Mailbox",
    "RunningSimulator",
    "SimulatorOptions",
    "TruthNumber",
    "running_simulator",
    "serve",
]
