// The integration tests page: the runs (timeline, measured figures, parameters, report, files, errors),
// refreshed from /api/scenarios every 2 s.
"use strict";
(function () {
  const {el, utc} = Live;
  // A line of "name value" spans (sorted by name, each with data-<attr>=name), when `values` has any.
  function named(parent, cls, label, values, attr) {
    const names = Object.keys(values).sort();
    if (!names.length) return;
    const p = el("p", cls, label);
    names.forEach((k, i) => {
      const span = el("span", "", k + " " + values[k]);
      span.dataset[attr] = k;
      p.appendChild(span);
      if (i < names.length - 1) p.appendChild(document.createTextNode(" · "));
    });
    parent.appendChild(p);
  }
  function render(runs) {
    const box = document.getElementById("runs");
    box.replaceChildren();
    if (!runs.length) box.appendChild(el("p", "empty", "no run yet"));
    for (const r of runs) {
      const div = el("div", "run");
      div.dataset.run = r.run_id;
      const h = el("h3", "", utc(r.start_ns) + " · " + r.title + " · " + r.by + " · ");
      h.appendChild(el("span", "badge status-" + r.status, r.status));
      div.appendChild(h);
      named(div, "figures", "measured: ", r.figures, "figure");
      const params = Object.keys(r.params).sort();
      if (params.length) {
        div.appendChild(el("p", "params", "parameters: " +
          params.map((k) => k + "=" + (r.params[k] || "default")).join(", ")));
      }
      named(div, "report", "report: ", r.report, "report");
      if (r.files.length) {
        const base = "/api/scenarios/runs/" + r.run_id + "/files/";
        const p = el("p", "files", "files: ");
        for (const f of r.files) {
          const a = el("a", "", f);
          a.href = base + f;
          p.appendChild(a);
          p.appendChild(document.createTextNode(" "));
        }
        div.appendChild(p);
        if (r.files.includes("equity.png")) {
          const img = el("img", "equity");
          img.alt = "the replay's equity";
          img.src = base + "equity.png";
          div.appendChild(img);
        }
      }
      const ol = el("ol");
      for (const s of r.steps) {
        const li = el("li", "outcome-" + s.outcome, (s.start_ns ? utc(s.start_ns) + " " : "") + s.name + ": ");
        li.appendChild(el("strong", "", s.outcome));
        li.appendChild(document.createTextNode(" " + s.detail));
        ol.appendChild(li);
      }
      div.appendChild(ol);
      if (r.errors.length) {
        const ul = el("ul", "errors");
        for (const e of r.errors) ul.appendChild(el("li", "", e));
        div.appendChild(ul);
      }
      box.appendChild(div);
    }
  }
  Live.poll("/api/scenarios", (d) => render(d.runs), 2000);
})();
