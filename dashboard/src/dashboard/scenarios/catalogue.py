"""The scenarios the integration tests page offers, by key (DESIGN.md section 9's numbering in the titles).

The faults (kill -9, the simulator's private-WS drop) hurt a live platform and the rapid-fire orders trade
on it, so those scenarios are SIM only. The replay (7) trades nothing live and runs sandboxed with limits,
so it runs in every mode.
"""

from __future__ import annotations

from common.schemas import Severity

from common import constants as c
from dashboard.scenarios import checks, deploy, full_boot, rapid_fire, replay_isolation
from dashboard.scenarios.steps import Scenario, Step

# The last step of the fault scenarios: what the fault cost the bus.
LOSSES = Step("no bus message lost: no dead letter, every consumer group caught up", 60, checks.nothing_lost)


def _crash(service: str, *, title: str, hold: str) -> Scenario:
    """Kill -9 `service`: RED, execution SAFE for `hold`, back with a new pid, recovery to NORMAL."""
    return Scenario(key=f"{service}-crash", title=title, sim_only=True, steps=(
        Step(f"{service} GREEN, its pid on this host", 60, checks.green(service)),
        Step(f"kill -9 {service}", 5, checks.kill(service)),
        Step(f"{service} seen RED", 30, checks.red(service)),
        Step(f"execution SAFE ({hold})", 30, checks.safe(hold)),
        Step(f"{service} GREEN again, new pid, restart counted", 120, checks.back(service)),
        Step("recovery plan ok, execution NORMAL", 120, checks.normal),
        LOSSES,
    ))


SCENARIOS: dict[str, Scenario] = {s.key: s for s in (
    Scenario(key="full-boot", title="1. Full boot: from stopped, scalper.target, five GREEN, NORMAL after "
             "reconciliation", refusal=full_boot.refusal, steps=(
                 Step("the four other services stopped (systemd), or make run's running platform", 60,
                      full_boot.stopped),
                 Step("systemctl start scalper.target", 60, full_boot.started),
                 Step("five services GREEN", 120, full_boot.five_green),
                 Step("failover manager NORMAL after reconciliation (READY alert if any)", 120,
                      full_boot.normal_after_reconciliation),
             )),
    Scenario(key="deploy", title="2. Deploy: a throwaway commit through the auto-update, no refused request, no "
             "lost message, back to the tracked branch", sim_only=True, refusal=deploy.refusal, resumable=True,
             steps=(
                 Step("platform GREEN, execution NORMAL; the release and the last update noted", 60,
                      deploy.baseline),
                 Step("scalper-update deploys a signed throwaway commit (rolling restart, health gate)", 1800,
                      deploy.deployed),
                 Step("the new version shows: all five restarted", 120, deploy.new_version),
                 Step("scalper-update back on the tracked branch's head, GREEN and NORMAL", 1800, deploy.back),
                 Step("no request refused, no bus message lost", 120, deploy.nothing_lost),
             )),
    _crash("market", title="3. market service crashes: restart, SAFE, recovery, NORMAL",
           hold="module:market"),
    Scenario(key="private-ws-drop", title="4. Private WS drops: SAFE, CRIT alert, resync, NORMAL",
             sim_only=True, steps=(
                 Step("platform GREEN", 60, checks.all_green),
                 Step("simulator drops the private WS", 10, checks.drop_private_ws),
                 Step("execution SAFE, CRIT alert", 30,
                      checks.alert_raised(c.EXEC_WS_ALERT, Severity.CRIT, figures=("detect_s", "safe_s"))),
                 Step("recovery plan ok, execution NORMAL", 120, checks.normal),
                 LOSSES,
             )),
    _crash("strategy", title="5. strategy service crashes: MODULE_CRASH, CRIT alert, recovery",
           hold="module:strategy"),
    Scenario(key="rapid-fire", title="6. Rapid-fire orders with TP/SL: all filled once, every position "
             "protected", sim_only=True, steps=(
                 Step("platform GREEN, execution NORMAL", 60, checks.ready_to_trade),
                 Step("claim two symbols: the strategy's entries on them paused for the run, both flat", 60,
                      rapid_fire.claim),
                 Step(f"{rapid_fire.ORDERS} manual intents with TP/SL, back to back", 30, rapid_fire.send),
                 Step("each filled by one order; intent→ack p50/max", 30, rapid_fire.filled),
                 Step("every open position has a TP and an SL", 30, rapid_fire.protected),
                 Step("reduce-only intents close what the run opened", 10, rapid_fire.close),
                 Step("closes filled, the run's symbols flat", 30, rapid_fire.closed),
                 Step("release the symbols: the strategy's entries on them resume", 30, rapid_fire.release),
             ), cleanup=rapid_fire.cleanup),
    Scenario(key="replay-isolation", title="7. Replay/backtest in isolation: same strategy code, sandboxed, "
             "live platform untouched", prepare=replay_isolation.prepare, cleanup=replay_isolation.cleanup,
             choices=lambda data_dir: {"recording": replay_isolation.recordings(data_dir)},
             steps=(
                 Step("platform GREEN; live streams, restarts and state noted", 60, replay_isolation.baseline),
                 Step("scalperctl replay started in a sandbox: clean environment, limits, its own directory", 10,
                      replay_isolation.start),
                 Step("replay done: report and equity picture", 200, replay_isolation.finished),
                 Step("isolation proved: no Redis in its env, nothing of it on live streams, services GREEN "
                      "and state unchanged", 60, replay_isolation.isolated),
             )),
)}
