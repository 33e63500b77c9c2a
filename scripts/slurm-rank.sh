#!/usr/bin/env bash
# One rank of a data-parallel run under Slurm: maps srun's task variables to
# the launcher contract that `hqrn train` (and torch.distributed's env://)
# reads, then runs the command.
#
#   srun --nodes 2 --ntasks-per-node 2 scripts/slurm-rank.sh build/bin/hqrn train --task entanglement ...
#
# RANK=SLURM_PROCID, WORLD_SIZE=SLURM_NTASKS, LOCAL_RANK=SLURM_LOCALID,
# LOCAL_WORLD_SIZE = this node's entry of SLURM_TASKS_PER_NODE ("2(x3),1"),
# MASTER_ADDR = the first host of SLURM_JOB_NODELIST (scontrol expands ranges),
# MASTER_PORT = 29500 + SLURM_JOB_ID % 10000 so that jobs sharing a node do
# not collide. MASTER_ADDR and MASTER_PORT already set are kept.
set -euo pipefail

die() { echo "slurm-rank.sh: $*" >&2; exit 2; }
[ $# -ge 1 ] || die "usage: slurm-rank.sh COMMAND [ARGS...] (started by srun)"
for v in SLURM_PROCID SLURM_NTASKS SLURM_LOCALID SLURM_NODEID SLURM_TASKS_PER_NODE; do
  [ -n "${!v:-}" ] || die "$v is not set: start this script with srun inside a Slurm allocation"
done

# The number of tasks on node $SLURM_NODEID from a list such as "2(x3),1".
tasks_on_node() {
  local node=$1 entry count repeat
  IFS=, read -ra entries <<< "$2"
  for entry in "${entries[@]}"; do
    if [[ $entry =~ ^([0-9]+)\(x([0-9]+)\)$ ]]; then
      count=${BASH_REMATCH[1]} repeat=${BASH_REMATCH[2]}
    elif [[ $entry =~ ^[0-9]+$ ]]; then
      count=$entry repeat=1
    else
      die "cannot read SLURM_TASKS_PER_NODE='$2'"
    fi
    if [ "$node" -lt "$repeat" ]; then echo "$count"; return; fi
    node=$((node - repeat))
  done
  die "node $SLURM_NODEID is beyond SLURM_TASKS_PER_NODE='$2'"
}

first_host() {
  if command -v scontrol > /dev/null; then
    scontrol show hostnames "$1" | head -n 1
  elif [[ $1 != *[* ]]; then
    echo "${1%%,*}"
  else
    die "scontrol is needed to expand SLURM_JOB_NODELIST='$1'; or set MASTER_ADDR"
  fi
}

export RANK=$SLURM_PROCID WORLD_SIZE=$SLURM_NTASKS LOCAL_RANK=$SLURM_LOCALID
LOCAL_WORLD_SIZE=$(tasks_on_node "$SLURM_NODEID" "$SLURM_TASKS_PER_NODE")
export LOCAL_WORLD_SIZE
if [ -z "${MASTER_ADDR:-}" ]; then
  [ -n "${SLURM_JOB_NODELIST:-}" ] || die "SLURM_JOB_NODELIST is not set; or set MASTER_ADDR"
  MASTER_ADDR=$(first_host "$SLURM_JOB_NODELIST")
fi
export MASTER_ADDR
export MASTER_PORT=${MASTER_PORT:-$((29500 + ${SLURM_JOB_ID:-0} % 10000))}
exec "$@"
