// The profiles page live: the active profile and every profile's versions from /api/profile/versions every
// 2 s; a version's approve / reject / rollback buttons follow its status and whether it is in force.
"use strict";
(function () {
  const EVERY_MS = 2000;
  const el = Live.el;

  // A figure as the template's "%g" prints it (6 significant digits).
  function num(x) {
    return String(Number(Number(x).toPrecision(6)));
  }
  function utcS(ts) {
    return ts ? Live.utc(ts * 1e9) : "";
  }
  function diff(d) {
    return Object.entries(d).map(([k, c]) => k + ": " + num(c[0]) + " → " + num(c[1])).join("; ");
  }
  function figures(f) {
    return Object.entries(f).map(([sym, x]) => sym + ": " + Object.entries(x).filter(([, v]) => v !== null)
      .map(([k, v]) => k + "=" + num(v)).join(" ")).join("; ");
  }
  function active(a) {
    const box = document.getElementById("active");
    if (!a.profile) {
      const empty = el("p", "empty", "no profile reported by strategy yet");
      empty.id = "active-profile";
      box.replaceChildren(empty);
      return;
    }
    const name = el("strong", "", a.profile);
    name.id = "active-profile";
    const version = el("span", "", a.profile_version);
    version.id = "active-version";
    const line = el("p", "", "active: ");
    line.append(name, " (version ", version, "); kill switch: " + a.kill_switch + "; equity " +
      a.equity_usdt + " USDT");
    box.replaceChildren(line);
  }
  // The decisions a version offers (admins only: no form template otherwise), rebuilt when they change.
  function actions(td, name, v, inForce) {
    const admin = document.getElementById("decision-form") !== null;
    const offer = !admin ? [] : v.status === "pending" ? ["approve", "reject"]
      : v.status === "applied" && !inForce ? ["rollback"] : [];
    if (td.dataset.offer === offer.join(" ")) return;
    td.dataset.offer = offer.join(" ");
    td.replaceChildren(...offer.map(function (d) {
      const f = Live.form("decision-form", "/api/profile/versions/" + name + "/" + v.version + "/" + d);
      const button = f.querySelector("button");
      button.dataset.decision = d;
      button.textContent = d;
      return f;
    }));
  }
  function profile(name, versions, a) {
    const box = document.getElementById("versions");
    let section = box.querySelector('section[data-profile="' + name + '"]');
    if (!section) {
      section = box.appendChild(el("section", "profile"));
      section.dataset.profile = name;
      section.appendChild(el("h3", "", name));
      const table = section.appendChild(el("table", "versions"));
      const head = table.appendChild(el("thead")).appendChild(el("tr"));
      for (const h of ["version", "status", "created (UTC)", "changes", "figures", "decision", ""]) {
        head.appendChild(el("th", "", h));
      }
      table.appendChild(el("tbody"));
    }
    Live.rows(section.querySelector("tbody"), versions, "version", (v) => v.version, function (tr, v) {
      const inForce = a.profile === name && a.profile_version === String(v.version);
      Live.cell(tr, 0, v.version + (inForce ? " (in force)" : ""), "version");
      Live.cell(tr, 1, v.status, "status status-" + v.status);
      Live.cell(tr, 2, utcS(v.created_ts), "created");
      Live.cell(tr, 3, diff(v.diff), "diff");
      Live.cell(tr, 4, figures(v.figures), "figures");
      Live.cell(tr, 5, v.decision ? v.decision + " by " + v.decided_by : "", "decided");
      actions(Live.cell(tr, 6, null, "decide"), name, v, inForce);
    });
  }
  function render(d) {
    active(d.active);
    const names = Object.keys(d.profiles);
    names.forEach((name) => profile(name, d.profiles[name], d.active));
    document.getElementById("no-versions").hidden = names.length > 0;
  }
  Live.poll("/api/profile/versions", render, EVERY_MS);
})();
