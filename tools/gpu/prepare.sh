#!/usr/bin/env bash
# Run here, before a run on a GPU machine that has PyTorch but no network and no Snakemake (this
# workplace's device machines). It writes two git-ignored folders to carry there with the checkout:
#   .whl/   wheels of Snakemake (and jsonschema) for that machine's Python, minus what its image has
#   .data/  Fashion-MNIST's gzipped idx files (Debian's dataset-fashion-mnist), 30 MB
# Then, there: tools/gpu/run.sh (see its header). Sizes: about 16 MB + 30 MB of the 64 MB a call carries.
#   tools/gpu/prepare.sh                    # Python 3.12, manylinux x86-64 (the device machines)
#   PY_VERSION=3.11 tools/gpu/prepare.sh    # for a rehearsal on this machine
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
PY_VERSION=${PY_VERSION:-3.12}
PYTHON=${PYTHON:-.venv/bin/python}
FASHION_MNIST=/usr/share/datasets/fashion-mnist

# Snakemake's own dependencies that the GPU image already holds (KINDS.md's package list, 2026-11-17);
# pulp is left out too (16 MB): run.sh schedules with --scheduler greedy, which does not import it.
PRESENT="attrs certifi charset-normalizer idna jinja2 markupsafe packaging psutil pyyaml requests tabulate
typing-extensions urllib3 wrapt pulp"

# Every distribution snakemake and jsonschema need on Linux/CPython, at the versions installed here.
needed=$("$PYTHON" - "$PY_VERSION" "$PRESENT" <<'EOF'
import importlib.metadata as md, re, sys
from packaging.requirements import Requirement
env = {"extra": "", "python_version": sys.argv[1], "python_full_version": sys.argv[1] + ".0", "os_name": "posix",
       "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
       "implementation_name": "cpython", "platform_python_implementation": "CPython"}
present, found = set(sys.argv[2].split()), {}
def walk(name):
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in found or key in present:
        return
    found[key] = md.version(name)
    for spec in md.requires(name) or []:
        req = Requirement(spec)
        if not req.marker or req.marker.evaluate(env):
            walk(req.name)
for root in ("snakemake", "jsonschema"):
    walk(root)
print(" ".join(f"{k}=={v}" for k, v in sorted(found.items())))
EOF
)

rm -rf .whl && mkdir -p .whl
for pin in $needed; do
  # a binary wheel for that Python and platform; a pure-Python package published only as an sdist
  # (connection_pool) is built into a wheel here
  "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version "$PY_VERSION" --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "$pin" 2>/dev/null ||
    "$PYTHON" -m pip wheel -q --no-deps -w .whl "$pin" 2>/dev/null ||
    { echo "prepare.sh: no wheel for $pin (Python $PY_VERSION)" >&2; exit 1; }
done

rm -rf .data && mkdir -p .data/fashion-mnist
if [ -d "$FASHION_MNIST" ]; then
  cp "$FASHION_MNIST"/*-ubyte.gz .data/fashion-mnist/
else
  echo "prepare.sh: $FASHION_MNIST missing: apt-get install -y dataset-fashion-mnist" >&2; exit 1
fi
echo "wheels: $(ls .whl | wc -l) in .whl ($(du -sh .whl | cut -f1)); data: .data ($(du -sh .data | cut -f1));" \
     "carry [\".whl\", \".data\"]"
