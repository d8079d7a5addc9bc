"""The deploy tests' world: a throwaway Debian 12 host (tests/deploy/sandbox.sh) and, on the operator's
side of its veth, what a VPS reaches on the internet: the git remote (git daemon), the package index
(a wheelhouse over HTTP, built once from uv.lock) and the exchange (the simulator). One host per test
session; the tests run in file order against it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support import ROOT, wait_until

ANSIBLE_DIR = ROOT / "deploy/ansible"
CACHE = Path("/var/tmp/scalper-deploy-sandbox")
# Every Debian package the playbook installs: the sandbox's offline apt repo holds exactly these.
PACKAGES = ("acl ufw fail2ban python3-systemd redis-server python3-venv unattended-upgrades caddy prometheus git "
            "systemd-timesyncd polkitd sudo ca-certificates openssh-server python3-packaging")
UV_VERSION = "0.13.9"  # keep equal to app_uv_version (roles/app/defaults/main.yml)
HOST_PYTHON = "3.11.2"  # Debian 12's python3: the wheelhouse is chosen for it
GIT_PORT, WHEEL_PORT, SIM_PORT = 9418, 8000, 8090
SIM_KEY, SIM_SECRET = "sandbox-key", "sandbox-secret"
ADMIN, ADMIN_PASSWORD = "sandbox-admin", "sandbox-Pa55word"
ADMIN_HASH = "$2b$04$l/H4ezsBov71bcmS/x.U9eCyY4dUCjLddnjiu.Nj.Td5LvxCwEC0e"  # bcrypt of ADMIN_PASSWORD
HEALTH_BOUND_S = 90
UPDATE_CALENDAR = "*:*:0/10"  # every 10 s


def wheelhouse() -> Path:
    """Wheels for every locked dependency, the build backend and uv, for the host's Python; cached by uv.lock."""
    lock = (ROOT / "uv.lock").read_bytes()
    out = CACHE / f"wheelhouse-{hashlib.sha256(lock + UV_VERSION.encode()).hexdigest()[:12]}"
    if out.is_dir():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "VIRTUAL_ENV": ""}
    reqs = subprocess.run(["uv", "export", "-q", "--frozen", "--no-dev", "--all-packages", "--no-emit-workspace"],
                          cwd=ROOT, capture_output=True, text=True, check=True).stdout
    # Markers go: a wheel the host turns out not to need costs nothing (async-timeout: Python < 3.11.3).
    reqs = re.sub(r" ; [^\\\n]*", "", reqs)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        Path(tmp, "locked.txt").write_text(reqs)  # with their hashes: pip checks them
        Path(tmp, "tools.txt").write_text(f"uv=={UV_VERSION}\nhatchling\n")  # uv, and the build backend
        for requirements in ("locked.txt", "tools.txt"):
            subprocess.run(["uv", "tool", "run", "pip", "download", "-q", "--only-binary", ":all:", "--python-version",
                            HOST_PYTHON, "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64",
                            "--platform", "linux_x86_64", "-d", f"{tmp}/wheels", "-r", f"{tmp}/{requirements}"],
                           env=env, check=True, capture_output=True, timeout=600)
        Path(tmp, "wheels").rename(out)
    return out


