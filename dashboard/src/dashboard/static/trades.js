// The trades page live: the filtered round trips, their totals and their cumulative net P&L (a uPlot chart,
// by closing time) from /api/trades every EVERY_MS; the wallet's equity over the chosen period (a uPlot
// chart) from /api/equity every EQUITY_EVERY_MS and whenever the period changes.
"use strict";
(function () {
  const EVERY_MS = 5000;
  const EQUITY_EVERY_MS = 30000;
  const box = document.getElementById("trades");
  const chartBox = document.getElementById("pnl-chart");
  let chart = null;

  // [closing times (s), cumulative net P&L] of `trips` (newest first in the API), oldest first.
  function curve(trips) {
    const times = [], sums = [];
    let sum = 0;
    for (const t of trips.slice().reverse()) {
      sum += parseFloat(t.net_pnl);
      times.push(t.closed_ns / 1e9);
      sums.push(Math.round(sum * 100) / 100);
    }
    return [times, sums];
  }

  function draw(trips) {
    const data = curve(trips);
    if (chart) { chart.setData(data); return; }
    const opts = {
      width: chartBox.clientWidth || 800, height: 220,
      series: [{}, {label: "net P&L", stroke: "#9cc3ff", points: {show: true}}],
      axes: [{stroke: "#8a94a3"}, {stroke: "#8a94a3"}],
    };
    chart = new uPlot(opts, data, chartBox);
  }

  const periodBox = document.getElementById("equity-period");
  const equityBox = document.getElementById("equity-chart");
  let equityChart = null;

  function drawEquity(d) {
    const s = d.display;
    document.getElementById("equity-summary").textContent = d.no_data ||
      s.last + " · " + s.change + " (" + s.change_pct + ") since " + s.since + " UTC · low " + s.low + " · high " + s.high;
    const data = [d.samples.map((p) => p.ts_ms / 1000), d.samples.map((p) => p.equity)];
    if (equityChart) { equityChart.setData(data); return; }
    equityChart = new uPlot({
      width: equityBox.clientWidth || 800, height: 220,
      series: [{}, {label: "equity", stroke: "#3ecf6e", points: {show: false}}],
      axes: [{stroke: "#8a94a3"}, {stroke: "#8a94a3", size: 70}],
    }, data, equityBox);
  }

  async function loadEquity() {
    let d = null;
    try {
      const r = await fetch("/api/equity?period=" + periodBox.value, {headers: {Accept: "application/json"}});
      if (r.ok) d = await r.json();
    } catch (e) {
      // unreachable for now: the round trips' poll says "reconnecting", the next load tries again
    }
    if (d) drawEquity(d);
  }
  periodBox.addEventListener("change", loadEquity);
  loadEquity();
  setInterval(function () { if (!document.hidden) loadEquity(); }, EQUITY_EVERY_MS);

  Live.poll("/api/trades?" + box.dataset.query, function (d) {
    const t = d.totals;
    const net = Live.el("strong", Trading.signOf(t.net_pnl), t.net_pnl);
    document.getElementById("totals").replaceChildren(
      t.trips + " round trips" + (d.day ? " closed on " + d.day : " closed in the last 7 days") + " · " + t.wins +
      " won, " + t.losses + " lost" + (t.win_rate ? " (" + t.win_rate + ")" : "") + " · net ", net,
      " USDT · fees " + t.fees + " USDT");
    Trading.show("trades", Trading.trades(d.trips, "no round trip matches"));
    draw(d.trips);
  }, EVERY_MS);
})();
