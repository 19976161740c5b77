#!/usr/bin/env bash
# Run there, in the checkout's root, on a GPU machine with PyTorch but no network, inside a time limit
# per command (this workplace's device machines: 10 minutes). Prepared here by tools/gpu/prepare.sh.
#   tools/gpu/run.sh --commit SHA [--first | --measure [--no-grid]] [--smoke] [--no-check] [--minutes 9.5]
#                    [--configfile config/quick.yaml] [--cores N]
# SHA: `git rev-parse HEAD` of the checkout sent (commit first): the copy there has no .git, and every
# result file records it as its git_commit.
# It installs the carried wheels, unpacks the carried Fashion-MNIST and, on a GPU, runs
# benchmarks/device_check.py (--no-check skips it: only after a call at the same commit passed it); if a
# check fails, the grid is not run.
# --first (the grid: config/gpu-first.yaml unless --configfile): a short check of the fast paths that grid
# uses (no torch.compile); the grid then runs $OUT/first.yaml, the grid's config with the plain path in place
# of each fast path that did not pass (eager steps for the graph step, fp32 MC for bf16); after the grid, with
# the time left, bench.py times VGG-8's steps of the kinds the grid used (bench.json). A later call is the same
# command: it goes on with the grid.
# --measure runs the benchmarks before the grid, each cut at its own time budget
# (BUDGETS below, and never past --minutes), each writing its JSON to $OUT as soon as it has numbers:
#   bench.json          bench.py: eager and graph steps (CPU: eager), MC runs eager and compiled, epoch, memory
#   bench-compile.json  bench.py: VGG-8's torch.compile step against eager (last: compiling is the slowest)
#   sharing.json        sharing.py: K = 1, 2, 4, 8 concurrent VGG-8 W/ Noise trainings
#   precision.json      precision.py: bf16 against TF32, 3 seeds
# (--smoke: a rehearsal on the CPU: the device check there, the benchmarks at tiny sizes, the grid of
# --configfile.) Then, unless --no-grid, the grid runs with Snakemake until it is done or until 75 s before
# --minutes (counted from the script's start) have passed: then
# Snakemake is interrupted, finished runs stay, the runs in flight are lost. Everything the DAG finished
# comes back as $OUT/results.tar.gz (results/<name>, figures/<name>, no models or checkpoints); unpack it here
# with tools/gpu/unpack.sh, commit, and the next call goes on from there. Also in $OUT: run.log (all
# output) and logs.tar.gz (the jobs' logs).
set -uo pipefail
OUT=${OUT:?set OUT to the folder that comes back}
PYTHON=${PYTHON:-python3}
MEASURE=0 FIRST=0 GRID=1 SMOKE=0 CHECK=1 MINUTES=9.5 CONFIGFILE= CORES=$(nproc)
while [ $# -gt 0 ]; do
  case $1 in
    --measure) MEASURE=1 ;;
    --first) FIRST=1 ;;
    --no-grid) GRID=0 ;;
    --smoke) SMOKE=1 ;;
    --no-check) CHECK=0 ;;
    --minutes) MINUTES=$2; shift ;;
    --configfile) CONFIGFILE=$2; shift ;;
    --cores) CORES=$2; shift ;;
    --commit) export NEFT_GIT_COMMIT=$2; shift ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$MEASURE$FIRST" = 11 ] && { echo "run.sh: --first or --measure, not both" >&2; exit 2; }
CONFIGFILE=${CONFIGFILE:-config/$([ "$FIRST" = 1 ] && echo gpu-first || echo quick).yaml}
if [ -z "${NEFT_GIT_COMMIT:-}" ] && ! git rev-parse HEAD > /dev/null 2>&1; then
  echo "run.sh: no .git here, so pass --commit <git rev-parse HEAD of the checkout sent>" >&2; exit 2
fi
exec > >(tee -a "$OUT/run.log") 2>&1
started=$(date +%s)
deadline=$(( started + $(awk -v m="$MINUTES" 'BEGIN { print int(m * 60) }') ))
say() { echo "[run.sh +$(( $(date +%s) - started ))s] $*"; }

# Seconds each part may take at most (guesses from the H100 call of 2026-11-25: 37 s for the 6 checks then,
# 13 s of them compiling, 113 s for bench.py with eager steps only; the graph and compile checks and steps are
# new). short_check: --first's device check, without compiling.
declare -A BUDGETS=([device_check]=120 [short_check]=60 [bench]=140 [sharing]=90 [precision]=110 [bench-compile]=90)
# bounded NAME CMD...: CMD cut at its budget or 20 s before the deadline, whichever comes first (--smoke: at the
# deadline; the budgets are a GPU's, and a rehearsal on a slow or busy CPU is not cut at them)
bounded() {
  local name=$1 limit=$(( deadline - $(date +%s) - 20 ))
  shift
  [ "$SMOKE" = 0 ] && [ "${BUDGETS[$name]}" -lt "$limit" ] && limit=${BUDGETS[$name]}
  if [ "$limit" -lt 10 ]; then
    say "$name: not run, ${limit}s left before the deadline"; return 124
  fi
  say "$name (at most ${limit}s)"
  timeout -k 10 "$limit" "$@"
  local rc=$?
  say "$name: exit $rc$([ $rc = 124 ] && echo " (cut at ${limit}s)")"
  return $rc
}

if [ -d .whl ]; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl ||
    { say "the carried wheels did not install"; exit 1; }
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
# the rules call `python`: make it this interpreter (a wrapper, not a link, which would lose its venv)
interpreter=$(command -v "$PYTHON") || { say "no $PYTHON here"; exit 2; }
bin=$(mktemp -d) && printf '#!/bin/sh\nexec %s "$@"\n' "$interpreter" > "$bin/python" && chmod +x "$bin/python" &&
  export PATH=$bin:$PATH

