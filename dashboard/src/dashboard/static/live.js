// Loaded first on every page (base.html): keeps the header's badges current (unacknowledged alerts, the
// release the services run: a deploy changes it under an open page), and gives each page's script one
// way to follow its JSON API (polled, or as server-sent events) and to draw what it gets.
// Data reaches the DOM through textContent and createElement only, never as HTML.
"use strict";
window.Live = (function () {
  const BADGE_EVERY_MS = 3000;
  let badgeFedAt = 0;  // when a page's own feed last set the alert badge
  let headerFedAt = 0;  // when a page's own feed last set both badges: the poll is then not needed

  function showBadge(n) {
    const badge = document.getElementById("alert-badge");
    badge.textContent = "alerts: " + n;
    badge.className = n ? "badge status-RED" : "badge";
  }

  function showRelease(label) {
    const release = document.getElementById("release");
    release.textContent = label;
    release.hidden = !label;
  }

  // For page feeds that carry the unacknowledged count (the alert center's stream).
  function badge(n) {
    badgeFedAt = Date.now();
    showBadge(n);
  }

  // For page feeds that carry the whole health snapshot (the overview's): both badges.
  function header(health) {
    headerFedAt = Date.now();
    badge(health.alerts_unacked);
    showRelease(health.release);
  }

  async function pollHeader() {
    if (!document.hidden && Date.now() - headerFedAt >= BADGE_EVERY_MS) {
      try {
        const r = await fetch("/api/health", {headers: {Accept: "application/json"}});
        if (r.ok) {
          const health = await r.json();
          showRelease(health.release);
          if (Date.now() - badgeFedAt >= BADGE_EVERY_MS) showBadge(health.alerts_unacked);
        }
      } catch (e) {
        // the next poll tries again
      }
    }
    setTimeout(pollHeader, BADGE_EVERY_MS);
  }
  setTimeout(pollHeader, BADGE_EVERY_MS);

  function status(text) {
    const live = document.getElementById("live");
    if (live) live.textContent = "live updates: " + text;
  }

  // Fetch `url` now and every `everyMs`; render(data) whenever the answer differs from the last one.
  function poll(url, render, everyMs) {
    let last = null;
    async function tick() {
      let fresh = null;
      if (!document.hidden) {
        try {
          const r = await fetch(url, {headers: {Accept: "application/json"}});
          if (!r.ok) throw new Error("HTTP " + r.status);
          const text = await r.text();
          if (text !== last) fresh = JSON.parse(text);
          last = text;
          status("on");
        } catch (e) {
          status("reconnecting");
        }
      }
      setTimeout(tick, everyMs);
      if (fresh) render(fresh);  // outside the try: a rendering bug is a page error, not "reconnecting"
    }
    tick();
  }

  // Follow a server-sent event stream of JSON snapshots; render(data) on each one that differs.
  function stream(url, render) {
    let last = null;
    const source = new EventSource(url);
    source.onopen = function () { status("on"); };
    source.onerror = function () { status("reconnecting"); };
    source.onmessage = function (ev) {
      if (ev.data === last) return;
      last = ev.data;
      render(JSON.parse(ev.data));
    };
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // A value as the server's templates print it (Python's str), so a refresh does not restyle the page.
  function text(v) {
    if (v === null || v === undefined) return "None";
    if (v === true) return "True";
    if (v === false) return "False";
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  }

  // As the templates' `utc` filter: nanoseconds since the epoch as "YYYY-MM-DD HH:MM:SS".
  function utc(ns) {
    return new Date((ns || 0) / 1e6).toISOString().replace("T", " ").slice(0, 19);
  }

  // As table.html's facts(): one row per name (data-row), one column per key seen in any row; or `empty`.
  function facts(rows, first, empty) {
    const names = Object.keys(rows);
    if (!names.length) return el("p", "empty", empty);
    const cols = [];
    for (const r of Object.values(rows)) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
    const table = el("table", "facts");
    const head = table.appendChild(el("thead")).appendChild(el("tr"));
    for (const h of [first].concat(cols)) head.appendChild(el("th", "", h));
    const body = table.appendChild(el("tbody"));
    for (const name of names) {
      const tr = body.appendChild(el("tr"));
      tr.dataset.row = name;
      tr.appendChild(el("td", "", name));
      for (const k of cols) tr.appendChild(el("td", k, k in rows[name] ? text(rows[name][k]) : ""));
    }
    return table;
  }

  // The i-th cell of a row (made when missing), its text and class set only when they differ, so a
  // refresh leaves unchanged cells (and a button an operator is about to press) alone.
  function cell(tr, i, content, cls) {
    while (tr.children.length <= i) tr.appendChild(el("td"));
    const td = tr.children[i];
    if (cls !== undefined && td.className !== cls) td.className = cls;
    if (content !== null && td.textContent !== content) td.textContent = content;
    return td;
  }

  // Keep tbody's rows in the order of `items`, one per key (data-<attr>): fill(tr, item) updates a kept
  // row or a new one; rows whose key is gone are removed.
  function rows(tbody, items, attr, keyOf, fill) {
    const kept = new Map();
    for (const tr of Array.from(tbody.rows)) kept.set(tr.dataset[attr], tr);
    items.forEach(function (item, i) {
      const key = String(keyOf(item));
      let tr = kept.get(key);
      kept.delete(key);
      if (!tr) {
        tr = el("tr");
        tr.dataset[attr] = key;
      }
      fill(tr, item);
      if (tbody.rows[i] !== tr) tbody.insertBefore(tr, tbody.rows[i] || null);
    });
    for (const tr of kept.values()) tr.remove();
  }

  // A copy of the page's <template id=...> form (admins only: absent otherwise) posting to `action`.
  function form(templateId, action) {
    const tpl = document.getElementById(templateId);
    if (!tpl) return null;
    const f = tpl.content.firstElementChild.cloneNode(true);
    f.action = action;
    return f;
  }

  return {badge, header, poll, stream, el, text, utc, facts, cell, rows, form};
})();
