// The integration tests page: the runs (timeline, measured figures, errors), refreshed from /api/scenarios
// every 2 s.
"use strict";
(function () {
  const {el, utc} = Live;
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
      const names = Object.keys(r.figures).sort();
      if (names.length) {
        const p = el("p", "figures", "measured: ");
        names.forEach((k, i) => {
          const span = el("span", "", k + " " + r.figures[k]);
          span.dataset.figure = k;
          p.appendChild(span);
          if (i < names.length - 1) p.appendChild(document.createTextNode(" · "));
        });
        div.appendChild(p);
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
