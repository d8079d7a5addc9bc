// The positions page live: positions (with TP/SL and their distance) and open orders from
// /api/positions/view every EVERY_MS, drawn as _trading.html draws them.
"use strict";
(function () {
  const EVERY_MS = 2000;
  Live.poll("/api/positions/view", function (d) {
    Trading.show("positions", Trading.positions(d.positions));
    Trading.show("orders", Trading.orders(d.orders));
  }, EVERY_MS);
})();
