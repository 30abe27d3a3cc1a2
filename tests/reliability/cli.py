"""Running `frontscan` as a real process, as cron does, and reading what it left behind."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

FRONTSCAN = str(Path(sys.executable).parent / "frontscan")


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    def one_line_error(self, code: int, *fragments: str) -> str:
        """The single `frontscan: ...` line a bad input must give, checked and returned."""
        lines = self.err.strip().splitlines()
        assert self.code == code, (self.code, self.err)
        assert len(lines) == 1, self.err
        assert lines[0].startswith("frontscan: "), lines[0]
        assert "Traceback" not in self.err
        for fragment in fragments:
            assert fragment in lines[0], (fragment, lines[0])
        return lines[0]


async def frontscan(*args: str, env: dict[str, str], cwd: Path, limit: float = 120) -> Ran:
    proc = await asyncio.create_subprocess_exec(
        FRONTSCAN,
        *args,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), limit)
    assert proc.returncode is not None
    return Ran(proc.returncode, out.decode(), err.decode())