@dataclass
class Sandbox:
    """The running host and our side of the veth; run() executes on our side, ssh() on the host."""

    state: Path
    target: str
    admin_ip: str
    other_ip: str
    client_pid: int
    key: Path
    remote: Path  # the bare repository git daemon serves as scalper.git
    signer: Path  # the SSH key that signs our commits; the host allows it (scalper_allowed_signers)

    def run(self, *cmd: str | Path, check: bool = True, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(["nsenter", "-t", str(self.client_pid), "-n", *map(str, cmd)], text=True,
                              capture_output=True, check=check, timeout=timeout, **kw)

    def ssh_args(self, user: str) -> list[str]:
        return ["ssh", "-i", str(self.key), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5",
                f"{user}@{self.target}"]

    def ssh(self, command: str, *, user: str = "deploy", check: bool = True, timeout: float = 300):
        return self.run(*self.ssh_args(user), command, check=check, timeout=timeout)

    def background(self, *cmd: str | Path, log: Path) -> subprocess.Popen:
        return subprocess.Popen(["nsenter", "-t", str(self.client_pid), "-n", *map(str, cmd)],
                                stdout=log.open("w"), stderr=subprocess.STDOUT)


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "sandbox", "GIT_AUTHOR_EMAIL": "sandbox@example.com",
           "GIT_COMMITTER_NAME": "sandbox", "GIT_COMMITTER_EMAIL": "sandbox@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


def commit(clone: Path, message: str, *, signer: Path | None) -> str:
    """Commit everything changed in `clone`, signed with the SSH key `signer` unless it is None."""
    sign = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={signer}", "commit", "-S"] if signer else ["commit"]
    git(*sign, "-q", "--allow-empty", "-am", message, cwd=clone)
    return git("rev-parse", "HEAD", cwd=clone)


def make_remote(work: Path, signer: Path) -> Path:
    """A bare repository on branch main: this checkout (uncommitted tracked changes included) and on top
    an empty commit signed by `signer`, as the host deploys signed commits only."""
    remote = work / "git/scalper.git"
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=ROOT)
    snapshot = git("stash", "create", cwd=ROOT) or git("rev-parse", "HEAD", cwd=ROOT)
    git("push", "-q", str(remote), f"{snapshot}:refs/heads/main", cwd=ROOT)
    git("clone", "-q", str(remote), str(work / "clone"), cwd=work)
    commit(work / "clone", "deploy test: signed", signer=signer)
    git("push", "-q", "origin", "HEAD:main", cwd=work / "clone")
    return remote


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    if os.geteuid() != 0 or shutil.which("systemd-nspawn") is None or shutil.which("debootstrap") is None:
        pytest.skip("needs root, systemd-nspawn and debootstrap "
                    "(apt-get install systemd-container debootstrap zstd git)")
    work = tmp_path_factory.mktemp("deploy")
    wheels = wheelhouse()
    signer = work / "signer"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "signer", "-f", signer], check=True)
    remote = make_remote(work, signer)
    proc = subprocess.Popen([ROOT / "tests/deploy/sandbox.sh", work], stdout=(work / "sandbox.log").open("w"),
                            stderr=subprocess.STDOUT, env={**os.environ, "SANDBOX_PKGS": PACKAGES})
    servers: list[subprocess.Popen] = []
    try:
        wait_until(lambda: (work / "ready").exists() or proc.poll() is not None, timeout=600)
        if proc.poll() is not None:
            if proc.returncode == 77:
                pytest.skip((work / "sandbox.log").read_text())
            pytest.fail(f"sandbox.sh exited {proc.returncode}:\n{(work / 'sandbox.log').read_text()}")
        info = dict(line.split("=", 1) for line in (work / "ready").read_text().split())
        box = Sandbox(state=work, target=info["TARGET"], admin_ip=info["ADMIN_IP"], other_ip=info["OTHER_IP"],
                      client_pid=int(info["CLIENT_PID"]), key=Path(info["KEY"]), remote=remote,
                      signer=signer)
        servers = [
            box.background("git", "daemon", "--export-all", "--reuseaddr", f"--listen={box.admin_ip}",
                           f"--port={GIT_PORT}", f"--base-path={remote.parent}", log=work / "git.log"),
            box.background("python3", "-m", "http.server", "--bind", box.admin_ip, "-d", wheels, str(WHEEL_PORT),
                           log=work / "wheels.log"),
            box.background(ROOT / ".venv/bin/scalper-exchange-sim", "--host", box.admin_ip, "--port", str(SIM_PORT),
                           "--api-key", SIM_KEY, "--api-secret", SIM_SECRET, "--symbols", "BTCUSDT,ETHUSDT",
                           "--seed", "7", "--balance", "100000", log=work / "sim.log"),
        ]
        yield box
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
        proc.terminate()  # a clean poweroff (services stop gracefully), then the run's files go
        proc.wait(300)


