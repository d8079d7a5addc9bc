"""The service's own process measured for its heartbeat (psutil): RSS, CPU time, threads."""

from __future__ import annotations

import psutil

from common.schemas import ProcessUsage


def own_usage() -> ProcessUsage:
    """This process now; about 150 us of CPU, once a heartbeat."""
    me = psutil.Process()
    with me.oneshot():
        cpu = me.cpu_times()
        return ProcessUsage(rss_mb=round(me.memory_info().rss / 2**20, 1),
                            cpu_s=round(cpu.user + cpu.system, 1), threads=me.num_threads())
