"""deploy/ansible/deploy.yml against a throwaway Debian 12 host (tests/deploy/conftest.py), in file order:
converge and idempotence, the hardening seen from outside, HTTPS from the admin address only, and the
auto-update: a good commit rolls forward under load, a broken one rolls back, alerts and is not
retried, an operator's `scalperctl deploy rollback` goes back one release, an unsigned commit is
refused (the host requires signed commits from the start: every other commit here is signed). Each
test prints its figures.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from common.config import SECRET_KEYS, SERVICE_SECRETS
from tests.deploy.conftest import HEALTH_BOUND_S, Sandbox, commit, converge, git, playbook_vars
from tests.support import ROOT, wait_until

pytestmark = [pytest.mark.system, pytest.mark.deploy, pytest.mark.timeout(1200)]

ENV = "SCALPER_ENV_FILE=/etc/scalper/scalperctl.env"  # the operator's CLI: its own Redis user
CTL = "/opt/scalper/venv/bin/scalperctl"
SERVICES = ("market", "strategy", "execution", "dashboard", "worker")
# Each consumer group on the bus, as JSON: {stream: [{name, pending, lag, entries-read}]}.
GROUPS_PY = """
import json, redis
from common import config
r = redis.Redis.from_url(config.load(service="scalperctl").redis_url.get_secret_value(), decode_responses=True)
print(json.dumps({s: [{k: g.get(k) for k in ("name", "pending", "lag", "entries-read")} for g in r.xinfo_groups(s)]
                  for s in r.scan_iter(_type="STREAM")}))
