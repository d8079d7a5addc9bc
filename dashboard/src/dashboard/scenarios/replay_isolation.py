"""Production scenario 7 (DESIGN.md section 9): a replay (backtest) next to the live platform, isolated.

The replay is `scalperctl replay`, the same strategy engine code the strategy service runs, on a seeded
market path or a recording, with a chosen profile. It runs in a child process that cannot reach the live
platform and cannot starve it:
- its environment is built from nothing: PATH, HOME and matplotlib's config dir in its own directory, no
  Redis URL or password, no exchange key (and `scalperctl replay` opens no connection and reads no settings);
- `sandbox` lowers its limits before it becomes the replay: address space (RLIMIT_AS), CPU seconds
  (RLIMIT_CPU), priority (nice), and raises its OOM score, so at the dashboard unit's MemoryMax= the kernel
  kills the replay and the unit (OOMPolicy=continue) goes on; a limit that could not be set is shown in
  the run, while MemoryMax=/TasksMax= bound it anyway;
- it writes only to its run's directory under the dashboard's DATA_DIR (scenarios/<run_id>).
The isolation is then proved against the live platform, not assumed: the child's environment names (as
the sandbox saw them), the live streams it would write to (strategy.signals, exec.intents, exec.events)
gained no entry stamped inside the replay's market time, every service GREEN with no restart, and the live
positions and the strategy's risk snapshot unchanged (or changed only by live execution events).

It trades nothing live, so it runs in every mode (the limits are what keeps a LIVE platform safe from it).
Each function is a step's check: (ctx) -> (holds, detail); StepFailed fails the step at once.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path

from common.schemas import decode

from common import constants as c
from dashboard.scenarios import sandbox
from dashboard.scenarios.checks import all_green
from dashboard.scenarios.steps import Context, StepFailed, run_dir

RECORDINGS_DIR = "recordings"  # under DATA_DIR: recordings (JSON lines of Bybit public WS messages) to replay
LIVE_STREAMS = (c.STRATEGY_SIGNALS, c.EXEC_INTENTS, c.EXEC_EVENTS)
SHOWN_FILES = ("equity.png", "report.json", "trades.json", sandbox.SANDBOX_FILE, "replay.log")
AS_MB, CPU_S, NICE, OOM_SCORE_ADJ = 1536, 300, 10, 1000
DEFAULTS = {"seed": "1", "minutes": "5", "profile": "", "recording": ""}
MAX_MINUTES = 240.0
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
FORBIDDEN_ENV = re.compile(r"REDIS|BYBIT|SECRET|PASSWORD|TOKEN|API_KEY|ADMIN", re.IGNORECASE)
REPORT_KEYS = ("profile", "profile_version", "symbols", "trades", "win_rate", "pnl_net_usdt", "fees_usdt",
               "final_equity_usdt", "max_drawdown_pct", "source")


def recordings(data_dir: Path) -> list[str]:
    """The recordings an operator may replay from the page: files in DATA_DIR/recordings."""
    folder = Path(data_dir) / RECORDINGS_DIR
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.glob("*") if p.is_file() and NAME.match(p.name))


def prepare(given: dict[str, str], data_dir: Path) -> dict[str, str]:
    """The run's parameters: the defaults with what the operator gave; ValueError naming a bad field."""
    if unknown := sorted(set(given) - set(DEFAULTS)):
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)}: this scenario takes {', '.join(DEFAULTS)}")
    params = DEFAULTS | {k: v.strip() for k, v in given.items() if v.strip()}
    try:
        int(params["seed"])
    except ValueError:
        raise ValueError(f"seed: {params['seed']!r} is not a whole number") from None
    try:
        minutes = float(params["minutes"])
    except ValueError:
        raise ValueError(f"minutes: {params['minutes']!r} is not a number") from None
    if not 0 < minutes <= MAX_MINUTES:
        raise ValueError(f"minutes: {minutes:g} is not between 0 and {MAX_MINUTES:g}")
    if params["profile"] and not NAME.match(params["profile"]):
        raise ValueError(f"profile: {params['profile']!r} is not a profile name")
    if params["recording"] and params["recording"] not in recordings(data_dir):
        raise ValueError(f"recording: no {params['recording']!r} in DATA_DIR/{RECORDINGS_DIR} "
                         f"(there are: {', '.join(recordings(data_dir)) or 'none'})")
    return params


