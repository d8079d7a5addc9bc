#!/usr/bin/env bash
# Build a release virtualenv for the five services (and scalperctl) into DIR, from this checkout.
#
# Usage: deploy/release/build-venv.sh DIR
#
# The venv is what systemd runs (/opt/scalper/venv, or a release dir symlinked there):
# - made with the system interpreter (PYTHON, default /usr/bin/python3.11), never one under a home
#   folder, which ProtectHome=yes hides from the services;
# - relocatable (console scripts find their python relative to themselves), so a release can be
#   built in one place and bound or moved to another;
# - non-editable, with exactly the versions in uv.lock and no dev dependencies: it does not need
#   the checkout once built;
# - byte-compiled, because the units mount it read-only (ProtectSystem=strict).
set -euo pipefail
(($# == 1)) || { sed -n '2,4p' "$0" >&2; exit 2; }
DIR=$1
PYTHON=${PYTHON:-/usr/bin/python3.11}
[[ -x $PYTHON ]] || { echo "build-venv: no interpreter at $PYTHON (apt-get install python3.11, or set PYTHON)" >&2; exit 1; }
command -v uv >/dev/null || { echo "build-venv: uv is missing (python3 -m pip install uv)" >&2; exit 1; }
[[ -e $DIR ]] && { echo "build-venv: $DIR exists; releases are built into a fresh directory" >&2; exit 1; }
cd "$(dirname "$0")/../.."

uv venv --quiet --relocatable --python "$PYTHON" --no-python-downloads "$DIR"
UV_PROJECT_ENVIRONMENT=$(realpath "$DIR") uv sync --quiet --frozen --all-packages --no-dev --no-editable \
  --compile-bytecode --python "$PYTHON" --no-python-downloads
for s in market strategy execution dashboard worker; do
  [[ -x $DIR/bin/scalper-$s ]] || { echo "build-venv: $DIR/bin/scalper-$s is missing" >&2; exit 1; }
done
