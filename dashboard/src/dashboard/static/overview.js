// Live overview: the services' health from /api/health/stream (server-sent events), and every other figure
// (execution, equity and the daily-loss bar, P&L today, positions, trades, alerts, backup, deploy) polled from
// /api/overview every FIGURES_EVERY_MS (it reads the day's execution events: too heavy for every event).
"use strict";
(function () {
  const FIGURES_EVERY_MS = 3000;
  const {el, cell} = Live;

  function text(id, value, cls) {
    const node = document.getElementById(id);
    if (!node) return;
    node.textContent = value;
    if (cls !== undefined) node.className = cls;
  }

  function health(h) {
    text("overall", h.overall, "badge status-" + h.overall);
    text("cluster-status", h.overall, "status-text-" + h.overall);
    text("safe-mode", "safe mode: " + (h.operator_safe_mode ? "on" : "off"),
         h.operator_safe_mode ? "badge status-YELLOW" : "badge");
    text("operator-safe", h.operator_safe_mode ? "on" : "off");
    Live.rows(document.querySelector("#services tbody"), h.services, "service", (s) => s.name, function (tr, s) {
      cell(tr, 0, s.name, "name");
      cell(tr, 1, s.status, "status status-" + s.status);
      cell(tr, 2, s.reason, "reason");
      cell(tr, 3, String(s.restarts), "restarts");
      cell(tr, 4, s.safe_mode === null ? "" : String(s.safe_mode), "safe_mode");  // as the service reports it
      cell(tr, 5, String(Object.values(s.consumer_lag || {}).reduce((a, b) => a + b, 0)), "lag");
    });
    Live.header(h);
  }

  function equity(e) {
    const card = document.getElementById("equity-card");
    const heading = card.firstElementChild;
    if (e.no_data) {
      const p = el("p", "empty", e.no_data);
      p.id = "equity";
      card.replaceChildren(heading, p);
    } else {
      const big = el("p", "big", e.display.equity);
      big.id = "equity";
      const change = el("span", Trading.signOf(e.change), e.display.change);
      change.id = "equity-change";
      const line = el("p", "", "today ");
      line.append(change, " from " + e.display.day_start);
      card.replaceChildren(heading, big, line);
    }
    document.getElementById("loss-bar").value = e.limit_used_pct || 0;
    text("drawdown", e.display.drawdown || "0.00 %");
    text("limit-used", e.display.limit_used || "0.00 %");
    const kill = e.killed ? "TRIPPED: " + e.killed : e.no_data ? "unknown: no wallet reading" : "armed";
    text("kill-switch", kill, e.killed ? "neg" : "pos");
  }

  function pnl(p) {
    text("pnl-total", p.total + " USDT", "big " + Trading.signOf(p.total));
    text("pnl-realised", p.realised || "none", Trading.signOf(p.realised));
    text("pnl-unrealised", p.unrealised, Trading.signOf(p.unrealised));
    text("pnl-note", p.no_data || "realised net of fees " + p.fees + ", since 00:00 UTC");
  }

  function alerts(list) {
    const ul = document.getElementById("alerts");
    if (!list.length) { ul.replaceChildren(el("li", "empty", "none")); return; }
    ul.replaceChildren(...list.map(function (a) {
      const li = el("li", "sev-" + a.severity);
      li.append(Trading.when(a.ts_ns), " " + a.severity + " " + a.title);
      return li;
    }));
  }

  function backup(b) {
    const p = document.getElementById("backup");
    if (b.no_data) { p.className = "empty"; p.textContent = b.no_data; return; }
    p.className = "";
    p.replaceChildren(el("span", "outcome-" + b.outcome, b.outcome),
      " · " + b.display.when + " UTC · took " + b.display.took + (b.error ? " · " + b.error : ""));
  }

  function deploy(d) {
    const p = document.getElementById("deploy");
    if (d.no_data) { p.className = "empty"; p.textContent = d.no_data; return; }
    p.className = "";
    const commit = el("code", "", d.display.commit);
    commit.title = d.commit;
    p.replaceChildren(el("span", "outcome-" + d.kind, d.outcome), " ", commit,
      " · " + d.display.when + " UTC · took " + d.display.took + (d.detail ? " · " + d.detail : ""));
  }

  function figures(o) {
    const x = o.execution;
    text("exec-state", x ? x.state : "no state yet", "state-" + (x ? x.state : "none"));
    text("exec-why", x ? x.reason : "");
    equity(o.equity);
    pnl(o.pnl);
    Trading.show("positions", Trading.positions(o.positions));
    Trading.show("trades", Trading.trades(o.trades, "no round trip closed in the last 24 h"));
    alerts(o.alerts);
    backup(o.backup);
    deploy(o.deploy);
  }

  Live.poll("/api/overview", figures, FIGURES_EVERY_MS);
  Live.stream("/api/health/stream", health);
})();
