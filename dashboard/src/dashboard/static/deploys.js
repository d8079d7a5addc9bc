// The deploys page live: the running versions, the current and previous release, the history and the
// commits never retried from /api/deploys every EVERY_MS (a roll forward shows as it happens).
"use strict";
(function () {
  const EVERY_MS = 5000;
  const SHORT = 12;

  function code(full) {
    const c = Live.el("code", "", full ? full.slice(0, SHORT) : "none");
    c.title = full || "";
    return c;
  }
  function running(r) {
    const names = Object.keys(r);
    if (!names.length) return [Live.el("li", "empty", "no heartbeat yet")];
    return names.map(function (name) {
      const li = Live.el("li");
      li.dataset.service = name;
      const label = Live.el("span", "", r[name].label);
      if (r[name].release) label.title = r[name].release;
      li.append(Live.el("strong", "", name), " ", label);
      return li;
    });
  }
  function entry(tr, e) {
    Live.cell(tr, 0, e.display.when).dataset.label = "time";
    Live.cell(tr, 1, e.outcome, "outcome outcome-" + e.kind).dataset.label = "outcome";
    Live.cell(tr, 2, null).replaceChildren(code(e.commit));
    tr.children[2].dataset.label = "commit";
    Live.cell(tr, 3, null).replaceChildren(code(e.from));
    tr.children[3].dataset.label = "from";
    Live.cell(tr, 4, e.display.took, "num").dataset.label = "took";
    Live.cell(tr, 5, e.detail, "detail").dataset.label = "detail";
  }
  Live.poll("/api/deploys", function (d) {
    document.getElementById("running").replaceChildren(...running(d.running));
    document.getElementById("current").replaceWith(Object.assign(code(d.current), {id: "current"}));
    document.getElementById("previous").replaceWith(Object.assign(code(d.previous), {id: "previous"}));
    const refused = d.not_retried.flatMap((c) => [code(c), " "]);
    document.getElementById("not-retried").replaceChildren(...(refused.length ? refused : ["none"]));
    const table = document.getElementById("history");
    Live.rows(table.tBodies[0], d.history, "ts", (e) => e.ts + "-" + e.commit, entry);
    table.hidden = !d.history.length;
    const none = document.getElementById("no-history");
    none.textContent = d.no_data || "";
    none.hidden = !d.no_data;
    document.getElementById("empty-history").hidden = Boolean(d.no_data || d.history.length);
  }, EVERY_MS);
})();
