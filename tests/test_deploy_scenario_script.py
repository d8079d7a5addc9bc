"""deploy/autoupdate/scalper-deploy-scenario, the parts that need no systemd, with a real git and ssh-keygen:
the throwaway commit sits on the tracked branch's head, signed by the host-local scenario key that
`git verify-commit` accepts through the allowed signers, on a side ref that scalper-update's
`fetch --prune` keeps and the branch never contains; refused unless EXECUTION_MODE=SIM. The run itself
(scalper-update there and back under systemd) is tests/deploy/test_scenarios.py's."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.support import ROOT

pytestmark = [pytest.mark.unit,
              pytest.mark.skipif(not (shutil.which("git") and shutil.which("ssh-keygen")),
                                 reason="needs git and ssh-keygen")]

SCRIPT = ROOT / "deploy/autoupdate/scalper-deploy-scenario"


def git(*args: str, cwd=None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def host(tmp_path):
    """An origin with one commit on main, the host's bare mirror of it, the deploy config and env file."""
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    (work / "README.md").write_text("scalper\n")
    git("add", ".", cwd=work)
    git("-c", "user.name=dev", "-c", "user.email=dev@example.org", "commit", "-q", "-m", "first", cwd=work)
    origin, mirror = tmp_path / "origin.git", tmp_path / "repo.git"
    git("clone", "-q", "--bare", str(work), str(origin))
    git("clone", "-q", "--mirror", str(origin), str(mirror))
    (tmp_path / "scalper.env").write_text("EXECUTION_MODE=SIM\n")
    (tmp_path / "allowed_signers").write_text("")
    conf = tmp_path / "deploy.conf"
    conf.write_text(f"REPO={mirror}\nBRANCH=main\nOPT={tmp_path / 'opt'}\nENV_FILE={tmp_path / 'scalper.env'}\n"
                    f"REQUIRE_SIGNED=1\nALLOWED_SIGNERS={tmp_path / 'allowed_signers'}\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SCALPER_DEPLOY_CONF": str(conf),
           "KEY_DIR": str(tmp_path / "key"), "OUT": str(tmp_path / "out")}
    return tmp_path, mirror, origin, env


def scenario(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60)


def test_the_throwaway_commit_is_signed_on_a_side_ref_the_mirror_fetch_keeps(host):
    tmp_path, mirror, origin, env = host
    head = git("rev-parse", "main", cwd=mirror)
    r = scenario(env, "commit")
    assert r.returncode == 0, r.stderr
    commit = r.stdout.strip()
    assert git("rev-parse", "refs/scenarios/deploy", cwd=mirror) == commit
    assert git("rev-parse", f"{commit}^", cwd=mirror) == head
    assert git("rev-parse", f"{commit}^{{tree}}", cwd=mirror) == git("rev-parse", "main^{tree}", cwd=mirror)
    # what scalper-update does first: the side ref stays, the branch does not move to it
    git("fetch", "-q", "--prune", "origin", "+refs/heads/*:refs/heads/*", cwd=mirror)
    assert git("rev-parse", "refs/scenarios/deploy", cwd=mirror) == commit
    assert git("rev-parse", "main", cwd=mirror) == head
    assert git("branch", "--contains", commit, cwd=mirror) == ""
    # its signature verifies against the allowed signers once the scenario's key is in them (as `run` adds it)
    verify = ["-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={tmp_path / 'allowed_signers'}",
              "verify-commit", commit]
    assert subprocess.run(["git", *verify], cwd=mirror, capture_output=True).returncode != 0
    pub = (tmp_path / "key/key.pub").read_text().split()
    (tmp_path / "allowed_signers").write_text(f'scalper-deploy-scenario namespaces="git" {pub[0]} {pub[1]}\n')
    r = subprocess.run(["git", *verify], cwd=mirror, capture_output=True, text=True)
    assert r.returncode == 0 and 'Good "git" signature for scalper-deploy-scenario' in r.stderr, r.stderr
    assert (tmp_path / "key/key").stat().st_mode & 0o077 == 0
    # a second run makes a new commit with the same key
    again = scenario(env, "commit").stdout.strip()
    assert again != commit and git("rev-parse", "refs/scenarios/deploy", cwd=mirror) == again


@pytest.mark.parametrize("mode", ["LIVE", "DRY"])
def test_it_is_refused_unless_sim_and_makes_no_commit(host, mode):
    tmp_path, mirror, _, env = host
    (tmp_path / "scalper.env").write_text(f"BYBIT_NETWORK=testnet\nEXECUTION_MODE='{mode}'\n"
                                          f"DATA_DIR={tmp_path / 'data'}\n")
    r = scenario({k: v for k, v in env.items() if k != "OUT"}, "run")  # OUT: under the env file's DATA_DIR
    assert r.returncode == 1
    assert f"refused: EXECUTION_MODE is {mode}, the deploy scenario runs only in SIM" in r.stderr
    assert '"phase": "refused"' in (tmp_path / "data/scenarios/deploy/progress.json").read_text()
    assert subprocess.run(["git", "rev-parse", "--verify", "-q", "refs/scenarios/deploy"], cwd=mirror).returncode == 1
    assert not (tmp_path / "key").exists()
    assert (tmp_path / "allowed_signers").read_text() == ""


def test_a_failed_update_ends_the_run_not_ok_and_the_scenario_key_leaves_the_allowed_signers(host):
    tmp_path, mirror, _, env = host
    (tmp_path / "allowed_signers").write_text('ops namespaces="git" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOps\n')
    (tmp_path / "out").mkdir()
    (tmp_path / "out/request").write_text("00000000000000000042")
    r = scenario(env | {"SCALPER_UPDATE": shutil.which("false"), "PROBE_URL": "http://127.0.0.1:9/healthz",
                        "PROBE_S": "0.05"}, "run")
    assert r.returncode == 1, r.stderr
    progress = (tmp_path / "out/progress.json").read_text()
    commit = git("rev-parse", "refs/scenarios/deploy", cwd=mirror)
    assert '"phase": "done"' in progress and '"run_id": "00000000000000000042"' in progress
    assert f'"commit": "{commit}"' in progress and '"deployed": "failed"' in progress and '"ok": "no"' in progress
    probe = json.loads((tmp_path / "out/probe.json").read_text())
    assert probe["refused"] == probe["sent"] and probe["not_ok"] == 0, probe  # nothing listens on port 9
    assert (tmp_path / "allowed_signers").read_text() == 'ops namespaces="git" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOps\n'
