"""The integration tests page (/scenarios): run a named production scenario against the running platform,
GREEN or RED, and see every run step by step."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import FileResponse, HTMLResponse

from dashboard import action_models as actions
from dashboard import api_models as models
from dashboard import operations_models as ops
from dashboard.auth.session import CSRF_FIELD
from dashboard.scenarios import replay_isolation
from dashboard.scenarios.catalogue import SCENARIOS
from dashboard.scenarios.runner import Refused, Runner, history
from dashboard.scenarios.steps import run_dir
from dashboard.deps import FORM_CONTENT_TYPES, AdminDep, RuntimeDep, UserDep
from dashboard.responses import after_action, render


page = APIRouter(prefix="/scenarios", tags=["integration tests"])
api = APIRouter(prefix="/api/scenarios", tags=["integration tests"])


def _catalogue(request: Request) -> list[dict]:
    """Each scenario with its steps, its parameters (defaults) and why it may not run now ("" when it may)."""
    runner: Runner = request.app.state.scenarios
    data_dir = runner.rt.settings.data_dir
    return [
        {"key": s.key, "title": s.title, "sim_only": s.sim_only, "steps": [st.name for st in s.steps],
         "refusal": runner.refusal(s), "params": runner.parameters(s, {}),
         "choices": s.choices(data_dir) if s.choices else {}}
        for s in SCENARIOS.values()
    ]


@page.get("", response_class=HTMLResponse)
async def scenarios_page(request: Request, user: UserDep, rt: RuntimeDep):
    """The integration tests page: the scenarios, the run buttons, the history (updated by a poll)."""
    return render(request, "scenarios.html", user=user, catalogue=_catalogue(request),
                  runs=await history(rt.bus.redis))


@api.get("", response_model=ops.Scenarios)
async def list_scenarios(request: Request, rt: RuntimeDep) -> dict:
    """The scenarios (with why one may not run now) and the runs, newest first, step by step."""
    return {"scenarios": _catalogue(request), "runs": await history(rt.bus.redis)}


@api.get("/runs/{run_id}/files/{name}", response_class=FileResponse,
         responses={200: {"content": {"image/png": {}, "text/plain": {}}}, **models.refusals(404)})
async def run_file(request: Request, run_id: Annotated[str, Path(pattern=r"^[0-9]{20}$")], name: str,
                   user: UserDep):
    """A file a run wrote (scenario 7: the replay's equity.png, report.json, trades.json, sandbox.json,
    replay.log)."""
    path = run_dir(request.app.state.scenarios.rt.settings.data_dir, run_id) / name
    if name not in replay_isolation.SHOWN_FILES or not path.is_file():
        raise HTTPException(status_code=404, detail=f"run {run_id} has no file {name}")
    return FileResponse(path)


@api.post("/{key}/run", response_model=actions.ScenarioStarted, responses=models.refusals(400, 403, 404, 409))
async def run_scenario(request: Request, key: str, user: AdminDep):
    """Start a scenario run in the background (admin); fault scenarios only in SIM mode. Parameters (scenario
    7: seed, minutes, profile, recording) come as form fields; none given: the defaults."""
    if key not in SCENARIOS:
        raise HTTPException(status_code=404, detail=f"no scenario {key}")
    audit = request.app.state.audit
    form = await request.form() if request.headers.get("content-type", "").startswith(FORM_CONTENT_TYPES) else {}
    given = {k: str(v) for k, v in form.items() if k != CSRF_FIELD}
    try:
        run = await request.app.state.scenarios.start(key, by=user.name, given=given)
    except ValueError as e:
        raise HTTPException(status_code=400, detail=str(e)) from e
    except Refused as e:
        audit.record(user=user.name, action=f"scenario {key}", client=request.client.host, outcome="refused",
                     detail=str(e))
        raise HTTPException(status_code=409, detail=str(e)) from e
    audit.record(user=user.name, action=f"scenario {key}", client=request.client.host, outcome="ok",
                 detail=f"run {run.run_id}")
    return after_action(request, back="/scenarios", result={"run_id": run.run_id, "scenario": key})