"""


@pytest.fixture(scope="module")
def host(sandbox: Sandbox) -> Sandbox:
    """The sandbox after the first converge (as root, like a fresh VPS) and the idempotence run."""
    cold = converge(sandbox, user="root")
    warm = converge(sandbox, user="deploy")
    sandbox.figures = {"converge_cold_s": round(cold.seconds), "converge_warm_s": round(warm.seconds),
                       "warm_recap": warm.recap, "warm_changed": warm.changed_tasks(),
                       "warm_slowest": [line for line in warm.output.splitlines() if line.endswith("s") and " ---" in line][:6]}
    return sandbox


def deploy_status(box: Sandbox) -> dict:
    return json.loads(box.ssh(f"sudo {CTL} deploy status --json").stdout)


def health(box: Sandbox) -> dict:
    rows = json.loads(box.ssh(f"sudo {ENV} {CTL} status --json", check=False).stdout or '{"services": []}')
    return {row["name"]: row for row in rows["services"]}


def redis_cli(user: str) -> str:
    """redis-cli on the host as one Redis ACL user: the REDIS_URL of /etc/scalper/<user>.env (root only)."""
    url = f"$(sed -n s/^REDIS_URL=//p /etc/scalper/{user}.env)"
    return f"""sudo sh -c 'exec redis-cli --no-auth-warning -u "{url}" "$@"' redis-cli"""


def env_file(box: Sandbox, name: str) -> dict[str, str]:
    lines = box.ssh(f"sudo cat /etc/scalper/{name}.env").stdout.splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def push(box: Sandbox, message: str, change, *, signed: bool = True) -> str:
    """A new commit on main of the remote, made by `change(checkout)` and signed by the host's allowed
    key unless `signed` is False; returns its id."""
    clone = box.state / "clone"
    change(clone)
    made = commit(clone, message, signer=box.signer if signed else None)
    git("push", "-q", "origin", "HEAD:main", cwd=clone)
    return made


def touch_readme(clone: Path) -> None:
    with (clone / "README.md").open("a") as f:
        f.write(f"\n<!-- deploy test {time.time()} -->\n")


def break_worker(clone: Path) -> None:
    with (clone / "worker/src/worker/main.py").open("a") as f:
        f.write('\nraise SystemExit("broken on purpose by the deploy test")\n')


def outcome_of(box: Sandbox, commit: str) -> dict | None:
    last = deploy_status(box)["last"]
    return last if last and last["commit"] == commit else None


def test_converges_then_changes_nothing(host: Sandbox):
    assert host.figures["warm_recap"]["changed"] == 0, host.figures
    assert host.figures["warm_recap"]["failed"] == 0
    print(f"converge: cold {host.figures['converge_cold_s']} s, warm {host.figures['converge_warm_s']} s (changed=0); "
          "slowest tasks of the warm run:", *host.figures["warm_slowest"], sep="\n  ")


def test_ssh_refuses_root_and_passwords(host: Sandbox):
    assert host.ssh("id -un").stdout.strip() == "deploy"
    root = host.run(*host.ssh_args("root"), "true", check=False)
    assert root.returncode != 0 and "Permission denied (publickey)" in root.stderr
    host.ssh("echo deploy:Pw-1234 | sudo chpasswd")
    askpass = host.state / "askpass"
    askpass.write_text("#!/bin/sh\necho Pw-1234\n")
    askpass.chmod(0o755)
    pw = host.run("ssh", "-o", "PubkeyAuthentication=no", "-o", "StrictHostKeyChecking=no", "-o",
                  "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", f"deploy@{host.target}", "true",
                  check=False, stdin=subprocess.DEVNULL, env={**os.environ, "SSH_ASKPASS": str(askpass),
                                                             "SSH_ASKPASS_REQUIRE": "force"})
    assert pw.returncode != 0 and "Permission denied (publickey)" in pw.stderr
    sshd = host.ssh("sudo sshd -T").stdout.splitlines()
    assert {"permitrootlogin no", "passwordauthentication no", "allowusers deploy"} <= set(sshd)


def test_dashboard_over_https_from_the_admin_address_only(host: Sandbox):
    ca = host.state / "root-ca.crt"
    ca.write_text(Path(host.state, "sandbox-root-ca.crt").read_text())  # exported by the tls role
    url = f"https://{host.target}/login"
    ok = host.run("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca, "--interface",
                  host.admin_ip, "-m", "10", url)
    assert ok.stdout == "200"
    other = host.run("curl", "-sS", "--cacert", ca, "--interface", host.other_ip, "-m", "3", url, check=False)
    assert other.returncode == 28, other  # dropped by ufw: the connection times out
    redirect = host.run("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--interface",
                        host.admin_ip, "-m", "10", f"http://{host.target}/login")
    assert redirect.stdout == f"308 {url}"
    rows = health(host)
    assert [rows[s]["status"] for s in SERVICES] == ["GREEN"] * 5, rows


def test_redis_refuses_a_client_without_a_user(host: Sandbox):
    r = host.ssh("redis-cli PING", check=False)
    assert "NOAUTH" in r.stdout + r.stderr, r  # the default user is off
    assert host.ssh(f"{redis_cli('scalperctl')} PING").stdout.strip() == "PONG"
    acl = host.ssh("sudo cat /etc/redis/users.acl").stdout
    assert "user default off" in acl and "{" not in acl  # every placeholder filled in
    given = playbook_vars(host)["scalper_redis_passwords"]["readonly"]  # the vault's password wins
    assert f"user readonly on #{hashlib.sha256(given.encode()).hexdigest()} " in acl


def test_the_market_user_cannot_add_intents(host: Sandbox):
    market = redis_cli("market")
    refused = host.ssh(f"{market} XADD exec.intents '*' probe 1", check=False)
    assert "NOPERM" in refused.stdout + refused.stderr, refused
    assert host.ssh(f"{market} XLEN market.trades").stdout.strip().isdigit()  # it reads what it may


def test_each_env_file_is_root_only_and_holds_only_its_services_secrets(host: Sandbox):
    modes = host.ssh("sudo stat -c '%n %U %a' /etc/scalper/*.env").stdout.splitlines()
    programs = (*SERVICES, "scalperctl")
    assert {f"/etc/scalper/{p}.env root 600" for p in programs} | {"/etc/scalper/scalper.env scalper 600"} == set(modes)
    denied = host.ssh("sudo -u scalper cat /etc/scalper/execution.env", check=False)
    assert denied.returncode != 0 and "Permission denied" in denied.stderr  # no service reads another's secrets
    given = set(playbook_vars(host)["scalper_secrets"]) | {"REDIS_URL"}
    assert not set(env_file(host, "scalper")) & SECRET_KEYS
    for program in programs:
        values = env_file(host, program)
        # the sandbox runs SIM: there (only) the dashboard also signs the simulator's fault switch with its account
        sim_account = {"BYBIT_API_KEY", "BYBIT_API_SECRET"} if program == "dashboard" else set()
        assert set(values) & SECRET_KEYS == (SERVICE_SECRETS[program] | sim_account) & given, program
        assert values["REDIS_URL"].startswith(f"redis://{program}:"), program
    dashboard = env_file(host, "dashboard")
    assert dashboard["WEB_TRUSTED_PROXIES"] == "127.0.0.1" and dashboard["WEB_ALLOWED_HOSTS"] == host.target


def test_the_services_run_green_as_their_own_redis_users(host: Sandbox):
    clients = host.ssh(f"{redis_cli('scalperctl')} CLIENT LIST").stdout.splitlines()
    users = {dict(f.split("=", 1) for f in line.split() if "=" in f).get("user") for line in clients}
    assert set(SERVICES) <= users and "default" not in users, clients
    rows = health(host)
    assert [rows[s]["status"] for s in SERVICES] == ["GREEN"] * 5, rows


def test_background_work_yields_the_cpu_to_the_trading_services(host: Sandbox):
    """The worker and a release build run at a tenth of a service's CPU share and nice 10 (the worker's
    running process too); the services at the default (bench/background_load.py: what this buys)."""
    for unit in ("scalper-worker.service", "scalper_update.service"):
        shown = host.ssh(f"systemctl show -p CPUWeight -p Nice {unit}").stdout.split()
        assert sorted(shown) == ["CPUWeight=10", "Nice=10"], (unit, shown)
    for service in SERVICES:
        pid = host.ssh(f"systemctl show -p MainPID --value scalper-{service}.service").stdout.strip()
        nice = host.ssh(f"sudo cut -d ' ' -f 19 /proc/{pid}/stat").stdout.strip()  # comm has no space
        assert nice == ("10" if service == "worker" else "0"), (service, nice)


def test_good_commit_rolls_forward_under_load(host: Sandbox):
    before = deploy_status(host)["current"]
    groups_before = json.loads(host.ssh(f"sudo {ENV} /opt/scalper/venv/bin/python -c '{GROUPS_PY}'").stdout)
    stop = host.state / "stop-load"
    load = host.background("python3", ROOT / "tests/deploy/load.py", f"https://{host.target}/login",
                           host.state / "root-ca.crt", stop, log=host.state / "load.log")
    commit = push(host, "deploy test: a good commit", touch_readme)
    t0 = time.monotonic()
    done = wait_until(lambda: outcome_of(host, commit), timeout=600, interval=2, what="the timer deployed the commit")
    stop.touch()
    load.wait(60)
    lines = (host.state / "load.log").read_text().splitlines()
    served, failed = map(int, lines[-1].split())
    assert done["outcome"] == "deployed", done
    assert deploy_status(host)["current"] == commit and deploy_status(host)["previous"] == before
    assert failed == 0, lines[-20:]
    assert served > 100
    rows = health(host)
    assert [rows[s]["status"] for s in SERVICES] == ["GREEN"] * 5, rows
    # No bus message lost: every consumer group that existed still reads on (nothing trimmed unread:
    # lag is known) and catches up, pending entries acked.
    def caught_up():
        now = json.loads(host.ssh(f"sudo {ENV} /opt/scalper/venv/bin/python -c '{GROUPS_PY}'").stdout)
        groups = {(s, g["name"]): g for s, gs in now.items() for g in gs}
        return groups if all(g["lag"] is not None and g["lag"] < 50 and g["pending"] < 50
                             for g in groups.values()) else None
    after = wait_until(caught_up, timeout=60, interval=1, what="every consumer group caught up")
    delivered = 0
    for stream, gs in groups_before.items():
        for g in gs:
            assert (stream, g["name"]) in after, (stream, g["name"])
            delivered += (after[(stream, g["name"])]["entries-read"] or 0) - (g["entries-read"] or 0)
    host.figures.update(roll_forward_s=done["seconds"], served=served, failed=failed, bus_delivered=delivered)
    print(f"roll forward: {done['seconds']} s (commit to GREEN {time.monotonic() - t0:.0f} s after the push); "
          f"load: {served} served, {failed} failed; {delivered} bus entries delivered across the roll")


def test_broken_commit_rolls_back_alerts_and_is_not_retried(host: Sandbox):
    good = deploy_status(host)["current"]
    commit = push(host, "deploy test: a worker that cannot start", break_worker)
    done = wait_until(lambda: outcome_of(host, commit), timeout=600, interval=2, what="the timer tried the commit")
    assert done["outcome"] == "rolled-back", done
    assert done["seconds"] < HEALTH_BOUND_S + 300
    status = deploy_status(host)
    assert status["current"] == good and commit in status["not_retried"]
    rows = health(host)
    assert [rows[s]["status"] for s in SERVICES] == ["GREEN"] * 5, rows
    alerts = host.ssh(f"{redis_cli('scalperctl')} --no-raw XREVRANGE sys.alerts + - COUNT 20").stdout
    assert f"deploy of {commit[:12]} rolled back" in alerts and "CRIT" in alerts
    history = host.ssh(f"sudo {CTL} deploy history --json").stdout
    host.ssh("sudo systemctl start scalper_update.service")  # what the timer does next
    assert host.ssh(f"sudo {CTL} deploy history --json").stdout == history  # not tried again
    assert deploy_status(host)["current"] == good
    host.figures["roll_back_s"] = done["seconds"]
    print(f"roll back: {done['seconds']} s from the timer's start to the old release GREEN again; CRIT alert sent")


def test_operator_rollback_goes_back_one_release(host: Sandbox):
    before = deploy_status(host)
    out = host.ssh(f"sudo {CTL} deploy rollback").stdout
    after = deploy_status(host)
    assert after["current"] == before["previous"] and after["previous"] == before["current"], out
    assert after["last"]["outcome"] == "rollback" and before["current"] in after["not_retried"]
    rows = health(host)
    assert [rows[s]["status"] for s in SERVICES] == ["GREEN"] * 5, rows
    print(f"operator rollback: {after['last']['seconds']} s, back on {after['current'][:12]}")


def test_unsigned_commit_refused_when_signing_is_required(host: Sandbox):
    good = deploy_status(host)["current"]
    made = push(host, "deploy test: an unsigned commit", touch_readme, signed=False)
    done = wait_until(lambda: outcome_of(host, made), timeout=300, interval=2, what="the timer saw the commit")
    assert done["outcome"] == "unsigned", done
    assert deploy_status(host)["current"] == good and made in deploy_status(host)["not_retried"]
    print(f"unsigned commit refused in {done['seconds']} s (the signed ones above deployed); figures: {host.figures}")


# Wrong passwords through Caddy from one address: a fresh login form (its CSRF token) for each, a new user
# name each time (the dashboard's own per-user throttle stays out of the way); prints the status codes.
FAILED_LOGINS_PY = """
import re, sys, httpx
url, ca, source, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with httpx.Client(verify=ca, timeout=15, transport=httpx.HTTPTransport(verify=ca, local_address=source)) as c:
    for i in range(n):
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get(url).text).group(1)
        print(c.post(url, data={"csrf": csrf, "username": f"intruder{i}", "password": "wrong"}).status_code)