async def baseline(ctx: Context) -> tuple[bool, str]:
    """Every service GREEN; what the live platform looks like before the replay: the streams' last entry
    ids and lengths, the services' restart counts, the positions and the strategy's risk snapshot."""
    ok, detail = await all_green(ctx)
    if not ok:
        return False, detail
    redis = ctx.rt.bus.redis
    ctx.facts["streams"] = {s: await _tail(redis, s) for s in LIVE_STREAMS}
    ctx.facts["restarts"] = {s["name"]: s["restarts"] for s in ctx.monitor.snapshot()["services"]}
    ctx.facts["state"] = await _live_state(redis)
    return True, f"{detail}; live streams: " + ", ".join(
        f"{s} {n} entries (last {last})" for s, (last, n) in ctx.facts["streams"].items())


async def start(ctx: Context) -> tuple[bool, str]:
    """The replay started in its sandbox, in a clean environment, writing to the run's directory."""
    params = ctx.params
    out = run_dir(ctx.rt.settings.data_dir, ctx.run_id)
    out.mkdir(parents=True, exist_ok=True)
    scalperctl = Path(sys.executable).with_name("scalperctl")
    if not scalperctl.is_file():
        raise StepFailed(f"no {scalperctl}: scalperctl is not installed next to the dashboard's python")
    cmd = [str(scalperctl), "replay", "--out", str(out)]
    if params["recording"]:
        cmd += ["--from", str(Path(ctx.rt.settings.data_dir) / RECORDINGS_DIR / params["recording"])]
    else:
        cmd += ["--seed", params["seed"], "--minutes", params["minutes"]]
    profile = params["profile"] or (await ctx.rt.bus.redis.get(c.STRATEGY_PROFILE_KEY) or b"").decode()
    if profile:
        cmd += ["--profile", profile]
    if (live_profiles := Path(ctx.rt.settings.data_dir) / "profiles").is_dir():
        cmd += ["--profiles-dir", str(live_profiles)]  # the files the live strategy reads
    env = {"PATH": f"{scalperctl.parent}:/usr/bin:/bin", "HOME": str(out), "MPLCONFIGDIR": str(out / ".mpl"),
           "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    log = (out / "replay.log").open("wb")
    ctx.facts["proc"] = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dashboard.scenarios.sandbox", "--out", str(out), "--as-mb", str(AS_MB),
        "--cpu-s", str(CPU_S), "--nice", str(NICE), "--oom-score-adj", str(OOM_SCORE_ADJ), "--", *cmd,
        env=env, cwd=out, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log)
    log.close()
    ctx.facts["started"] = time.monotonic()
    ctx.facts["replay_profile"] = profile or "scalperctl's default"
    what = f"recording {params['recording']}" if params["recording"] else (
        f"seed {params['seed']}, {params['minutes']} min of generated market")
    return True, (f"scalperctl replay of {what}, profile {ctx.facts['replay_profile']}, pid "
                  f"{ctx.facts['proc'].pid}, in {out}")


async def finished(ctx: Context) -> tuple[bool, str]:
    """The replay exited 0 with its report and equity picture; the run shows them and the sandbox's limits."""
    proc = ctx.facts["proc"]
    if proc.returncode is None:
        return False, f"replay running for {time.monotonic() - ctx.facts['started']:.0f} s"
    ctx.figures["replay_wall_s"] = round(time.monotonic() - ctx.facts["started"], 1)
    out = run_dir(ctx.rt.settings.data_dir, ctx.run_id)
    ctx.files[:] = [name for name in SHOWN_FILES if (out / name).is_file()]
    if proc.returncode != 0:
        tail = (out / "replay.log").read_text(errors="replace")[-600:] if (out / "replay.log").is_file() else ""
        raise StepFailed(f"the replay exited {proc.returncode}: {tail}")
    report = json.loads((out / "report.json").read_text())
    ctx.report.update({k: _shown(report[k]) for k in REPORT_KEYS if k in report})
    ctx.facts["window_ns"] = (report["start_ms"] * 1_000_000, report["end_ms"] * 1_000_000)
    ctx.figures.update(replay_trades=report["trades"], replay_pnl_net_usdt=float(report["pnl_net_usdt"]),
                       replay_max_drawdown_pct=report["max_drawdown_pct"])
    box = json.loads((out / sandbox.SANDBOX_FILE).read_text())
    limits = ", ".join(f"{k} {v}" for k, v in box["outcome"].items())
    picture = "shown" if "equity.png" in ctx.files else "missing"
    return True, (f"{report['trades']} trades, net P&L {report['pnl_net_usdt']} USDT, max drawdown "
                  f"{report['max_drawdown_pct']} %; equity picture {picture}; sandbox limits (AS {AS_MB} MB, "
                  f"CPU {CPU_S} s, nice +{NICE}, OOM score +{OOM_SCORE_ADJ}): {limits}")


