#!/usr/bin/env bash
# Run here, after tools/gpu/run.sh: puts the finished runs it brought back into the checkout, to commit.
#   tools/gpu/unpack.sh /path/to/results.tar.gz
# Only results/<name>/ and figures/<name>/ are taken (<name>: a grid's name, as the config schema allows it, no
# leading dot); models and checkpoints were never packed.
set -euo pipefail
archive=$(realpath "${1:?usage: tools/gpu/unpack.sh results.tar.gz}")
cd "$(git rev-parse --show-toplevel)"
bad=$(tar tzf "$archive" | grep -Ev '^(results|figures)/[A-Za-z0-9_][A-Za-z0-9_.-]*(/|$)' | head -n 3 || true)
[ -z "$bad" ] || { echo "unpack.sh: $archive holds paths outside results/ and figures/: $bad" >&2; exit 2; }
! tar tzf "$archive" | grep -q '\.pt$' || { echo "unpack.sh: $archive holds model files (*.pt)" >&2; exit 2; }
tar xzf "$archive"
echo "unpacked $(tar tzf "$archive" | grep -c 'mc/.*\.json$') MC results; git status:"
git status --short results figures | head -n 20
