// The market page: the summary table and two uPlot charts (spread, feed latency) fed by /api/market/stream.
"use strict";
(function () {
  const KEEP = 600; // points per series: ten minutes at one a second
  const COLORS = ["#3ecf6e", "#9cc3ff", "#f0c43c", "#d9434a", "#c58af9", "#4dd0e1", "#ff9f43", "#e6e6e6"];
  const times = [];
  const series = {}; // symbol -> {spread: [], latency: []}
  let charts = null;
  let symbols = [];

  function makeChart(el, field) {
    const opts = {
      width: el.clientWidth || 800, height: 220,
      series: [{}].concat(symbols.map((s, i) => ({label: s, stroke: COLORS[i % COLORS.length]}))),
      axes: [{stroke: "#8a94a3"}, {stroke: "#8a94a3"}],
    };
    return new uPlot(opts, [times].concat(symbols.map((s) => series[s][field])), el);
  }

  function rebuild() {
    for (const id of ["spread-chart", "latency-chart"]) document.getElementById(id).textContent = "";
    charts = {
      spread: makeChart(document.getElementById("spread-chart"), "spread"),
      latency: makeChart(document.getElementById("latency-chart"), "latency"),
    };
  }

  // The formatted figures into the server-rendered rows (a new symbol shows after a reload).
  function renderTable(display, rows) {
    const table = document.querySelector("#market-table table");
    if (!table) return;
    for (const [name, d] of Object.entries(display)) {
      const tr = table.querySelector('tr[data-row="' + name + '"]');
      if (!tr) continue;
      for (const k of ["last_price", "bid", "ask", "spread_bps", "latency", "stale", "exchange_time"]) {
        const td = tr.querySelector("td." + k);
        if (td && td.textContent !== d[k]) td.textContent = d[k];
      }
      tr.querySelector("td.stale").className = "stale" + (rows[name].stale ? " neg" : "");
      tr.querySelector("pre.raw").textContent = JSON.stringify(rows[name], null, 1);
    }
  }

  function onData(d) {
    const rows = d.symbols || {};
    renderTable(d.display || {}, rows);
    const names = Object.keys(rows).sort();
    if (names.length === 0) return;
    times.push(Date.now() / 1000);
    let added = false;
    for (const s of names) {
      if (!series[s]) {
        series[s] = {spread: times.slice(0, -1).map(() => null), latency: times.slice(0, -1).map(() => null)};
        added = true;
      }
    }
    for (const s of Object.keys(series)) {
      const row = rows[s] || {};
      series[s].spread.push(row.spread_bps === undefined ? null : row.spread_bps);
      series[s].latency.push(row.latency_ms === undefined ? null : row.latency_ms);
    }
    if (times.length > KEEP) {
      times.shift();
      for (const s of Object.keys(series)) { series[s].spread.shift(); series[s].latency.shift(); }
    }
    if (added || !charts) { symbols = Object.keys(series).sort(); rebuild(); return; }
    charts.spread.setData([times].concat(symbols.map((s) => series[s].spread)));
    charts.latency.setData([times].concat(symbols.map((s) => series[s].latency)));
  }

  const live = document.getElementById("live");
  const source = new EventSource("/api/market/stream");
  source.onopen = function () { live.textContent = "live updates: on"; };
  source.onerror = function () { live.textContent = "live updates: reconnecting"; };
  source.onmessage = function (ev) { onData(JSON.parse(ev.data)); };
})();