raw=data/FashionMNIST/raw
if [ -d .data/fashion-mnist ] && [ ! -e "$raw/t10k-labels-idx1-ubyte" ]; then
  mkdir -p "$raw" && for f in .data/fashion-mnist/*.gz; do gzip -dc "$f" > "$raw/$(basename "$f" .gz)"; done
fi
say "$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"
python -c "import torch, snakemake; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'snakemake', snakemake.__version__)" ||
  { say "torch or snakemake missing"; exit 1; }

# setting KEY...: a key's value (e.g. name; train step) in $CONFIGFILE or, where it has none, the file it `extends`
setting() {
  python - "$CONFIGFILE" "$@" <<'PY'
import sys, yaml
path, keys = sys.argv[1], sys.argv[2:]
while path:
    config = yaml.safe_load(open(path))
    value = config
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if value is not None:
        print(value)
        break
    path = config.get("extends")
PY
}

if [ "$SMOKE" = 1 ]; then  # the same calls at tiny sizes, on the CPU (tests/test_workflow.py)
  tiny=(--width 0.0625 --device cpu)
  small=(--rounds 1 --mc-images 64 "${tiny[@]}")  # bench.py's
  check=(--device cpu)
  sharing=(--jobs 1 2 --dataset synthetic --train-subset 64 --val-size 32 --epochs 2 "${tiny[@]}")
  precision=(--seeds 0 --dataset synthetic --train-subset 64 --val-size 32 --epochs 1 --runs 2 "${tiny[@]}")
else
  small=() check=()
  sharing=(--jobs 1 2 4 8)
  # 5 epochs of the whole training split: 6 trainings at once, then one evaluation of the 6 models
  precision=(--seeds 0 1 2 --epochs 5)
fi
if [ "$FIRST" = 1 ]; then  # only the grid's fast paths, and the grid on those that passed
  part=short_check check+=(--no-compile --grid "$CONFIGFILE" "$OUT/first.yaml")
else
  part=device_check
fi
if [ "$CHECK" = 1 ] && { [ "$SMOKE" = 1 ] || python -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; }; then
  bounded "$part" python benchmarks/device_check.py "${check[@]}" || { say "a device check failed: the grid is not run"; GRID=0; }
  [ -f "$OUT/first.yaml" ] && CONFIGFILE=$OUT/first.yaml
fi
if [ "$MEASURE" = 1 ]; then
  if [ "$SMOKE" = 1 ]; then
    bench=(--models vgg8 --steps eager --no-reference --no-mc-compile "${small[@]}")
    compiled=(--steps eager --no-reference "${small[@]}")
  else
    bench=(--steps eager graph --mc-compile)
    compiled=(--steps eager compile --no-reference --no-mc-compile)
  fi
  bounded bench python benchmarks/bench.py "${bench[@]}" --configfile "$CONFIGFILE" --json "$OUT/bench.json"
  bounded sharing python benchmarks/sharing.py "${sharing[@]}" --json "$OUT/sharing.json"
  bounded precision python benchmarks/precision.py "${precision[@]}" --json "$OUT/precision.json"
  bounded bench-compile python benchmarks/bench.py --models vgg8 "${compiled[@]}" --no-estimate \
    --json "$OUT/bench-compile.json"
fi

grid() {  # the grid until it is done or 75 s before the deadline, then what finished packed
  local name left rc
  name=$(setting name)
  [ -n "$name" ] || { say "cannot read the grid's name from $CONFIGFILE"; return 2; }
  # the grid gets what is left before the deadline, less 75 s to stop it, list what is left and pack
  left=$(( deadline - $(date +%s) - 75 ))
  if [ "$left" -lt 10 ]; then
    say "only ${left}s left of --minutes $MINUTES: the grid is not run"
  else
    say "snakemake $CONFIGFILE ($name) for at most ${left}s on $CORES cores"
    # SIGINT at the deadline: Snakemake stops its jobs and removes their incomplete outputs
    timeout -s INT -k 45 "$left" python -m snakemake --profile profiles/local --configfile "$CONFIGFILE" \
      --cores "$CORES" --scheduler greedy
    rc=$?
    say "snakemake exit $rc$([ $rc = 124 ] && echo ' (deadline)')"
  fi
  python -m snakemake --configfile "$CONFIGFILE" -n --quiet rules --rerun-incomplete 2>&1 | grep -A30 "^Job stats" ||
    say "nothing left to run"
  [ -d "results/$name" ] || { say "no results/$name to pack"; return 1; }

  # what to commit (no models, checkpoints or logs), and the logs apart, to read
  tar czf "$OUT/results.tar.gz" --exclude='*.pt' --exclude='*.pt.tmp*' --exclude='logs' \
    "results/$name" $([ -d "figures/$name" ] && echo "figures/$name")
  [ -d "results/$name/logs" ] && tar czf "$OUT/logs.tar.gz" "results/$name/logs"
  say "packed $(tar tzf "$OUT/results.tar.gz" | grep -c 'mc/.*\.json$') MC results into results.tar.gz ($(du -h "$OUT/results.tar.gz" | cut -f1))"
}

status=0
if [ "$GRID" = 1 ]; then grid; status=$?; else say "no grid in this call"; fi
if [ "$FIRST" = 1 ]; then  # with the time left: VGG-8's steps of the kinds the grid used
  bounded bench python benchmarks/bench.py --models vgg8 --steps eager $([ "$(setting train step)" = graph ] && echo graph) \
    --no-reference --no-mc-compile --no-estimate "${small[@]}" --json "$OUT/bench.json"
fi
exit $status
