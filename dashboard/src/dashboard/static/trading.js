// Shared drawing of the trading pages (overview, positions, trades): the same markup as _trading.html,
// from the API's `display` strings (the server formats every number), and times shown in the browser's
// time zone with UTC on hover. createElement and textContent only.
"use strict";
window.Trading = (function () {
  const {el} = Live;

  // <time> of nanoseconds since the epoch: local time as text, UTC in the title.
  function when(ns) {
    if (!ns) return document.createTextNode("");
    const d = new Date(ns / 1e6);
    const t = el("time", "", local(d));
    t.dateTime = d.toISOString().slice(0, 19) + "Z";
    t.title = d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
    return t;
  }

  function local(d) {
    const pad = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) +
      ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  // Server-rendered <time datetime> elements (UTC text) in `root` to the browser's time zone.
  function localize(root) {
    for (const t of root.querySelectorAll("time[datetime]")) t.textContent = local(new Date(t.dateTime));
  }

  function signOf(v) {
    const n = parseFloat(v);
    return !n ? "" : n > 0 ? "pos" : "neg";
  }

  function td(label, cls, content) {
    const cell = el("td", cls);
    cell.dataset.label = label;
    if (content instanceof Node) cell.appendChild(content); else cell.textContent = content;
    return cell;
  }

  function withDistance(price, distance) {
    const span = el("span", "", price);
    if (distance) span.append(" ", el("small", "", "(" + distance + ")"));
    return span;
  }

  // A table of class "cards <cls>" with `headings`, one row per item filled by fill(tr, item); or `empty`.
  function draw(cls, headings, items, empty, fill) {
    if (!items.length) return el("p", "empty", empty);
    const t = el("table", "cards " + cls);
    const head = t.appendChild(el("thead")).appendChild(el("tr"));
    for (const h of headings) head.appendChild(el("th", "", h));
    const body = t.appendChild(el("tbody"));
    for (const item of items) fill(body.appendChild(el("tr")), item);
    return t;
  }

  // As record() in _trading.html: the full record, one click away.
  function record(raw) {
    const json = el("details");
    json.append(el("summary", "", "JSON"), el("pre", "", JSON.stringify(raw, null, 1)));
    return td("record", "", json);
  }

  // As positions_table(): one row per open position, its full record in a <details>.
  function positions(rows) {
    const headings = ["symbol", "side", "size", "entry", "mark", "unrealised", "take-profit", "stop-loss", "record"];
    return draw("positions", headings, rows, "no open positions", function (tr, p) {
      const d = p.display;
      tr.dataset.symbol = p.symbol;
      tr.append(td("symbol", "symbol", p.symbol), td("side", "side side-" + p.side, p.side),
        td("size", "num size", d.size), td("entry", "num entry", d.entry_price), td("mark", "num mark", d.mark_price),
        td("unrealised", "num upnl " + signOf(p.unrealised_pnl), d.unrealised_pnl),
        td("take-profit", "num tp", withDistance(d.take_profit, d.tp_distance)),
        td("stop-loss", "num sl" + (p.protected ? "" : " neg"), withDistance(d.stop_loss, d.sl_distance)),
        record(p.raw));
    });
  }

  // As trades_table(): one row per closed round trip, newest first.
  function trades(trips, empty) {
    const headings = ["closed", "symbol", "side", "size", "entry", "exit", "net P&L", "fees", "held", "signal"];
    return draw("trades", headings, trips, empty, function (tr, r) {
      const d = r.display;
      tr.className = "outcome-" + r.outcome;
      tr.dataset.closed = r.closed_ns;
      tr.append(td("closed", "", when(r.closed_ns)), td("symbol", "symbol", r.symbol),
        td("side", "side side-" + r.side, r.side), td("size", "num", d.qty), td("entry", "num", d.entry_price),
        td("exit", "num", d.exit_price), td("net P&L", "num pnl " + signOf(r.net_pnl), d.net_pnl),
        td("fees", "num", d.fees), td("held", "num", d.holding), td("signal", "signal", r.signal));
    });
  }

  // As orders_table(): one row per open order (data-row: its orderLinkId), its full record in a <details>.
  function orders(rows) {
    const headings = ["orderLinkId", "symbol", "side", "type", "qty", "filled", "price", "trigger", "take-profit",
                      "stop-loss", "status", "created", "record"];
    return draw("orders", headings, rows, "no open orders", function (tr, o) {
      const d = o.display;
      tr.dataset.row = o.key;
      tr.append(td("orderLinkId", "link", o.key), td("symbol", "symbol", o.symbol), td("side", "side side-" + o.side, o.side),
        td("type", "", d.type), td("qty", "num", d.qty), td("filled", "num", d.filled), td("price", "num", d.price),
        td("trigger", "num", d.trigger), td("take-profit", "num takeProfit", d.take_profit),
        td("stop-loss", "num stopLoss", d.stop_loss), td("status", "", d.status), td("created", "", when(o.created_ns)),
        record(o.raw));
    });
  }

  // Replace the children of #id with `node`.
  function show(id, node) {
    document.getElementById(id).replaceChildren(node);
  }

  localize(document);
  return {when, localize, signOf, positions, orders, trades, show};
})();
