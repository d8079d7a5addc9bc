# Sourced by deploy/local/run.sh and .ci/run: puts `uv` on PATH, installing it with pip if missing.
# A plain `pip install` first (what works where pip may install). Stock Debian 12 has no pip (as root,
# apt-get installs python3-pip) and refuses installs into the system Python (PEP 668), so then
# --break-system-packages: uv is one self-contained program that replaces no Debian package.
ensure_uv() {
  command -v uv >/dev/null && return 0
  echo "scalper: installing uv"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
    else
      echo "scalper: pip is missing: run 'sudo apt-get install python3-pip' (or install uv) and retry" >&2
      return 1
    fi
  fi
  python3 -m pip install -q uv 2>/dev/null || python3 -m pip install -q --break-system-packages uv || {
    echo "scalper: could not install uv: install it (python3 -m pip install uv) and retry" >&2
    return 1
  }
  export PATH="$HOME/.local/bin:$PATH"
}
