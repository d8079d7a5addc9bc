#!/usr/bin/env bash
# Build one release of Scalper on the host: RELEASES/<commit>/ holds the commit's source tree (from the
# local git mirror) and its virtualenv, with exactly the versions in the commit's uv.lock, installed from
# wheels only (--only-binary: the host never needs a compiler); the workspace's own packages are built
# from that source (pure Python, hatchling). RELEASES/<commit>/.complete marks a finished build; an
# unfinished one is removed and built again.
#
# Usage: build-release.sh COMMIT
# Config: /etc/scalper/deploy.conf (SCALPER_DEPLOY_CONF), shell assignments: REPO (the bare mirror),
#   RELEASES, PYTHON (the system interpreter; not under /home or /root: ProtectHome=yes hides those),
#   UV; package source: UV_DEFAULT_INDEX, UV_FIND_LINKS (exported to uv as they are), NO_INDEX=1 (uv's
#   --no-index, which has no environment variable: only the find-links then).
set -euo pipefail
(($# == 1)) || { sed -n '8,12p' "$0" >&2; exit 2; }
# shellcheck source=/dev/null
. "${SCALPER_DEPLOY_CONF:-/etc/scalper/deploy.conf}"
export UV_NO_CACHE=1 UV_PYTHON_DOWNLOADS=never
for v in UV_DEFAULT_INDEX UV_FIND_LINKS; do [[ -z ${!v:-} ]] || export "${v?}"; done
SOURCE=(); [[ -z ${NO_INDEX:-} ]] || SOURCE=(--no-index)
COMMIT=$(git -C "$REPO" rev-parse --verify "$1^{commit}")
D=$RELEASES/$COMMIT
[[ -f $D/.complete ]] && { echo "release $COMMIT: already built"; exit 0; }
rm -rf "$D"; mkdir -p "$D/src"
git -C "$REPO" archive "$COMMIT" | tar -x -C "$D/src"
cd "$D/src"
"$UV" venv -q --relocatable --python "$PYTHON" "$D/venv"
"$UV" export -q --frozen --no-dev --all-packages --no-emit-workspace -o "$D/requirements.txt"
"$UV" pip install -q "${SOURCE[@]}" --python "$D/venv/bin/python" --require-hashes --only-binary :all: -r "$D/requirements.txt"
mapfile -t members < <("$PYTHON" -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["tool"]["uv"]["workspace"]["members"], sep="\n")')
"$UV" pip install -q "${SOURCE[@]}" --python "$D/venv/bin/python" --no-deps "${members[@]/#/./}"
"$D/venv/bin/python" -m compileall -q "$D/venv/lib"   # the units mount it read-only
for s in market strategy execution dashboard worker; do
  [[ -x $D/venv/bin/scalper-$s ]] || { echo "release $COMMIT: venv/bin/scalper-$s is missing" >&2; exit 1; }
done
echo "$COMMIT" >"$D/RELEASE"   # the release each service reports in its heartbeat (common.lifecycle)
touch "$D/.complete"
echo "release $COMMIT: built in $D"
