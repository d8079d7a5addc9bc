#!/usr/bin/env bash
# `make run`: the whole platform in SIM mode on this machine, under supervisord (restarts crashed
# services). Installs what is missing (uv; redis-server with apt-get when root), syncs the workspace,
# starts a private redis-server under var/ unless REDIS_URL is set, then the five services.
# Ctrl-C (or SIGTERM) stops everything.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

say() { echo "scalper: $*"; }

if ! command -v uv >/dev/null; then
  say "installing uv"
  python3 -m pip install -q uv || { say "could not install uv: install it (python3 -m pip install uv) and retry"; exit 1; }
  export PATH="$HOME/.local/bin:$PATH"
fi
if ! command -v redis-server >/dev/null && [ -z "${REDIS_URL:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing redis-server"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    say "redis-server is missing: run 'sudo apt-get install redis-server' (or set REDIS_URL to a running Redis)"; exit 1
  fi
fi

say "syncing the workspace"
uv sync -q --all-packages --frozen

VAR=${SCALPER_VAR:-$ROOT/var}  # everything this run writes: redis data, logs, supervisord state
export DATA_DIR=${DATA_DIR:-$VAR}
mkdir -p "$VAR/log" "$VAR/run" "$VAR/redis"
REDIS_PORT=${SCALPER_REDIS_PORT:-6391}
if [ -z "${REDIS_URL:-}" ]; then
  export REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"
  START_REDIS=true
else
  START_REDIS=false
fi
export EXECUTION_MODE=${EXECUTION_MODE:-SIM}

# SIM mode: start our own simulated exchange unless BYBIT_*_URL point at one running elsewhere
# (then BYBIT_API_KEY/BYBIT_API_SECRET are its account).
START_SIM=false
if [ "$EXECUTION_MODE" = SIM ] && [ -z "${BYBIT_REST_URL:-}" ]; then
  START_SIM=true
  SIM_PORT=${SCALPER_SIM_PORT:-8090}  # common.bybit.urls.SIM_PORT: where SIM mode looks by default
  export BYBIT_API_KEY=${BYBIT_API_KEY:-scalper-sim-key} BYBIT_API_SECRET=${BYBIT_API_SECRET:-scalper-sim-secret}
  export BYBIT_REST_URL="http://127.0.0.1:$SIM_PORT" BYBIT_WS_PUBLIC_URL="ws://127.0.0.1:$SIM_PORT/v5/public/linear" \
         BYBIT_WS_PRIVATE_URL="ws://127.0.0.1:$SIM_PORT/v5/private"
  SIM_SYMBOLS=${SYMBOLS:-BTCUSDT,ETHUSDT}
fi

conf=$VAR/run/supervisord.conf
{
  cat <<CONF
[supervisord]
nodaemon=true
logfile=$VAR/log/supervisord.log
pidfile=$VAR/run/supervisord.pid
childlogdir=$VAR/log
directory=$ROOT

[unix_http_server]
file=$VAR/run/supervisor.sock

[supervisorctl]
serverurl=unix://$VAR/run/supervisor.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

CONF
  if $START_REDIS; then
    cat <<CONF
[program:redis]
command=redis-server --port $REDIS_PORT --bind 127.0.0.1 --dir $VAR/redis --appendonly yes --appendfsync everysec --save ""
priority=10
autorestart=true
stdout_logfile=$VAR/log/redis.log
redirect_stderr=true

CONF
  fi
  if $START_SIM; then
    cat <<CONF
[program:exchange-sim]
command=$ROOT/.venv/bin/scalper-exchange-sim --host 127.0.0.1 --port $SIM_PORT --api-key %(ENV_BYBIT_API_KEY)s --api-secret %(ENV_BYBIT_API_SECRET)s --symbols $SIM_SYMBOLS --seed ${SCALPER_SIM_SEED:-7} --balance ${SCALPER_SIM_BALANCE:-100000}
priority=20
autorestart=true
stdout_logfile=$VAR/log/exchange-sim.log
redirect_stderr=true

CONF
  fi
  for svc in market strategy execution dashboard worker; do
    cat <<CONF
[program:$svc]
command=$ROOT/.venv/bin/scalper-$svc
directory=$ROOT
priority=30
autorestart=true
startsecs=1
startretries=100000
stopsignal=TERM
stopwaitsecs=15
stdout_logfile=$VAR/log/$svc.log
stdout_logfile_maxbytes=50MB
stdout_logfile_backups=3
redirect_stderr=true

CONF
  done
} >"$conf"

$START_SIM && say "simulated exchange: $BYBIT_REST_URL (seed ${SCALPER_SIM_SEED:-7}, symbols $SIM_SYMBOLS)"
say "dashboard: http://${WEB_HOST:-127.0.0.1}:${WEB_PORT:-8080}  (logs in $VAR/log/, status: uv run scalperctl status, stop: Ctrl-C)"
exec "$ROOT/.venv/bin/supervisord" -n -c "$conf"