"""


def test_fail2ban_bans_an_address_that_keeps_failing_dashboard_logins(host: Sandbox):
    jail = "scalper-dashboard"
    maxretry = int(host.ssh(f"sudo fail2ban-client get {jail} maxretry").stdout.strip())
    url, ca = f"https://{host.target}/login", host.state / "root-ca.crt"
    codes = host.run(ROOT / ".venv/bin/python", "-c", FAILED_LOGINS_PY, url, ca, host.admin_ip, str(maxretry)).stdout
    assert codes.split() == ["401"] * maxretry, codes
    banned = wait_until(lambda: host.admin_ip in host.ssh(f"sudo fail2ban-client get {jail} banip").stdout.split(),
                        timeout=60, what="the address banned")
    status = host.ssh(f"sudo fail2ban-client status {jail}").stdout
    try:
        assert banned and int(re.search(r"Total failed:\s*(\d+)", status).group(1)) >= maxretry, status
        shut = host.run("curl", "-sS", "--cacert", ca, "--interface", host.admin_ip, "-m", "3", url, check=False)
        assert shut.returncode != 0, shut  # the ban closes HTTPS to it
    finally:
        host.ssh(f"sudo fail2ban-client set {jail} unbanip {host.admin_ip}")  # what the runbook says
    ok = host.run("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca, "--interface",
                  host.admin_ip, "-m", "10", url)
    assert ok.stdout == "200"
    print(f"fail2ban: {maxretry} wrong passwords through Caddy -> {host.admin_ip} banned; unbanned by the runbook's command")


def test_the_service_user_restarts_a_failed_scalper_unit_and_nothing_else(host: Sandbox):
    unit = "scalper-worker.service"
    # Failed, not restarting: a bad setting in a runtime drop-in makes the start exit 78, which systemd does
    # not retry (RestartPreventExitStatus=78); then the drop-in goes, leaving the unit failed.
    dropin = f"/run/systemd/system/{unit}.d"
    host.ssh(f"sudo mkdir -p {dropin} && printf '[Service]\\nEnvironment=STREAM_MAXLEN=1\\n' "
             f"| sudo tee {dropin}/bad-setting.conf >/dev/null && sudo systemctl daemon-reload")
    host.ssh(f"sudo systemctl restart {unit}", check=False)
    wait_until(lambda: host.ssh(f"systemctl is-failed {unit}", check=False).stdout.strip() == "failed", timeout=30,
               what="the unit failed")
    host.ssh(f"sudo rm -r {dropin} && sudo systemctl daemon-reload")
    as_scalper = "sudo -u scalper systemctl --no-ask-password"
    host.ssh(f"{as_scalper} restart {unit}")  # polkit: the scalper-* units, also a failed one
    assert host.ssh(f"systemctl is-active {unit}").stdout.strip() == "active"
    for other in ("ssh.service", "redis-server.service"):
        refused = host.ssh(f"{as_scalper} restart {other}", check=False)
        assert refused.returncode != 0 and re.search("Access denied|authentication required", refused.stderr), (other,
                                                                                                          refused)
    rows = wait_until(lambda: (r := health(host)) and all(r[s]["status"] == "GREEN" for s in SERVICES) and r,
                      timeout=60, what="five GREEN again")
    assert rows["worker"]["pid"] == int(host.ssh(f"systemctl show -P MainPID {unit}").stdout)
