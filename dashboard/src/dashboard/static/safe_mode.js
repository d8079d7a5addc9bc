// The safe mode page live: operator safe mode, execution's state and holds, the reconciliation note and
// the recovery plans from /api/safe-mode every 2 s (a plan's steps show as it runs them).
"use strict";
(function () {
  const EVERY_MS = 2000;
  const el = Live.el;

  function execution(box, ex) {
    if (!ex) {
      const empty = el("p", "empty", box.dataset.empty);
      empty.id = "execution-state";
      box.replaceChildren(empty);
      return;
    }
    const state = el("strong", "state-" + ex.state, ex.state);
    state.id = "execution-state";
    const reason = el("span", "", ex.reason || "");
    reason.id = "execution-reason";
    const line = el("p", "", "execution: ");
    line.append(state, " ", reason);
    box.replaceChildren(line);
    if (ex.holds && Object.keys(ex.holds).length) box.appendChild(Live.facts({holds: ex.holds}, "", ""));
  }
  function plan(p) {
    const div = el("div", "plan");
    div.dataset.plan = p.plan_id;
    const h = div.appendChild(el("h3", "", Live.utc(p.start_ns) + " · " + p.trigger + " · "));
    h.appendChild(el("span", "outcome outcome-" + p.outcome, p.outcome));
    const ol = div.appendChild(el("ol"));
    for (const s of p.steps) {
      const li = ol.appendChild(el("li", "outcome-" + s.outcome, s.name + ": "));
      li.append(el("strong", "", s.outcome), " " + s.detail);
    }
    return div;
  }
  function render(d) {
    document.getElementById("operator-safe-mode").textContent = d.operator_safe_mode ? "on" : "off";
    execution(document.getElementById("execution"), d.execution);
    const note = document.getElementById("reconcile-note");
    note.replaceChildren();
    if (d.reconcile_waits) note.appendChild(el("p", "empty", d.reconcile_waits)).id = "reconcile-waits";
    const plans = document.getElementById("recovery-plans");
    plans.replaceChildren(...d.recovery_plans.map(plan));
    if (!d.recovery_plans.length) plans.appendChild(el("p", "empty", plans.dataset.empty));
  }
  Live.poll("/api/safe-mode", render, EVERY_MS);
})();
