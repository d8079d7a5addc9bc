"""Production scenario 2 (DESIGN.md section 9): a deploy through the real auto-update path, SIM only.

Only under the systemd deployment (the playbook's autoupdate role installs scalper_deployscenario.service);
under `make run` there is no release to deploy and the scenario is refused, saying so. The root side is
deploy/autoupdate/scalper-deploy-scenario, which the dashboard (user scalper) starts through polkit: a
throwaway commit signed with a host-local scenario key on a side ref of the local mirror, `scalper-update
--ref` to it (the real rolling restart, health gate and rollback), then `scalper-update` back to the
tracked branch's head (what the next timer run would do), while it probes the dashboard's socket-activated
listener and counts refused requests. It writes its progress to DATA_DIR/scenarios/deploy.

The dashboard restarts during the roll, so this scenario is resumable: the runner keeps its facts in the
run record and goes on with the running step in the new process. Its checks are idempotent for that.
Messages lost are counted on the bus: dead letters during the run, and what the consumer groups have not
read or not acknowledged once the cluster is back (a stream trimmed past a group's position is a loss).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from common import deploy_history
from dashboard.scenarios.checks import bus_losses, ready_to_trade
from dashboard.scenarios.steps import Context, StepFailed, run_dir
from dashboard.scenarios.units import systemctl

UNIT = "scalper_deployscenario.service"
UNIT_FILE = Path("/etc/systemd/system") / UNIT


def refusal(rt) -> str:
    """Why this host cannot run the scenario ("" when it can)."""
    if rt.supervisor != "systemd":
        return ("deploy needs the systemd deployment (scalper-update, its timer and releases): this dashboard "
                "is not run by systemd, e.g. under make run, where there is nothing to deploy to")
    if not UNIT_FILE.is_file():
        return f"no {UNIT} on this host: the playbook's autoupdate role installs it"
    return ""


def out_dir(ctx: Context) -> Path:
    return run_dir(ctx.rt.settings.data_dir, "deploy")


async def baseline(ctx: Context) -> tuple[bool, str]:
    """Platform GREEN and NORMAL; the running release, each service's instance and the last real update."""
    ok, detail = await ready_to_trade(ctx)
    if not ok:
        return False, detail
    ctx.facts.update(release=_release(ctx), instances=_instances(ctx), t0=time.time())
    if last := _last_update(ctx):
        ctx.report["last_update"] = last
    return True, f"{detail}; release {ctx.facts['release'][:12] or 'unknown'}; last update: {last or 'none'}"


async def deployed(ctx: Context) -> tuple[bool, str]:
    """The root side started once; holds when scalper-update deployed the throwaway commit (its health gate:
    five GREEN from their new processes, execution NORMAL)."""
    out = out_dir(ctx)
    if not _requested(out, ctx.run_id):  # once per run, also across a dashboard restart mid-step
        out.mkdir(parents=True, exist_ok=True)
        for old in ("progress.json", "probe.json"):
            (out / old).unlink(missing_ok=True)
        (out / "request").write_text(ctx.run_id)
        await systemctl("start", "--no-block", UNIT)
    p = _progress(out)
    if p.get("phase") == "refused":
        raise StepFailed(f"the root side refused: {p.get('detail')}")
    if p.get("phase") in ("returning", "done"):
        if p.get("deployed") != p.get("commit"):
            raise StepFailed(f"scalper-update did not deploy {p.get('commit', '')[:12]}: see {out}/deploy.log")
        ctx.facts.update(commit=p["commit"], from_=p.get("from", ""))
        ctx.figures["deploy_s"] = round(float(p["ts"]) - ctx.facts["t0"], 1)
        return True, f"{p['commit'][:12]} deployed over {p.get('from', '')[:12]} in {ctx.figures['deploy_s']} s"
    return False, f"root side: {p.get('phase') or 'starting'}"


async def new_version(ctx: Context) -> tuple[bool, str]:
    """Every service runs as a new process (heartbeat instance changed) since the deploy, and says so."""
    before, now = ctx.facts["instances"], _instances(ctx)
    same = [s for s, i in now.items() if i == before.get(s)]
    if same:
        return False, f"not restarted yet: {', '.join(same)}"
    versions = {s["name"]: s["version"] for s in ctx.monitor.snapshot()["services"]}
    shows = [s for s, v in versions.items() if v and ctx.facts["commit"][:12] in v]
    return True, (f"all five restarted (new instances); heartbeat versions {versions}"
                  + (f"; {', '.join(shows)} show the new commit" if shows else ""))


async def back(ctx: Context) -> tuple[bool, str]:
    """The tracked branch's head runs again (scalper-update without --ref), GREEN and NORMAL: a quiet
    cluster for the next scenario."""
    p = _progress(out_dir(ctx))
    if p.get("phase") != "done":
        return False, f"root side: {p.get('phase')}"
    if p.get("back") != ctx.facts["release"] or _release(ctx) != ctx.facts["release"]:
        raise StepFailed(f"not back on {ctx.facts['release'][:12]}: scalper-update gave {p.get('back')}, "
                         f"current is {_release(ctx)[:12]}; see {out_dir(ctx)}/back.log")
    ok, detail = await ready_to_trade(ctx)
    if ok:
        ctx.figures["back_s"] = round(float(p["ts"]) - ctx.facts["t0"], 1)
    return ok, f"back on {ctx.facts['release'][:12]}; {detail}"


async def nothing_lost(ctx: Context) -> tuple[bool, str]:
    """No request refused by the dashboard's listener during both rolls; no bus message lost since the start
    (checks.bus_losses: no dead letter, no stream trimmed past a consumer group, every group caught up)."""
    probe = json.loads((out_dir(ctx) / "probe.json").read_text())
    ctx.figures.update(requests_sent=probe["sent"], requests_refused=probe["refused"],
                       requests_not_ok=probe["not_ok"])
    lost, bus = await bus_losses(ctx, since_ms=int(ctx.facts["t0"] * 1000))
    detail = (f"requests to the dashboard: {probe['sent']} sent, {probe['refused']} refused, {probe['not_ok']} "
              f"not 200; {bus}")
    if probe["refused"] or lost > 0:
        raise StepFailed(detail)
    return lost == 0, detail


def _release(ctx: Context) -> str:
    """The commit `current` points at, the release the services run ("" when not known)."""
    return deploy_history.release(ctx.rt.settings.deploy_opt_dir, "current") or ""


def _instances(ctx: Context) -> dict[str, str]:
    """Each service's process instance as its heartbeat says (boot id, else pid and start time)."""
    return {name: view.heartbeat.instance() if view.heartbeat else ""
            for name, view in ctx.monitor.services.items()}


def _last_update(ctx: Context) -> str:
    """The newest entry of scalper-update's history (the last real update, before this run), as JSON."""
    last = next(iter(deploy_history.history(ctx.rt.settings.deploy_state_dir)), None)
    return json.dumps(last) if last else ""


def _requested(out: Path, run_id: str) -> bool:
    """This run already asked the root side (its id is the request)."""
    try:
        return (out / "request").read_text() == run_id
    except OSError:
        return False


def _progress(out: Path) -> dict:
    try:
        return json.loads((out / "progress.json").read_text())
    except (OSError, ValueError):
        return {}
