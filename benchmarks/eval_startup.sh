#!/usr/bin/env bash
# What an evaluate job spends beyond its Monte-Carlo (MC) work: interpreter, imports, device, test-set load,
# model build, provenance, writing. On the CPU with real Fashion-MNIST, narrow models (width 0.125: the MC work
# small, everything else as at full width), R = 2 runs at sigma 0 over the 10k test images; each process under
# cProfile, MC work = mc_evaluate's cumulative time, start-up = the process's wall time less that.
#   benchmarks/eval_startup.sh [--before COMMIT] [--reps 3]
# Scenarios, 4 models (2 VGG-8, 2 ResNet-18): one model per process without the cached test split, with it, and
# the 4 models in one process with it; --before adds one model per process with the code of COMMIT (git archive).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
BEFORE="" REPS=3 PYTHON=${PYTHON:-python} FASHION_MNIST=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
while [ $# -gt 0 ]; do
  case $1 in
    --before) BEFORE=$2; shift ;;
    --reps) REPS=$2; shift ;;
    *) echo "eval_startup.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT
here=$PWD
mkdir -p "$work/data/FashionMNIST/raw" "$work/nocache"
for f in "$FASHION_MNIST"/*-ubyte.gz; do gzip -dc "$f" > "$work/data/FashionMNIST/raw/$(basename "$f" .gz)"; done
ln -s ../data/FashionMNIST "$work/nocache/FashionMNIST"  # the same files, no neft-cache beside them
export PYTHONPATH=$here
"$PYTHON" -m neft fetch fashion_mnist --data-dir "$work/data" --no-download --out "$work/fetch.json" > /dev/null
models=()
for model in vgg8 resnet18; do
  for seed in 0 1; do
    out=$work/runs/$model/seed$seed
    "$PYTHON" -m neft train --model "$model" --dataset fashion_mnist --method noise --sigma-d 0.1 --seed "$seed" \
      --width 0.125 --epochs 1 --train-subset 128 --val-size 128 --val-mc-runs 1 --data-dir "$work/data" \
      --no-download --num-workers 0 --out "$out" > /dev/null 2>&1
    models+=("$out/model.pt")
  done
done

# one_process CODE DATA_DIR MODEL...: "wall mc" seconds of one evaluate process over the models
one_process() {
  local code=$1 data=$2 start end
  shift 2
  local outs=() && for m in "$@"; do outs+=("$m.json"); done
  start=$(date +%s.%N)
  PYTHONPATH=$code "$PYTHON" -m cProfile -o "$work/prof" -m neft evaluate --model "$@" --out "${outs[@]}" \
    --sigmas 0 --runs 2 --data-dir "$data" --no-download --device cpu > /dev/null 2>&1
  end=$(date +%s.%N)
  "$PYTHON" -c "
import pstats, sys
mc = sum(v[3] for k, v in pstats.Stats(sys.argv[1]).stats.items() if k[2] == 'mc_evaluate')
print(float(sys.argv[3]) - float(sys.argv[2]), mc)" "$work/prof" "$start" "$end"
}

# scenario LABEL PER_PROCESS(1|all) CODE DATA_DIR: median over REPS of the 4 models' wall, MC and start-up
scenario() {
  local label=$1 per=$2 code=$3 data=$4 rep
  for rep in $(seq "$REPS"); do
    if [ "$per" = 1 ]; then
      for m in "${models[@]}"; do one_process "$code" "$data" "$m"; done
    else
      one_process "$code" "$data" "${models[@]}"
    fi | awk -v rep="$rep" '{ wall += $1; mc += $2 } END { print rep, wall, mc }'
  done | sort -k2 -n | awk -v label="$label" -v reps="$REPS" 'NR == int((reps + 1) / 2) {
    printf "| %-52s | %6.1f | %5.1f | %6.1f | %5.1f |\n", label, $2, $3, $2 - $3, ($2 - $3) / 4 }'
}

echo "# evaluate start-up, 4 models, $(nproc) cores, torch $("$PYTHON" -c 'import torch; print(torch.__version__)')," \
  "commit $(git rev-parse --short HEAD), $(date +%F), median of $REPS"
echo "| scenario | wall s | MC s | beyond MC s | per model s |"
echo "|---|---:|---:|---:|---:|"
if [ -n "$BEFORE" ]; then
  mkdir -p "$work/before" && git archive "$BEFORE" neft | tar -x -C "$work/before"
  scenario "$BEFORE: one model per process, no cache" 1 "$work/before" "$work/nocache"
fi
scenario "one model per process, no cache" 1 "$here" "$work/nocache"
scenario "one model per process, cached test split" 1 "$here" "$work/data"
scenario "4 models in one process, cached test split" all "$here" "$work/data"
