// Live updates of the overview: health from /api/health/stream (server-sent events), P&L today from
// /api/pnl/today every PNL_EVERY_MS (it reads the day's execution events: too heavy for every event).
"use strict";
(function () {
  function cell(row, cls, text) {
    const td = row.querySelector("." + cls);
    if (td) td.textContent = text;
  }
  function render(h) {
    const overall = document.getElementById("overall");
    overall.textContent = h.overall;
    overall.className = "badge status-" + h.overall;
    const tbody = document.querySelector("#services tbody");
    for (const s of h.services) {
      let row = tbody.querySelector('tr[data-service="' + s.name + '"]');
      if (!row) {
        row = document.createElement("tr");
        row.dataset.service = s.name;
        for (const cls of ["name", "status", "reason", "uptime", "restarts", "pid", "safe_mode", "lag", "version", "last_error"]) {
          const td = document.createElement("td");
          td.className = cls;
          row.appendChild(td);
        }
        tbody.appendChild(row);
        cell(row, "name", s.name);
      }
      const st = row.querySelector(".status") || row.children[1];
      st.textContent = s.status;
      st.className = "status status-" + s.status;
      cell(row, "reason", s.reason);
      cell(row, "uptime", s.uptime_s === null ? "" : s.uptime_s);
      cell(row, "restarts", s.restarts);
      cell(row, "pid", s.pid || "");
      cell(row, "safe_mode", s.safe_mode === null ? "" : s.safe_mode);
      cell(row, "lag", Object.values(s.consumer_lag || {}).reduce((a, b) => a + b, 0));
      cell(row, "version", s.version || "");
      cell(row, "last_error", s.last_error || "");
    }
    document.getElementById("safe-mode").textContent = "safe mode: " + (h.operator_safe_mode ? "on" : "off");
    Live.badge(h.alerts_unacked);
  }
  const PNL_EVERY_MS = 10000;
  const {el} = Live;
  function renderPnl(p) {
    const section = document.getElementById("pnl");
    while (section.children.length > 1) section.removeChild(section.lastChild);  // keep the heading
    if (p.no_data) {
      const empty = el("p", "empty", "no data: " + p.no_data);
      empty.id = "pnl-total";
      section.appendChild(empty);
      return;
    }
    const line = el("p", "", "realised: ");
    const total = el("strong", "", p.realised_pnl);
    total.id = "pnl-total";
    const fees = el("span", "", p.fees);
    fees.id = "pnl-fees";
    line.append(total, " USDT · fees paid: ", fees, " · fills: " + p.fills);
    const table = el("table");
    table.id = "pnl-symbols";
    const head = el("tr");
    for (const h of ["symbol", "realised", "counted from"]) head.appendChild(el("th", "", h));
    table.appendChild(el("thead")).appendChild(head);
    const body = table.appendChild(el("tbody"));
    for (const [sym, row] of Object.entries(p.symbols)) {
      const tr = el("tr");
      tr.dataset.symbol = sym;
      tr.append(el("td", "", sym), el("td", "pnl", row.realised_pnl), el("td", "", row.baseline));
      body.appendChild(tr);
    }
    section.append(line, table);
  }
  Live.poll("/api/pnl/today", renderPnl, PNL_EVERY_MS);

  Live.stream("/api/health/stream", render);
})();
