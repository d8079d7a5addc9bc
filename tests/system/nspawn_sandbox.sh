#!/usr/bin/env bash
# Boot real systemd (PID 1) in a throwaway systemd-nspawn container, install Scalper's units there
# the way a deploy does, run a check script inside once boot finished, and exit with its status.
#
# Usage: tests/system/nspawn_sandbox.sh VENV CHECK
#   VENV   a release venv (deploy/release/build-venv.sh), bound read-only at /opt/scalper/venv
#   CHECK  a bash script run inside as root with `bash -e -o pipefail`, after boot; on failure the
#          journal of the scalper units is printed. It may use: prop UNIT PROPERTY (systemctl show
#          -P), wait_until SECONDS CMD... (retry every 0.1 s), and the files next to it in $CHECK_DIR.
# Env: SANDBOX_TIMEOUT (whole run in s, default 150; the check gets 20 s less, so the journal is
#      still printed when it hangs), SANDBOX_KEEP=1 (keep the staging dir).
# Exit 77: cannot run here (not root, no systemd-nspawn): callers skip.
#
# The container is made of the host's /usr (--volatile=yes: empty tmpfs root, /usr read-only), so
# nothing is installed: /usr/bin/python3.11 (the venv's interpreter) and /usr/bin/redis-server
# come from the host. Inside: /etc/systemd/system holds deploy/systemd plus two test-only units
# (redis-server.service on 127.0.0.1:6379, the check), /etc/sysusers.d/scalper.conf is
# deploy/systemd/scalper.sysusers. Private network: host ports are untouched.
# Needs root (CAP_SYS_ADMIN) and: apt-get install --no-install-recommends systemd-container
set -euo pipefail
(($# == 2)) || { sed -n '5,13p' "$0" >&2; exit 2; }
[[ $EUID == 0 ]] || { echo "nspawn_sandbox: needs root (CAP_SYS_ADMIN for nspawn)" >&2; exit 77; }
command -v systemd-nspawn >/dev/null ||
  { echo "nspawn_sandbox: no systemd-nspawn (apt-get install systemd-container)" >&2; exit 77; }
VENV=$(realpath "$1"); CHECK=$(realpath "$2"); T=${SANDBOX_TIMEOUT:-150}
UNITS=$(realpath "$(dirname "$0")/../../deploy/systemd")
[[ -x $VENV/bin/scalper-market ]] || { echo "nspawn_sandbox: $VENV is not a release venv" >&2; exit 2; }

S=$(mktemp -d "${TMPDIR:-/tmp}/scalper-nspawn.XXXXXX")   # staging, bound read-write inside
export CG=scalper-nspawn-${S##*.}                          # per-run cgroup and machine name
cleanup() {  # nspawn leaves empty cgroups behind: remove ours, then the staging dir
  find /sys/fs/cgroup/{systemd,unified}/"$CG" -depth -type d -exec rmdir {} + 2>/dev/null || :
  if [[ ${SANDBOX_KEEP:-} ]]; then echo "staging kept: $S" >&2; else rm -rf "$S"; fi
}
trap cleanup EXIT

mkdir "$S/system"
cp -a "$UNITS"/*.service "$UNITS"/*.socket "$UNITS"/*.target "$UNITS"/*.d "$S/system/"
cp -a "$(dirname "$CHECK")" "$S/check"
# A machine-id means "not first boot": no systemd-firstboot prompt, no preset-all. Mask the unit
# that would fail to commit it to the read-only bind (the boot would be "degraded").
systemd-id128 new >"$S/machine-id"
ln -s /dev/null "$S/system/systemd-machine-id-commit.service"
# The name Debian's package uses, so the units' Wants=/After=redis-server.service pull it in.
cat >"$S/system/redis-server.service" <<'EOF'
[Unit]
Description=Redis for the sandbox (test only)
[Service]
Type=notify
ExecStart=/usr/bin/redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no --dir /tmp --supervised systemd
DynamicUser=yes
PrivateTmp=yes
EOF
# SIM mode needs an exchange: the release venv's own simulator on loopback (test only).
cat >"$S/system/exchange-sim.service" <<'EOF'
[Unit]
Description=Scalper simulated exchange for the sandbox (test only)
[Service]
Type=exec
ExecStart=/opt/scalper/venv/bin/scalper-exchange-sim --host 127.0.0.1 --port 8090 --api-key sandbox-key --api-secret sandbox-secret --symbols BTCUSDT,ETHUSDT --seed 7 --balance 100000
DynamicUser=yes
EOF
# Boot a minimal target: only what the check starts runs.
printf '[Unit]\nRequires=basic.target\nAfter=basic.target\nWants=sandbox-check.service\n' >"$S/system/sandbox.target"
cat >"$S/system/sandbox-check.service" <<EOF
[Service]
Type=exec
Environment=SANDBOX_DIR=$S CHECK_DIR=$S/check CHECK_NAME=${CHECK##*/} CHECK_TIMEOUT=$((T - 20))
ExecStart=/bin/bash $S/driver.sh
EOF
cat >"$S/driver.sh" <<'EOF'
exec >"$SANDBOX_DIR/out.log" 2>&1
prop() { systemctl show -P "$2" "$1"; }
wait_until() { local end=$((SECONDS + $1)); shift
  until "$@"; do ((SECONDS < end)) || { echo "wait_until timed out: $*"; return 1; }; sleep 0.1; done; }
export -f prop wait_until
state=$(systemctl is-system-running --wait)       # boot finished: running or degraded
[[ $state == running ]] || { echo "boot state: $state"; systemctl --no-pager --failed; }
timeout -k 5 "$CHECK_TIMEOUT" bash -e -o pipefail "$CHECK_DIR/$CHECK_NAME"; rc=$?
if ((rc)); then
  echo "--- check failed (rc=$rc, 124 = timed out); journal of the units ---"
  journalctl -b --no-pager -o short-monotonic -u 'scalper*' -u redis-server.service
fi
echo "$rc" >"$SANDBOX_DIR/rc"
systemctl exit "$rc"                               # nspawn exits with this code
EOF

nspawn=(systemd-nspawn --quiet --directory=/ --volatile=yes
  --register=no --keep-unit     # no machined / host systemd needed
  --private-network             # own loopback only
  --link-journal=no --machine="$CG"
  --bind="$S/system:/etc/systemd/system"   # writable: the check enables units as a deploy does
  --bind-ro="$S/machine-id:/etc/machine-id"
  --bind-ro="$UNITS/scalper.sysusers:/etc/sysusers.d/scalper.conf"
  --bind-ro="$VENV:/opt/scalper/venv"
  --bind="$S"                   # nspawn mounts a fresh /tmp, but binds under it show through
  --boot systemd.unit=sandbox.target systemd.show_status=no)

# Private mount ns + tmpfs on /run/systemd: nspawn's state stays off a disk-backed host /run
# (-n: no /run/mount/utab). A per-run cgroup keeps parallel runs apart.
timeout -k 10 "$T" unshare --mount --propagation private -- bash -c '
  mkdir -p /run/systemd && mount -n -t tmpfs -o mode=0755 sandbox /run/systemd || exit 125
  for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified; do
    [[ -w $h/cgroup.procs ]] && mkdir "$h/$CG" && echo $$ >"$h/$CG/cgroup.procs"
  done
  exec "$@"' sandbox "${nspawn[@]}" >"$S/console.log" 2>&1 && nrc=0 || nrc=$?
[[ -f $S/out.log ]] && cat "$S/out.log"
[[ -f $S/rc ]] && exit "$(<"$S/rc")"
echo "nspawn_sandbox: check did not finish (rc=$nrc, 124 = timed out); container console:"
tail -n 40 "$S/console.log"
exit "$nrc"
