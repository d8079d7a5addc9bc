#!/usr/bin/env bash
# A throwaway Debian 12 host for the playbook: a systemd-nspawn container (systemd as PID 1) reached
# over SSH on a veth between two network namespaces this script creates, with no route out.
#
# Usage: tests/deploy/sandbox.sh STATE_DIR
#   Boots the container, writes STATE_DIR/ready (shell assignments: TARGET, ADMIN_IP, OTHER_IP,
#   CLIENT_PID, KEY) once root can log in with KEY, then holds everything up until it gets SIGTERM
#   (or its parent dies), and tears it all down: clean poweroff, namespaces, mounts, cgroups.
#   Run commands on the client side with `nsenter -t $CLIENT_PID -n CMD` (paths stay the host's).
# Env: SANDBOX_PKGS  what the playbook may apt-install (a file repo inside the image serves them:
#                    the container cannot reach Debian's mirrors; part of the image's cache key)
#      SANDBOX_CACHE (/var/tmp/scalper-deploy-sandbox), SANDBOX_MIRROR (default: the host's).
# Exit 77: cannot run here (not root, a tool missing).
# The image (debootstrap minbase + sshd + python3 + the repo) is built once and kept as a directory
# (the overlay's lower layer) and as a .tar.zst (what a CI cache keeps).
set -euo pipefail
(($# == 1)) || { sed -n '5,12p' "$0" >&2; exit 2; }
[[ $EUID == 0 ]] || { echo "sandbox: needs root" >&2; exit 77; }
for c in systemd-nspawn debootstrap zstd ip ssh ssh-keygen unshare setpriv; do
  command -v "$c" >/dev/null || { echo "sandbox: $c not found (apt-get install systemd-container debootstrap zstd)" >&2; exit 77; }
done
SELF=$(realpath "$0") STATE=$(realpath "$1")
# Private mount namespace: the overlay, `ip netns` names and nspawn's state vanish with us, even on kill -9.
[[ -n ${SANDBOX_IN_NS:-} ]] || SANDBOX_IN_NS=1 exec unshare --mount --propagation private -- "$SELF" "$@"
mount -n -t tmpfs -o mode=0755 sandbox /run

SUITE=bookworm BASE_PKGS=systemd,systemd-sysv,dbus,openssh-server,python3,python3-apt,sudo,iproute2,curl,ca-certificates
PKGS=${SANDBOX_PKGS:?list the packages the playbook installs}
CACHE=${SANDBOX_CACHE:-/var/tmp/scalper-deploy-sandbox}
TARGET=10.77.0.2 ADMIN_IP=10.77.0.1 OTHER_IP=10.77.0.3
W='' NSPAWN='' HOLDER='' B='' CG=scalper-deploy-$$
cleanup() {
  local rc=$?; set +e
  if [[ -n $NSPAWN ]] && kill -TERM "$NSPAWN" 2>/dev/null; then   # nspawn: SIGTERM = clean poweroff
    for _ in {1..150}; do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$NSPAWN" 2>/dev/null; wait "$NSPAWN"; fi
  [[ -n $HOLDER ]] && kill "$HOLDER" 2>/dev/null
  ip netns del client 2>/dev/null; ip netns del target 2>/dev/null
  find /sys/fs/cgroup/{systemd,unified}/"$CG" -depth -type d -exec rmdir {} + 2>/dev/null
  [[ -n $W ]] && { umount -n "$W/root"; rm -rf "$W"; }
  [[ -n $B ]] && rm -rf "$B" "$B.log"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 0' TERM INT

# 1. The image, built once per package list (one builder at a time).
IMG=$CACHE/debian12-$(printf '%s|' "$SUITE" "$BASE_PKGS" "$PKGS" | sha256sum | cut -c1-12) TAR=''
TAR=$IMG.tar.zst
mkdir -p "$CACHE"; exec 9>"$CACHE/.lock"; flock 9
if [[ ! -d $IMG ]]; then
  B=$(mktemp -d "$CACHE/build.XXXXXX"); chmod 755 "$B"; t0=$SECONDS
  if [[ -f $TAR ]]; then zstd -dc "$TAR" | tar -C "$B" --numeric-owner --xattrs --xattrs-include='*' --acls -x
  else
    MIRROR=${SANDBOX_MIRROR:-$(sed -n 's/^URIs: *//p; s/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' \
      /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | tr ' ' '\n' | grep -m1 '/debian/\{0,1\}$' || :)}
    { debootstrap --variant=minbase --include="$BASE_PKGS" "$SUITE" "$B" "${MIRROR:-http://deb.debian.org/debian}" &&
      mkdir -p "$B/var/local/repo/partial" && chroot "$B" apt-get -q update &&
      chroot "$B" apt-get -qy --no-install-recommends -o Dir::Cache::archives=/var/local/repo/ install -d $PKGS
    } >"$B.log" 2>&1 || { tail -n 20 "$B.log" >&2; exit 1; }
    # A flat repo: Packages from each deb's control fields (file names without the epoch's %3a).
    chroot "$B" sh -c 'cd /var/local/repo && rm -rf partial lock && for f in *.deb; do [ -e "$f" ] || continue
      n=$(echo "$f" | sed s/%3a/_/); [ "$f" = "$n" ] || mv "$f" "$n"; dpkg-deb -f "$n"
      printf "Filename: ./%s\nSize: %s\nSHA256: %s\n\n" "$n" $(stat -c %s "$n") $(sha256sum "$n" | cut -c1-64); done >Packages'
    echo 'deb [trusted=yes] file:/var/local/repo ./' >"$B/etc/apt/sources.list"
    find "$B/var/lib/apt/lists" -type f -delete; chroot "$B" apt-get clean
    printf '127.0.0.1 localhost\n127.0.1.1 sandbox\n::1 localhost\n' >"$B/etc/hosts"   # sudo wants it
    echo sandbox >"$B/etc/hostname"; : >"$B/etc/resolv.conf"; echo LANG=C.UTF-8 >"$B/etc/default/locale"
    tar -C "$B" --numeric-owner --xattrs --xattrs-include='*' --acls -c . | zstd -q -T0 >"$TAR.part" && mv "$TAR.part" "$TAR"
  fi
  mv "$B" "$IMG"; rm -f "$B.log"; B=''; echo "sandbox: image ready in $((SECONDS - t0)) s: $IMG" >&2
  find "$CACHE" -maxdepth 1 -name 'debian12-*' ! -name "${IMG##*/}*" -exec rm -rf {} +   # other package lists
fi
flock -u 9

# 2. Per-run root: the image below, a disk-backed upper layer (releases and venvs are big), a fresh key.
W=$(mktemp -d "$CACHE/run.XXXXXX"); mkdir "$W"/{upper,work,root}
mount -n -t overlay sandbox -o "lowerdir=$IMG,upperdir=$W/upper,workdir=$W/work" "$W/root"
rm -f "$STATE/id" "$STATE/id.pub"; ssh-keygen -q -t ed25519 -N '' -C scalper-deploy-sandbox -f "$STATE/id"
install -d -m 700 "$W/root/root/.ssh"; install -m 600 "$STATE/id.pub" "$W/root/root/.ssh/authorized_keys"
systemd-id128 new >"$W/root/etc/machine-id"
# The image ships no package lists: make them look old, or apt's cache_valid_time skips the update.
rm -f "$W/root/var/lib/apt/periodic/update-success-stamp"; touch -d @0 "$W/root/var/lib/apt/lists"
# Netns "target" (the container) and "client" (the operator: Ansible, the git remote, the wheelhouse).
ip netns add client; ip netns add target; ip -n target link add eth0 type veth peer name veth0 netns client
ip -n target addr add "$TARGET/24" dev eth0; ip -n client addr add "$ADMIN_IP/24" dev veth0
ip -n client addr add "$OTHER_IP/24" dev veth0   # a second source address: curl --interface picks it
for l in "target eth0" "target lo" "client veth0" "client lo"; do ip -n "${l% *}" link set "${l#* }" up; done
setpriv --pdeathsig TERM ip netns exec client sleep infinity & HOLDER=$!   # its /proc/PID/ns/net: the client

# 3. Boot. CAP_NET_ADMIN and a writable /proc/sys/net: ufw and fail2ban manage iptables and sysctls.
( for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified; do
    [[ -w $h/cgroup.procs ]] && mkdir "$h/$CG" && echo "$BASHPID" >"$h/$CG/cgroup.procs"; done
  SYSTEMD_NSPAWN_API_VFS_WRITABLE=network exec setpriv --pdeathsig TERM systemd-nspawn -q -D "$W/root" -M sandbox \
    --register=no --keep-unit --link-journal=no --network-namespace-path=/run/netns/target --capability=CAP_NET_ADMIN -b
) </dev/null >"$STATE/console.log" 2>&1 &
NSPAWN=$! t0=$SECONDS
SSH=(-i "$STATE/id" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
until ip netns exec client ssh "${SSH[@]}" -o ConnectTimeout=2 "root@$TARGET" true 2>/dev/null; do sleep 0.2
  kill -0 "$NSPAWN" && ((SECONDS - t0 < 60)) || { echo "sandbox: no sshd" >&2; tail -n 30 "$STATE/console.log" >&2; exit 1; }
done
printf 'TARGET=%s\nADMIN_IP=%s\nOTHER_IP=%s\nCLIENT_PID=%s\nKEY=%s\n' "$TARGET" "$ADMIN_IP" "$OTHER_IP" "$HOLDER" \
  "$STATE/id" >"$STATE/ready.part"
mv "$STATE/ready.part" "$STATE/ready"
echo "sandbox: sshd up $((SECONDS - t0)) s after boot" >&2
wait "$NSPAWN"   # until SIGTERM (the trap shuts the container down) or the container stops
