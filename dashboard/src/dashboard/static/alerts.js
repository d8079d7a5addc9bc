// The alert center live: its rows from /api/alerts/stream (the page's own filter), a new alert at once.
"use strict";
(function () {
  function telegram(a) {
    return a.telegram + (a.last_error ? " (" + a.attempts + " tries: " + a.last_error + ")" : "");
  }
  function fill(tr, a) {
    tr.dataset.key = a.key;
    Live.cell(tr, 0, String(a.id));
    Live.cell(tr, 1, Live.utc(a.ts_ns));
    Live.cell(tr, 2, a.severity, "severity sev-" + a.severity);
    Live.cell(tr, 3, a.source);
    Live.cell(tr, 4, a.title, "title");
    Live.cell(tr, 5, a.detail);
    Live.cell(tr, 6, String(a.repeats));
    Live.cell(tr, 7, telegram(a), "telegram");
    const acked = Live.cell(tr, 8, null, "acked");
    if (a.acked_by) {
      Live.cell(tr, 8, a.acked_by);
    } else if (!acked.firstElementChild) {
      const ack = Live.form("ack-form", "/api/alerts/" + a.id + "/ack");  // admins only
      if (ack) acked.replaceChildren(ack);
    }
  }
  function render(d) {
    Live.badge(d.unacked);
    Live.rows(document.querySelector("#alerts tbody"), d.alerts, "alert", (a) => a.id, fill);
    document.getElementById("alerts").hidden = !d.alerts.length;
    document.getElementById("no-alerts").hidden = d.alerts.length > 0;
  }
  Live.stream("/api/alerts/stream" + location.search, render);
})();
