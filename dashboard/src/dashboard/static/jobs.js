// The jobs page live: the jobs, their last runs, the retention policies and the backups from /api/jobs
// every 2 s; "run now" is posted in the background (CSRF header) so the new run shows without a reload.
"use strict";
(function () {
  const EVERY_MS = 2000;

  // Epoch seconds as the templates print them ("" for none).
  function utcS(ts) {
    return ts ? Live.utc(ts * 1e9) : "";
  }
  function counts(c) {
    return Object.entries(c).map(([k, v]) => k + "=" + v).join(" ");
  }
  function job(j) {
    const tr = document.querySelector('#jobs tr[data-job="' + j.name + '"]');
    Live.cell(tr, 1, j.schedule || "no worker yet", "schedule");
    Live.cell(tr, 2, utcS(j.next_run_ts), "next_run");
    Live.cell(tr, 3, utcS(j.last_success_ts), "last_success");
    Live.cell(tr, 4, String(j.failures), "failures");
    Live.cell(tr, 5, String(j.failed_total), "failed_total");
    Live.cell(tr, 6, String(j.runs), "runs");
    const table = document.getElementById("runs-" + j.name);
    Live.rows(table.tBodies[0], j.history, "run", (r) => r.run_id, run);
    table.hidden = !j.history.length;
    document.getElementById("no-runs-" + j.name).hidden = j.history.length > 0;
  }
  function run(tr, r) {
    Live.cell(tr, 0, utcS(r.start_ts));
    Live.cell(tr, 1, utcS(r.end_ts));
    Live.cell(tr, 2, r.outcome, "outcome outcome-" + r.outcome);
    Live.cell(tr, 3, r.trigger, "trigger");
    Live.cell(tr, 4, counts(r.counts), "counts");
    Live.cell(tr, 5, String(r.bytes), "bytes");
    Live.cell(tr, 6, r.error, "error");
  }
  function policy(tr, p) {
    Live.cell(tr, 0, p.key);
    Live.cell(tr, 1, String(p.value), "value");
    Live.cell(tr, 2, p.unit);
    Live.cell(tr, 3, p.applies_to.join(" "));
    Live.cell(tr, 4, p.meaning);
  }
  function backup(tr, b) {
    Live.cell(tr, 0, b.id);
    Live.cell(tr, 1, utcS(b.created_ts));
    Live.cell(tr, 2, String(b.size), "size");
    Live.cell(tr, 3, b.verified_ts ? utcS(b.verified_ts) : "not verified", "verified");
    Live.cell(tr, 4, b.path);
  }
  function table(id, items, attr, keyOf, fill) {
    const t = document.getElementById(id);
    Live.rows(t.tBodies[0], items, attr, keyOf, fill);
    t.hidden = !items.length;
    document.getElementById("no-" + id).hidden = items.length > 0;
  }
  function render(d) {
    const refusal = document.getElementById("worker-refusal");
    refusal.textContent = d.worker_refusal;
    refusal.hidden = !d.worker_refusal;
    d.jobs.forEach(job);
    table("policies", d.policies, "policy", (p) => p.key, policy);
    table("backups", d.backups, "backup", (b) => b.id, backup);
  }
  // "run now" without leaving the page: the form's action, its CSRF token as the header, JSON back.
  document.addEventListener("submit", async function (ev) {
    const form = ev.target;
    if (!form.classList.contains("run-now")) return;
    ev.preventDefault();
    const note = document.getElementById("run-result");
    try {
      const r = await fetch(form.action, {method: "POST", headers: {
        Accept: "application/json", "X-CSRF-Token": form.elements.csrf.value}});
      const d = await r.json();
      note.textContent = r.ok ? "run_job " + d.job + " sent (command " + d.command_id + ")"
        : "refused: " + d.detail;
    } catch (e) {
      note.textContent = "not sent: " + e;
    }
  });
  Live.poll("/api/jobs", render, EVERY_MS);
})();
