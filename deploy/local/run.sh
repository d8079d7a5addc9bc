#!/usr/bin/env bash
# `make run`: the whole platform in SIM mode on this machine, under supervisord (restarts crashed
# services). Installs what is missing (uv; redis-server with apt-get when root), syncs the workspace,
# starts a private redis-server under var/ unless REDIS_URL names another Redis, and a simulated
# exchange in SIM mode unless BYBIT_REST_URL names one, then the five services. Those decisions read
# the env file the services read (.env or SCALPER_ENV_FILE; environment variables win), see
# run_plan.py. Each program gets only the secrets it uses (supervisord starts with none in its
# environment), the private Redis gets the ACL users of deploy/redis/users.acl with every service
# connecting as its own, and everything written under var/ is private to this user (umask 077).
# Ctrl-C (or SIGTERM) stops everything.
set -euo pipefail
umask 077
cd "$(dirname "$0")/../.."
ROOT=$PWD

say() { echo "scalper: $*"; }

. deploy/local/ensure-uv.sh
ensure_uv

say "syncing the workspace"
uv sync -q --all-packages --frozen

VAR=${SCALPER_VAR:-$ROOT/var}  # everything this run writes: redis data, logs, supervisord state
# START_REDIS, START_SIM, REDIS_PORT, SIM_PORT, SIM_SYMBOLS, DASHBOARD_URL, REDIS_ACLFILE, SECRET_VARS,
# PROGRAM_ENV_<program> (its secrets) and the exports (DATA_DIR, BYBIT_*_URL) that only make run adds;
# a bad setting stops here with exit 78.
plan=$("$ROOT/.venv/bin/python" deploy/local/run_plan.py "$VAR") || exit
eval "$plan"
mkdir -p "$VAR/log" "$VAR/run" "$VAR/redis"

if $START_REDIS && ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing redis-server"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
  else
    say "redis-server is missing: run 'sudo apt-get install redis-server' (or set REDIS_URL to a running Redis)"
    exit 1
  fi
fi

conf=$VAR/run/supervisord.conf
{
  cat <<CONF
[supervisord]
nodaemon=true
umask=077
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
command=redis-server $ROOT/deploy/local/redis.conf --port $REDIS_PORT --bind 127.0.0.1 --dir $VAR/redis --aclfile $REDIS_ACLFILE
priority=10
autorestart=true
stdout_logfile=$VAR/log/redis.log
redirect_stderr=true

CONF
  fi
  if $START_SIM; then
    cat <<CONF
[program:exchange-sim]
command=$ROOT/.venv/bin/scalper-exchange-sim --host 127.0.0.1 --port $SIM_PORT --symbols $SIM_SYMBOLS --seed ${SCALPER_SIM_SEED:-7} --balance ${SCALPER_SIM_BALANCE:-100000}
environment=$PROGRAM_ENV_exchange_sim
priority=20
autorestart=true
stdout_logfile=$VAR/log/exchange-sim.log
redirect_stderr=true

CONF
  fi
  for svc in market strategy execution dashboard worker; do
    program_env=PROGRAM_ENV_$svc
    cat <<CONF
[program:$svc]
command=$ROOT/.venv/bin/scalper-$svc
environment=${!program_env}
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

$START_REDIS || say "Redis: the one REDIS_URL names"
$START_SIM && say "simulated exchange: $BYBIT_REST_URL (seed ${SCALPER_SIM_SEED:-7}, symbols $SIM_SYMBOLS)"
say "dashboard: $DASHBOARD_URL  (logs in $VAR/log/, status: uv run scalperctl status, stop: Ctrl-C)"
# The release every service reports in its heartbeat: this checkout's commit (none outside git).
SCALPER_RELEASE=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) || SCALPER_RELEASE=""
export SCALPER_RELEASE
unset_secrets=()
for name in $SECRET_VARS; do unset_secrets+=(-u "$name"); done
exec env "${unset_secrets[@]}" "$ROOT/.venv/bin/supervisord" -n -c "$conf"
