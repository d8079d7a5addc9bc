// The trades page live: the filtered round trips and their totals from /api/trades every EVERY_MS.
"use strict";
(function () {
  const EVERY_MS = 5000;
  const box = document.getElementById("trades");
  Live.poll("/api/trades?" + box.dataset.query, function (d) {
    const t = d.totals;
    const net = Live.el("strong", Trading.signOf(t.net_pnl), t.net_pnl);
    document.getElementById("totals").replaceChildren(
      t.trips + " round trips" + (d.day ? " closed on " + d.day : " closed in the last 7 days") + " · " + t.wins +
      " won, " + t.losses + " lost" + (t.win_rate ? " (" + t.win_rate + ")" : "") + " · net ", net,
      " USDT · fees " + t.fees + " USDT");
    Trading.show("trades", Trading.trades(d.trips, "no round trip matches"));
  }, EVERY_MS);
})();