async def isolated(ctx: Context) -> tuple[bool, str]:
    """The proof: no Redis or credential in the replay's environment, nothing of the replay on the live
    streams, every service GREEN with no restart, the live state unchanged or changed only by live events."""
    out = run_dir(ctx.rt.settings.data_dir, ctx.run_id)
    env = json.loads((out / sandbox.SANDBOX_FILE).read_text())["env"]
    if leaked := [k for k in env if FORBIDDEN_ENV.search(k)]:
        raise StepFailed(f"the replay's environment had {', '.join(leaked)}")
    redis = ctx.rt.bus.redis
    lo, hi = ctx.facts["window_ns"]
    added, ours, live_exec = {}, {}, 0
    for stream, (last, _) in ctx.facts["streams"].items():
        entries = await redis.xrange(stream, min=f"({last}" if last != "0-0" else "-", max="+")
        added[stream] = len(entries)
        stamped = [_stamps(fields) for _, fields in entries]
        ours[stream] = sum(any(lo <= t <= hi for t in ts) for ts in stamped)
        if stream == c.EXEC_EVENTS:
            live_exec = len(entries) - ours[stream]
    ctx.figures.update(replay_entries_on_live_streams=sum(ours.values()),
                       live_entries_added=sum(added.values()))
    if sum(ours.values()):
        raise StepFailed(f"live streams carry entries stamped in the replay's market time: {ours}")
    ok, green = await all_green(ctx)
    before = ctx.facts["restarts"]
    restarted = [f"{s['name']} {before[s['name']]} -> {s['restarts']}"
                 for s in ctx.monitor.snapshot()["services"] if s["restarts"] != before[s["name"]]]
    if restarted:
        raise StepFailed(f"services restarted during the replay: {', '.join(restarted)}")
    if not ok:
        return False, green
    changed = [k for k, v in (await _live_state(redis)).items() if v != ctx.facts["state"][k]]
    if changed and not live_exec:
        raise StepFailed(f"live {', '.join(changed)} changed with no live execution event to explain it")
    state = (f"live {', '.join(changed)} changed by {live_exec} live execution events" if changed
             else "live positions and risk snapshot unchanged")
    return True, (f"replay env: {', '.join(env)} (no Redis URL, no credential); live streams gained "
                  + ", ".join(f"{s} {n}" for s, n in added.items())
                  + f" entries, none stamped in the replay's market time; {green}, no restart; {state}")


async def _tail(redis, stream: str) -> tuple[str, int]:
    """The stream's last entry id ("0-0" when it has none) and its length."""
    last = await redis.xrevrange(stream, count=1)
    return (last[0][0].decode() if last else "0-0"), await redis.xlen(stream)


async def _live_state(redis) -> dict[str, object]:
    """What the replay must not change: execution's positions and the strategy's risk snapshot."""
    return {"positions": await redis.hgetall(c.EXEC_POSITIONS_KEY),
            "risk snapshot": await redis.get(c.STRATEGY_RISK_KEY)}


def _shown(value) -> str:
    """A report value as the page shows it: lists and objects as compact JSON."""
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else str(value)


def _stamps(fields: dict) -> list[int]:
    """The timestamps a bus entry carries (exchange, created, event time), in ns; none for a bad entry."""
    try:
        msg = decode(fields[c.PAYLOAD_FIELD])
    except Exception:  # not a bus message: nothing the replay could have written either
        return []
    return [t for t in (getattr(msg, name, 0) for name in ("exchange_ts_ns", "created_ts_ns", "ts_ns")) if t]


async def cleanup(ctx: Context) -> str:
    """After a failed step: stop the replay if it still runs."""
    proc = ctx.facts.get("proc")
    if proc is None or proc.returncode is not None:
        return ""
    proc.kill()
    await proc.wait()
    return f"the replay (pid {proc.pid}) stopped"
