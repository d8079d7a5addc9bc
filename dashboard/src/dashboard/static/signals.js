// The signals page live: the latest signals from /api/signals every 2 s, newest first.
"use strict";
(function () {
  const EVERY_MS = 2000;

  function fill(tr, s) {
    const components = Object.entries(s.components).map(([k, v]) => k + "=" + v.toFixed(3)).join(" ");
    [Live.utc(s.received_ts_ns), s.symbol, s.side, s.score.toFixed(3), s.state,
      s.profile + " v" + s.profile_version, s.reasons.join("; "), components]
      .forEach((text, i) => Live.cell(tr, i, text));
  }
  Live.poll("/api/signals", function (d) {
    Live.rows(document.querySelector("#signals tbody"), d.signals, "signal", (s) => s.signal_id, fill);
    document.getElementById("signals").hidden = !d.signals.length;
    document.getElementById("no-signals").hidden = d.signals.length > 0;
  }, EVERY_MS);
})();
