"""The seven production scenarios (DESIGN.md section 9) against the real deployment: the platform deployed
by deploy.yml into the throwaway Debian 12 host (tests/deploy/conftest.py), each scenario started from the
dashboard's API over HTTPS through Caddy from the admin address, as the operator does from the page.
Its kills are real SIGKILLs of systemd-managed processes, and systemd restarts them. Three runs of all
seven in a row; each run's per-scenario durations (and figures) are printed.

`pytest -m scenarios` runs it. SCENARIOS_ONLY=key,key runs only those (development), RUNS=n another count.
"""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from tests.deploy.conftest import ADMIN, ADMIN_PASSWORD, Sandbox, commit, converge, git
from tests.support import wait_until

pytestmark = [pytest.mark.system, pytest.mark.scenarios, pytest.mark.timeout(3600)]

EXPECTED_SCENARIOS = {"full-boot", "deploy", "market-crash", "private-ws-drop", "strategy-crash",
                      "rapid-fire", "replay-isolation"}
RUNS = int(os.environ.get("RUNS", "3"))
ONLY = set(filter(None, os.environ.get("SCENARIOS_ONLY", "").split(",")))
CTL = "/opt/scalper/venv/bin/scalperctl"
RUN_TIMEOUT_S = 1200  # a bound for the longest scenario (2: deploy builds a release), reached only when stuck


class Operator:
    """The admin's browser on our side of the veth: curl over HTTPS through Caddy from the admin address,
    with the host's internal CA and one cookie jar."""

    def __init__(self, box: Sandbox) -> None:
        self.box, self.base = box, f"https://{box.target}"
        self.jar, self.ca = box.state / "operator.cookies", box.state / "sandbox-root-ca.crt"  # tls role's
        self.csrf = ""

    def request(self, method: str, path: str, *args: str) -> tuple[int, str]:
        """The status (0 when curl got none: e.g. a timeout while the dashboard restarts) and the body."""
        r = self.box.run("curl", "-sS", "--cacert", self.ca, "--interface", self.box.admin_ip, "-m", "30",
                         "-b", self.jar, "-c", self.jar, "-X", method, "-w", "\n%{http_code}", *args,
                         f"{self.base}{path}", check=False)
        body, _, code = r.stdout.rpartition("\n")
        return int(code or 0), body or r.stderr

    def json(self, method: str, path: str, *args: str) -> dict:
        code, body = self.request(method, path, "-H", "Accept: application/json", *args)
        assert code == 200, f"{method} {path}: {code} {body[:300]}"
        return json.loads(body)

    def log_in(self) -> None:
        """Through the login form (its CSRF field and cookie), then the session's CSRF token from the page."""
        _, form = self.request("GET", "/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        code, body = self.request("POST", "/login", "--data-urlencode", f"csrf={token}", "--data-urlencode",
                                  f"username={ADMIN}", "--data-urlencode", f"password={ADMIN_PASSWORD}")
        assert code in (302, 303), f"login: {code} {body[:300]}"
        code, page = self.request("GET", "/scenarios")
        assert code == 200, f"/scenarios after login: {code}"
        self.csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)

    def run(self, key: str) -> tuple[dict, float]:
        """Start scenario `key`, poll until it ends; its run record and its wall time."""
        t0 = time.monotonic()
        started = self.json("POST", f"/api/scenarios/{key}/run", "-H", f"X-CSRF-Token: {self.csrf}")

        def ended():  # a scenario may restart the dashboard (2: deploy): no answer then is no end yet
            code, body = self.request("GET", "/api/scenarios", "-H", "Accept: application/json")
            runs = json.loads(body)["runs"] if code == 200 else []
            run = next((r for r in runs if r["run_id"] == started["run_id"]), {})
            return run if run.get("status") in ("GREEN", "RED") else None

        run = wait_until(ended, timeout=RUN_TIMEOUT_S, interval=1, what=f"scenario {key} to end")
        return run, time.monotonic() - t0


