#!/usr/bin/env bash
# Rerun the analysis steps (aggregate, figures, tables, report) of a grid on its MC result files, after a
# change to the analysis code; nothing is trained or evaluated again. tests/test_committed_results.py
# checks that the committed outputs are what this makes.
#   tools/reanalyse.sh cpu [snakemake options]
set -euo pipefail
name=${1:?usage: tools/reanalyse.sh GRID [snakemake options]}
shift
cd "$(dirname "$0")/.."
# mtime triggers only: the training and evaluation jobs' code or parameters may have changed since they ran
exec snakemake --cores 2 --configfile "config/$name.yaml" --rerun-triggers mtime --forcerun aggregate \
  --allowed-rules checked_config aggregate figure table beta_table report report_html "$@"
