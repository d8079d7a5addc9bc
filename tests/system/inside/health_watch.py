"""Watch one service on the dashboard's /api/health until it went RED and then GREEN again.

Runs inside the nspawn container with the host's /usr/bin/python3 (stdlib only). Start it before
the fault; it prints each status change with the time since start and exits 0 once the service
was RED and is GREEN again under a new pid, 1 on timeout.
Usage: health_watch.py SERVICE TIMEOUT_S [URL]
"""

import json
import sys
import time
import urllib.request

service, timeout = sys.argv[1], float(sys.argv[2])
url = sys.argv[3] if len(sys.argv) > 3 else "http://127.0.0.1:8080/api/health"
t0 = time.monotonic()
seen, first_pid, was_red = None, None, False
while time.monotonic() - t0 < timeout:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            views = {s["name"]: s for s in json.load(resp)["services"]}
    except OSError:
        time.sleep(0.1)
        continue
    view = views[service]
    first_pid = first_pid or view["pid"]
    if view["status"] != seen:
        seen = view["status"]
        print(f"{time.monotonic() - t0:5.1f} s  {service} {seen} pid={view['pid']} "
              f"restarts={view['restarts']} {view['reason']}", flush=True)
    was_red = was_red or seen == "RED"
    if was_red and seen == "GREEN" and view["pid"] != first_pid:
        sys.exit(0)
    time.sleep(0.1)
print(f"{service}: no RED -> GREEN within {timeout} s (last: {seen})", flush=True)
sys.exit(1)
