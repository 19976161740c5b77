#!/usr/bin/env bash
# Stop the cluster started by start-cluster.sh, by the PIDs in its pid files only.
# Idempotent: never fails when nothing is running.
set -uo pipefail

DIR=${NEFT_SLURM_DIR:-/tmp/neft-slurm}
export SLURM_CONF=$DIR/slurm.conf

# running PID: exists and is not a zombie (PID 1 here may reap late).
running() { [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) =~ ^[RSDIT]$ ]]; }

# stop PIDFILE NAME: SIGTERM, wait up to 10 s, then SIGKILL. NAME guards against a reused PID.
stop() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  if [[ $pid =~ ^[0-9]+$ ]] && [[ $(cat /proc/"$pid"/comm 2>/dev/null) == "$2" ]]; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do running "$pid" || break; sleep 0.2; done
    running "$pid" && kill -9 "$pid" && echo "stop-cluster.sh: $2 ($pid) needed SIGKILL" >&2
  fi
  rm -f "$1"
}

# Cancel left-over jobs first, so that no slurmstepd outlives slurmd.
if [[ -s $DIR/slurmctld.pid ]] && command -v squeue >/dev/null; then
  mapfile -t jobs < <(timeout 10 squeue -h -t PD,R,CG -o %A 2>/dev/null)
  ((${#jobs[@]})) && timeout 10 scancel "${jobs[@]}" 2>/dev/null && sleep 2
fi

stop "$DIR/slurmd.pid" slurmd
stop "$DIR/slurmctld.pid" slurmctld
# Only the munged that start-cluster.sh started (it copied the pid file here).
stop "$DIR/munged.pid" munged
exit 0
