// The trades page live: the filtered round trips, their totals and their cumulative net P&L (a uPlot chart,
// by closing time) from /api/trades every EVERY_MS.
"use strict";
(function () {
  const EVERY_MS = 5000;
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