def playbook_vars(box: Sandbox, **overrides) -> dict:
    """The inventory's vars for the sandbox: what an operator writes, with our side as the internet."""
    return {
        "scalper_deploy_user": "deploy",
        "scalper_deploy_keys": [Path(f"{box.key}.pub").read_text().strip()],
        "scalper_admin_networks": [f"{box.admin_ip}/32"],
        "scalper_domain": "",
        "scalper_repo_url": f"git://{box.admin_ip}:{GIT_PORT}/scalper.git",
        "scalper_branch": "main",
        "scalper_python_find_links": f"http://{box.admin_ip}:{WHEEL_PORT}/",
        "scalper_python_no_index": True,
        "scalper_require_signed": True,
        "scalper_allowed_signers": [f"sandbox@example.com {Path(f'{box.signer}.pub').read_text().strip()}"],
        "scalper_settings": {
            "EXECUTION_MODE": "SIM", "SYMBOLS": "BTCUSDT,ETHUSDT",
            "BYBIT_REST_URL": f"http://{box.admin_ip}:{SIM_PORT}",
            "BYBIT_WS_PUBLIC_URL": f"ws://{box.admin_ip}:{SIM_PORT}/v5/public/linear",
            "BYBIT_WS_PRIVATE_URL": f"ws://{box.admin_ip}:{SIM_PORT}/v5/private",
        },
        "scalper_secrets": {"BYBIT_API_KEY": SIM_KEY, "BYBIT_API_SECRET": SIM_SECRET,
                            "ADMIN_USERNAME": ADMIN, "ADMIN_PASSWORD_HASH": ADMIN_HASH,
                            "SESSION_SECRET": "sandbox-session-secret-" + "s" * 26, "METRICS_TOKEN": "sandbox-metrics"},
        # one Redis password from the vault; the host makes and keeps the others
        "scalper_redis_passwords": {"readonly": "sandbox-readonly-Pa55/word"},
        "app_health_bound_s": HEALTH_BOUND_S,
        "autoupdate_on_calendar": UPDATE_CALENDAR,
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
        **overrides,
    }


@dataclass
class Run:
    """One playbook run: its wall time, its PLAY RECAP counts and its output."""

    seconds: float
    recap: dict[str, int]
    output: str

    def changed_tasks(self) -> list[str]:
        """The names of the tasks that reported a change."""
        names, task = [], ""
        for line in self.output.splitlines():
            if line.startswith(("TASK [", "RUNNING HANDLER [")):
                task = line.split("[", 1)[1].rsplit("]", 1)[0]
            elif line.startswith("changed:") and task not in names:
                names.append(task)
        return names


def converge(box: Sandbox, *, user: str, **overrides) -> Run:
    """One ansible-playbook run of deploy.yml against the sandbox, as `user`, from our side."""
    inventory = box.state / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"scalper": {"hosts": {"sandbox": {
        "ansible_host": box.target, "ansible_ssh_private_key_file": str(box.key)}}}}))
    variables = box.state / "vars.yml"
    variables.write_text(yaml.safe_dump(playbook_vars(box, **overrides)))
    env = {**os.environ, "ANSIBLE_SSH_CONTROL_PATH_DIR": str(box.state / "cp"), "ANSIBLE_FORCE_COLOR": "0",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
           "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks"}  # each task's seconds in the output
    t0 = time.monotonic()
    r = box.run(ROOT / ".venv/bin/ansible-playbook", "-i", inventory, "-e", f"@{variables}", "-e",
                f"ansible_user={user}", ANSIBLE_DIR / "deploy.yml", check=False, timeout=1200, cwd=ANSIBLE_DIR,
                env=env)
    took = time.monotonic() - t0
    m = re.search(r"^sandbox\s*:\s*(.*)$", r.stdout, re.MULTILINE)
    assert r.returncode == 0 and m, f"ansible-playbook exited {r.returncode}:\n{r.stdout[-8000:]}\n{r.stderr[-3000:]}"
    recap = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}
    return Run(seconds=took, recap=recap, output=r.stdout)
