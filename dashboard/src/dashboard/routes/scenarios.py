"""The integration tests page (/scenarios): run a named production scenario against the running platform,
GREEN or RED, and see every run step by step."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from dashboard import api_models as models
from dashboard.scenarios.catalogue import SCENARIOS
from dashboard.scenarios.runner import Refused, Runner, history
from dashboard.deps import AdminDep, RuntimeDep, UserDep
from dashboard.responses import after_action, render

page = APIRouter(prefix="/scenarios", tags=["integration tests"])
api = APIRouter(prefix="/api/scenarios", tags=["integration tests"])


def _catalogue(request: Request) -> list[dict]:
    """Each scenario with its steps and why it may not run now ("" when it may)."""
    runner: Runner = request.app.state.scenarios
    return [
        {"key": s.key, "title": s.title, "sim_only": s.sim_only, "steps": [st.name for st in s.steps],
         "refusal": runner.refusal(s)}
        for s in SCENARIOS.values()
    ]


@page.get("", response_class=HTMLResponse)
async def scenarios_page(request: Request, user: UserDep, rt: RuntimeDep):
    """The integration tests page: the scenarios, the run buttons, the history (updated by a poll)."""
    return render(request, "scenarios.html", user=user, catalogue=_catalogue(request),
                  runs=await history(rt.bus.redis))


@api.get("", response_model=models.Scenarios)
async def list_scenarios(request: Request, rt: RuntimeDep) -> dict:
    """The scenarios (with why one may not run now) and the runs, newest first, step by step."""
    return {"scenarios": _catalogue(request), "runs": await history(rt.bus.redis)}


@api.post("/{key}/run", response_model=models.ScenarioStarted, responses=models.refusals(403, 404, 409))
async def run_scenario(request: Request, key: str, user: AdminDep):
    """Start a scenario run in the background (admin); fault scenarios only in SIM mode."""
    if key not in SCENARIOS:
        raise HTTPException(status_code=404, detail=f"no scenario {key}")
    audit = request.app.state.audit
    try:
        run = await request.app.state.scenarios.start(key, by=user.name)
    except Refused as e:
        audit.record(user=user.name, action=f"scenario {key}", client=request.client.host, outcome="refused",
                     detail=str(e))
        raise HTTPException(status_code=409, detail=str(e)) from e
    audit.record(user=user.name, action=f"scenario {key}", client=request.client.host, outcome="ok",
                 detail=f"run {run.run_id}")
    return after_action(request, back="/scenarios", result={"run_id": run.run_id, "scenario": key})
