"""systemctl for the scenarios that drive the real units (1: full boot, 2: deploy), as the service user
does it: the polkit rule (deploy/systemd/scalper.polkit.rules) lets user scalper start, stop and restart
the scalper-* units and start scalper.target and scalper_deployscenario.service, nothing else."""

from __future__ import annotations

import asyncio
import shutil

from dashboard.scenarios.steps import StepFailed

SYSTEMCTL_TIMEOUT_S = 120.0


async def systemctl(*args: str, timeout_s: float = SYSTEMCTL_TIMEOUT_S) -> str:
    """Run `systemctl --no-ask-password ARGS` (never prompting: polkit allows it or it fails); its output, or
    StepFailed with what it said."""
    exe = shutil.which("systemctl")
    if exe is None:
        raise StepFailed("no systemctl on this host")
    proc = await asyncio.create_subprocess_exec(
        exe, "--no-ask-password", *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        proc.kill()
        raise StepFailed(f"systemctl {' '.join(args)}: no answer within {timeout_s:g} s") from None
    text = out.decode(errors="replace").strip()
    if proc.returncode != 0:
        raise StepFailed(f"systemctl {' '.join(args)} exited {proc.returncode}: {text[-300:]}")
    return text
