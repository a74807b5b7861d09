#!/usr/bin/env bash
# Run HERE (the CPU machine, with network and ./.venv) before the GPU call: collects into bench/gpu/.carry/ (git-ignored)
# what run.sh needs on a machine that has torch + transformers but no DeepSpeed, no pydantic and no network:
#   wheels/             deepspeed (pure Python, the .venv's version) + the dependencies the GPU image lacks, as cp312 wheels
#   smollm2-tokenizer/  the embedded student tokenizer (chat template included)
#   minilm-shape/       the EPITOME encoder's config + tokenizer (no weights)
#   epitome/            a copy of the EPITOME CSVs, only if EPITOME_DATA (default /work/shared/data/epitome) has them
#
#   bash bench/gpu/prepare.sh        then: device run, command "bash bench/gpu/run.sh", carry ["bench/gpu/.carry"]
set -euo pipefail
cd "$(dirname "$0")/../.."

PY=${PY:-.venv/bin/python}
CARRY=bench/gpu/.carry
TMP=bench/gpu/.carry.tmp
EPITOME_DATA=${EPITOME_DATA:-/work/shared/data/epitome}
# What deepspeed and distill's light modules import that the GPU image does not have (see the device notes' package list).
# typing-extensions is there, but pydantic needs a newer one than it may have; versions are the .venv's, so it is what tests ran.
DEPS="pydantic pydantic-core annotated-types typing-inspection typing-extensions hjson"

version() { "$PY" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$1"; }

rm -rf "$TMP"
mkdir -p "$TMP/wheels"
"$PY" -m pip wheel -q --no-deps "deepspeed==$(version deepspeed)" -w "$TMP/wheels"
for dep in $DEPS; do
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$TMP/wheels" "$dep==$(version "$dep")"
done
HF_HUB_OFFLINE=1 "$PY" -m bench.gpu.carry "$TMP" --epitome "$EPITOME_DATA"

rm -rf "$CARRY"
mv "$TMP" "$CARRY"
ls -1 "$CARRY/wheels"
du -sh "$CARRY"
echo "ready: the device call carries $CARRY (limit 64 MiB with the working tree)"
