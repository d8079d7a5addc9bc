"""The dashboard's routes, one module per page: routes/<page>.py renders templates/<page>.html, whose script
is static/<page>.js (shared: templates/_base.html, _table.html, static/live.js, style.css).

Each page module has two routers: `page` (prefix /<page>, the HTML) and `api` (its JSON under /api/<page>,
or /api where the page's JSON URLs are older than the page). app.py includes them behind the session, so a
new page is private unless app.PUBLIC names it; `login` (the form) and `probes` (/healthz, /metrics) are the
public ones."""
