#!/usr/bin/env bash
# Start a single-node SLURM cluster (Debian's packages) for the cluster-profile test.
# Idempotent: daemons already running (by their pid files) are left alone.
# No systemd or cgroups needed. State, logs and pid files go to $NEFT_SLURM_DIR.
set -euo pipefail
# dpkg, runuser and mungekey live in sbin, which a CI shell's PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"

DIR=${NEFT_SLURM_DIR:-/tmp/neft-slurm}
CONF=$DIR/slurm.conf
STEP=setup
trap 'echo "start-cluster.sh: FAILED during \"$STEP\" (line $LINENO: $BASH_COMMAND); logs in $DIR" >&2' ERR
die() { echo "start-cluster.sh: FAILED: $*" >&2; exit 1; }
# alive PIDFILE: the process exists and is not a zombie (PID 1 here may reap late).
alive() { [[ -s $1 ]] && [[ $(awk '{print $3}' "/proc/$(cat "$1")/stat" 2>/dev/null) =~ ^[RSDIT]$ ]]; }

STEP="install packages"
PKGS=(munge slurmctld slurmd slurm-client)
if ! dpkg -s "${PKGS[@]}" >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  # Try without refreshing the lists first; refresh only if that fails.
  apt-get install -y -q --no-install-recommends "${PKGS[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${PKGS[@]}" >/dev/null; }
fi

STEP="write config"
mkdir -p "$DIR"/{state,spool,log}
chown -R slurm:slurm "$DIR"
chmod 755 "$DIR"
NCPU=$(nproc)
MEM_MB=$(awk '/^MemTotal/ {printf "%d", $2 * 0.8 / 1024}' /proc/meminfo)
cat >"$CONF" <<EOF
# Written by tests/slurm/start-cluster.sh: one node, no accounting, no cgroups.
ClusterName=neft
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Trust the node line below rather than the detected hardware (containers).
SlurmdParameters=config_overrides
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# Finished jobs stay visible to squeue for 10 min: the plugin's squeue status check needs that.
MinJobAge=600
GresTypes=gpu
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=$MEM_MB Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
# One fake GPU so that `--gpus=1` (resources: gpu=1) is accepted.
printf 'AutoDetect=off\nNodeName=localhost Name=gpu File=/dev/null\n' >"$DIR/gres.conf"
# Debian's default location, for sbatch/squeue/scancel called without SLURM_CONF.
mkdir -p /etc/slurm
ln -sfn "$CONF" /etc/slurm/slurm.conf
ln -sfn "$DIR/gres.conf" /etc/slurm/gres.conf
export SLURM_CONF=$CONF
echo "export SLURM_CONF=$CONF" >"$DIR/env.sh"

STEP="start munged"
if ! alive /run/munge/munged.pid; then
  [[ -s /etc/munge/munge.key ]] || mungekey --create --keyfile=/etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  runuser -u munge -- /usr/sbin/munged
  # Remember that we started it, so stop-cluster.sh stops only our munged.
  cp /run/munge/munged.pid "$DIR/munged.pid"
fi

STEP="start slurmctld"
alive "$DIR/slurmctld.pid" || /usr/sbin/slurmctld -f "$CONF"
STEP="start slurmd"
alive "$DIR/slurmd.pid" || /usr/sbin/slurmd -f "$CONF" -N localhost

STEP="wait for the node"
for _ in $(seq 60); do
  state=$(sinfo -h -o %T 2>/dev/null || true)
  # idle, or mixed/allocated when re-run while jobs are running.
  [[ $state =~ ^(idle|mixed|allocated)$ ]] && break
  sleep 0.5
done
[[ ${state:-} =~ ^(idle|mixed|allocated)$ ]] ||
  die "node not idle after 30 s (sinfo: '${state:-none}'); see $DIR/log/*.log"

echo "export SLURM_CONF=$CONF"
