// The services page live: each service's process facts from /api/services every 2 s (a restart shows
// as a new pid and start time, memory and CPU move on).
"use strict";
(function () {
  const EVERY_MS = 2000;
  const COLUMNS = ["name", "status", "pid", "started", "uptime", "restarts", "rss", "cpu", "threads",
    "version", "supervisor", "last_error"];

  function values(s) {
    const p = s.process || {};
    return {
      name: s.name, pid: s.pid || "", started: s.start_ts_ns ? Live.utc(s.start_ts_ns) : "",
      uptime: s.uptime_s === null ? "" : s.uptime_s, restarts: s.restarts, rss: p.rss_mb || "",
      cpu: p.cpu_s || "", threads: p.threads || "", version: s.running,
      supervisor: s.supervisor || "none", last_error: s.last_error,
    };
  }
  // The restart button, or why there is none; rebuilt only when the reason changes.
  function restartCell(tr, s) {
    const td = Live.cell(tr, COLUMNS.length, null, "restart");
    if (td.dataset.refusal === s.restart_refusal && td.firstElementChild) return;
    td.dataset.refusal = s.restart_refusal;
    if (s.restart_refusal) {
      const span = Live.el("span", "empty", "no restart");
      span.title = s.restart_refusal;
      td.replaceChildren(span);
    } else {
      const f = Live.form("restart-form", "/api/services/" + s.name + "/restart");
      f.querySelector("button").dataset.service = s.name;
      td.replaceChildren(f);
    }
  }
  function fill(tr, s) {
    const v = values(s);
    COLUMNS.forEach(function (col, i) {
      if (col === "status") Live.cell(tr, i, s.status, "status status-" + s.status);
      else Live.cell(tr, i, String(v[col]), col);
    });
    if (document.getElementById("restart-form")) restartCell(tr, s);  // admins only
  }
  Live.poll("/api/services", function (d) {
    Live.rows(document.querySelector("#processes tbody"), d.services, "service", (s) => s.name, fill);
  }, EVERY_MS);
})();
