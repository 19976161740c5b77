#!/usr/bin/env bash
# Run there, in the checkout's root, on a GPU machine with PyTorch but no network, inside a time limit
# per command (this workplace's device machines: 10 minutes). Prepared here by tools/gpu/prepare.sh.
#   tools/gpu/run.sh --commit SHA [--bench] [--minutes 9] [--configfile config/quick.yaml] [--cores N]
# SHA: `git rev-parse HEAD` of the checkout sent (commit first): the copy there has no .git, and every
# result file records it as its git_commit.
# It installs the carried wheels, unpacks the carried Fashion-MNIST, optionally runs
# benchmarks/bench.py, then runs the grid with Snakemake until it is done or until 75 s before
# --minutes (counted from its start, the whole script) have passed: then Snakemake is interrupted,
# finished runs stay, the runs in flight are lost. Everything the DAG
# finished comes back as $OUT/results.tar.gz (results/<name>, figures/<name>, no models or
# checkpoints); unpack it here with tools/gpu/unpack.sh, commit, and the next call goes on from there.
# Also in $OUT: run.log (all output), logs.tar.gz (the jobs' logs), bench.json with --bench. On a GPU,
# benchmarks/device_check.py runs first: if a fast path fails its check, the grid is not run.
set -uo pipefail
OUT=${OUT:?set OUT to the folder that comes back}
PYTHON=${PYTHON:-python3}
BENCH=0 MINUTES=9 CONFIGFILE=config/quick.yaml CORES=$(nproc)
while [ $# -gt 0 ]; do
  case $1 in
    --bench) BENCH=1 ;;
    --minutes) MINUTES=$2; shift ;;
    --configfile) CONFIGFILE=$2; shift ;;
    --cores) CORES=$2; shift ;;
    --commit) export NEFT_GIT_COMMIT=$2; shift ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "${NEFT_GIT_COMMIT:-}" ] && ! git rev-parse HEAD > /dev/null 2>&1; then
  echo "run.sh: no .git here, so pass --commit <git rev-parse HEAD of the checkout sent>" >&2; exit 2
fi
exec > >(tee -a "$OUT/run.log") 2>&1
started=$(date +%s)
say() { echo "[run.sh +$(( $(date +%s) - started ))s] $*"; }

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

if python -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
  say "device check"
  python benchmarks/device_check.py || { say "a device check failed: the grid is not run"; exit 1; }
fi
if [ "$BENCH" = 1 ]; then
  say "benchmark"
  timeout 300 python benchmarks/bench.py --json "$OUT/bench.json" || say "benchmark failed or ran out of time (rc $?)"
fi

name=$(python - "$CONFIGFILE" <<'PY'
import sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
while "name" not in config:  # a config that `extends` another takes its name from there
    config = yaml.safe_load(open(config["extends"]))
print(config["name"])
PY
) || { say "cannot read the grid's name from $CONFIGFILE"; exit 2; }
# the grid gets what is left of --minutes, less 75 s to stop it, list what is left and pack
left=$(( $(awk -v m="$MINUTES" 'BEGIN { print int(m * 60) }') - ($(date +%s) - started) - 75 ))
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
[ -d "results/$name" ] || { say "no results/$name to pack"; exit 1; }

# what to commit (no models, checkpoints or logs), and the logs apart, to read
tar czf "$OUT/results.tar.gz" --exclude='*.pt' --exclude='*.pt.tmp*' --exclude='logs' \
  "results/$name" $([ -d "figures/$name" ] && echo "figures/$name")
[ -d "results/$name/logs" ] && tar czf "$OUT/logs.tar.gz" "results/$name/logs"
say "packed $(tar tzf "$OUT/results.tar.gz" | grep -c 'mc/.*\.json$') MC results into results.tar.gz ($(du -h "$OUT/results.tar.gz" | cut -f1))"
