"""Hit the dashboard through Caddy over HTTPS from several threads until STOP_FILE exists; print
"served failed" counts. Served: a 200 from the dashboard's login page. Failed: anything else (a refused
or reset connection, a timeout, Caddy's 502 when the dashboard's socket is gone).
Usage: load.py URL CA_FILE STOP_FILE [THREADS]
"""

import ssl
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

url, ca, stop = sys.argv[1], sys.argv[2], Path(sys.argv[3])
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 4
context = ssl.create_default_context(cafile=ca)
counts = {"served": 0, "failed": 0}
lock = threading.Lock()


def hammer() -> None:
    while not stop.exists():
        try:
            with urllib.request.urlopen(url, timeout=15, context=context) as resp:
                resp.read()
                outcome = "served" if resp.status == 200 else "failed"
        except (urllib.error.URLError, OSError) as e:
            outcome = "failed"
            print(f"{time.strftime('%H:%M:%S')} failed: {e}", file=sys.stderr, flush=True)
        with lock:
            counts[outcome] += 1
        time.sleep(0.02)


workers = [threading.Thread(target=hammer) for _ in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(counts["served"], counts["failed"])
