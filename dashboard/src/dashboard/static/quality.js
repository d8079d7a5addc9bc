// The execution-quality page: four uPlot line charts over the last 24 h (one series per symbol), from the
// 5-minute buckets of /api/quality/history. The time axis holds every bucket, so a bucket without sums is
// a gap in the line, not a jump across it; points always show, so a lone bucket is seen.
"use strict";
(function () {
  const COLORS = ["#3ecf6e", "#9cc3ff", "#f0c43c", "#d9434a", "#c58af9", "#4dd0e1", "#ff9f43", "#e6e6e6"];
  const AXIS = "#8a94a3";
  const CHARTS = {
    "slippage-chart": "slippage_bps",
    "fill-ratio-chart": "fill_ratio",
    "maker-share-chart": "maker_share",
    "fees-chart": "fees",
  };

  function draw(d) {
    const symbols = Object.keys(d.symbols).sort();
    const times = [];
    for (let t = d.from; t <= d.to; t += d.bucket_s) times.push(t);
    for (const [id, field] of Object.entries(CHARTS)) {
      const el = document.getElementById(id);
      const data = [times].concat(symbols.map((s) => {
        const at = new Map(d.symbols[s].map((b) => [b.t, b[field]]));
        return times.map((t) => (at.has(t) ? at.get(t) : null));
      }));
      const opts = {
        width: el.clientWidth || 800, height: 220,
        series: [{}].concat(symbols.map((s, i) => ({label: s, stroke: COLORS[i % COLORS.length],
                                                     points: {show: true, size: 5}}))),
        axes: [{stroke: AXIS}, {stroke: AXIS}],
      };
      el.textContent = "";
      new uPlot(opts, data, el);
    }
  }

  fetch("/api/quality/history", {credentials: "same-origin"})
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error("/api/quality/history: " + r.status))))
    .then(draw);
})();
