"""The worker's Prometheus metrics: runs, failures, durations and last success per job, backup size and
the newest verified backup's time (Prometheus alerts on its age).

Served by the common exporter on WORKER_METRICS_PORT with the metrics every service shares.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

JOB_RUNS = Counter("scalper_worker_job_runs_total", "Job runs by outcome (ok, failed, skipped, missed)",
                   ["job", "outcome"])
JOB_FAILURES = Counter("scalper_worker_job_failures_total", "Job runs that failed or were missed", ["job"])
JOB_SECONDS = Histogram("scalper_worker_job_seconds", "Time a job run took", ["job"],
                        buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800))
JOB_LAST_SUCCESS = Gauge("scalper_worker_job_last_success_timestamp_seconds",
                         "When a job last ended successfully (epoch seconds)", ["job"])
BACKUP_BYTES = Gauge("scalper_worker_backup_bytes", "Size of the newest backup on disk")
BACKUP_LAST_VERIFIED = Gauge("scalper_worker_backup_last_verified_timestamp_seconds",
                             "When the newest backup whose restore was proven was verified (epoch seconds; 0: none)")
