// The latency page: one uPlot bar chart per histogram series (samples per bucket, from /api/latency),
// tick-to-order and its stages first. x is the bucket's index, labelled with its upper bound, so the log-spaced buckets
// get equal room.
"use strict";
(function () {
  const AXIS = "#8a94a3";
  const BAR = "#9cc3ff";

  function labelOf(h) {
    return h.name + " " + Object.entries(h.labels).map(([k, v]) => k + "=" + v).join(" ");
  }

  function barChart(el, buckets, height) {
    const xs = buckets.map((_, i) => i);
    const labels = buckets.map((b) => (b.le === "+Inf" ? "+Inf" : "≤" + b.le));
    const opts = {
      width: el.clientWidth || 600, height: height,
      legend: {show: false},
      cursor: {points: {show: false}},
      scales: {
        x: {time: false, range: [-0.5, xs.length - 0.5]},
        y: {range: (u, min, max) => [0, Math.max(1, max)]},
      },
      series: [{}, {label: "samples", stroke: BAR, fill: BAR + "99", points: {show: false},
                    paths: uPlot.paths.bars({size: [0.8, 60]})}],
      axes: [
        {stroke: AXIS, splits: () => xs, values: (u, ticks) => ticks.map((i) => labels[i]),
         rotate: -45, size: 60},
        {stroke: AXIS},
      ],
    };
    return new uPlot(opts, [xs, buckets.map((b) => b.count)], el);
  }

  function chartIn(box, title, h, height) {
    const item = document.createElement("div");
    item.className = "histogram";
    const heading = document.createElement("h4");
    heading.textContent = title + " (" + h.count + " samples)";
    const chart = document.createElement("div");
    chart.className = "chart";
    item.append(heading, chart);
    box.append(item);
    barChart(chart, h.buckets, height);
  }

  function draw(d) {
    const tick = document.getElementById("tick-to-order-chart");
    if (tick && d.tick_to_order) barChart(tick, d.tick_to_order.buckets, 240);
    const stages = document.querySelector(".chain-charts");
    if (stages) {
      stages.textContent = "";
      for (const s of d.chain) if (s.histogram) chartIn(stages, s.stage + " (" + s.service + ")", s.histogram, 160);
    }
    for (const box of document.querySelectorAll(".histograms[data-service]")) {
      const service = d.services[box.dataset.service] || {histograms: []};
      box.textContent = "";
      for (const h of service.histograms) chartIn(box, labelOf(h), h, 180);
    }
  }

  fetch("/api/latency", {credentials: "same-origin"})
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error("/api/latency: " + r.status))))
    .then(draw);
})();