def running_the_branch_head(box: Sandbox) -> None:
    """The deploy tests leave the tracked branch on commits the host refused (a broken worker, an unsigned
    commit) and an older release running, while the deploy scenario deploys a commit on top of the head
    and comes back to the head. A signed commit of the running release's tree on top, deployed by the
    timer, leaves the host as an operator would: running its branch's head."""
    def status() -> dict:
        return json.loads(box.ssh(f"sudo {CTL} deploy status --json").stdout)

    def current() -> str:
        return status()["current"]

    def deployed(commit: str) -> bool:  # recorded, so its rolling restart is over (`current` moves before it)
        last = status()["last"] or {}
        return last.get("commit") == commit and last.get("outcome") == "deployed"

    clone, running = box.state / "clone", current()
    git("fetch", "-q", "origin", cwd=clone)
    git("reset", "-q", "--hard", "origin/main", cwd=clone)
    if git("rev-parse", "HEAD", cwd=clone) == running:
        return
    git("checkout", running, "--", ".", cwd=clone)
    made = commit(clone, "scenarios test: the running release on the branch head", signer=box.signer)
    git("push", "-q", "origin", "HEAD:main", cwd=clone)
    t0 = time.monotonic()
    wait_until(lambda: deployed(made), timeout=600, interval=2, what="the timer to deploy the branch head")
    print(f"branch head with the running release's tree deployed in {time.monotonic() - t0:.0f} s")


@pytest.fixture(scope="module")
def operator(sandbox: Sandbox) -> Operator:
    """The deployed host (converged here unless the deploy tests did already), running its branch's head,
    with the admin logged in."""
    if sandbox.ssh("true", check=False).returncode != 0:  # no deploy user yet: a fresh host
        took = converge(sandbox, user="root").seconds
        print(f"converge: {took:.0f} s")
    running_the_branch_head(sandbox)
    op = Operator(sandbox)
    op.log_in()
    return op


def test_all_scenarios_green_three_runs_in_a_row(operator: Operator, capsys):
    catalogue = operator.json("GET", "/api/scenarios")["scenarios"]
    offered = [s["key"] for s in catalogue]
    if not ONLY:
        assert set(offered) == EXPECTED_SCENARIOS, offered
    keys = [k for k in offered if not ONLY or k in ONLY]
    refused = {s["key"]: s["refusal"] for s in catalogue if s["key"] in keys and s["refusal"]}
    assert not refused, refused
    table, failures, t0 = [], [], time.monotonic()
    for n in range(1, RUNS + 1):
        for key in keys:
            run, took = operator.run(key)
            table.append((n, key, run["status"], took, run.get("figures") or {}))
            if run["status"] != "GREEN":
                steps = [(s["name"], s["outcome"], s["detail"]) for s in run["steps"] if s["outcome"] != "ok"]
                failures.append(f"run {n} {key}: {run['errors'][:3]} steps {steps}")
            # The replay's own limits hold under the dashboard's unit too (its syscall filter once refused
            # setpriority: the replay then ran at the services' CPU priority).
            limits = [s["detail"] for s in run["steps"] if "sandbox limits" in s["detail"]]
            if key == "replay-isolation" and (not limits or "refused" in limits[0]):
                failures.append(f"run {n} {key}: sandbox limits not all applied: {limits}")
            # A crash scenario's kill -9 is systemd's kill of the unit's main process, not the dashboard's.
            kills = [s["detail"] for s in run["steps"] if "SIGKILL" in s["detail"]]
            if any("by systemd" not in k for k in kills):
                failures.append(f"run {n} {key}: a kill not by systemd: {kills}")
        if failures:  # the next runs would tell no more, and CI's time is short
            break
    with capsys.disabled():  # the figures belong in the CI log, passed or not
        print(f"\nscenarios on the real deployment: {RUNS} runs in {time.monotonic() - t0:.0f} s")
        for n, key, status, took, figures in table:
            print(f"  run {n}  {key:<18} {status:<5} {took:6.1f} s  {json.dumps(figures) if figures else ''}")
    assert not failures, "\n".join(failures)
