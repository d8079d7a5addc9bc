// The positions page live: positions (with TP/SL) and open orders from /api/positions every 2 s.
"use strict";
(function () {
  const EVERY_MS = 2000;

  function show(id, rows, first) {
    const box = document.getElementById(id);
    box.replaceChildren(Live.facts(rows, first, box.dataset.empty));
  }
  Live.poll("/api/positions", function (d) {
    show("positions", d.positions, "symbol");
    show("orders", d.orders, "orderLinkId");
  }, EVERY_MS);
})();
