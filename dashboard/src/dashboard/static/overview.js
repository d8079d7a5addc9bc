// Live updates of the overview from /api/health/stream (server-sent events).
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
    const badge = document.getElementById("alert-badge");
    badge.textContent = "alerts: " + h.alerts_unacked;
    badge.className = h.alerts_unacked ? "badge status-RED" : "badge";
  }
  const live = document.getElementById("live");
  const source = new EventSource("/api/health/stream");
  source.onopen = function () { live.textContent = "live updates: on"; };
  source.onerror = function () { live.textContent = "live updates: reconnecting"; };
  source.onmessage = function (ev) { render(JSON.parse(ev.data)); };
})();
