#!/usr/bin/env bash
# One call on the GPU machine does all: install the carried wheels, measure SFT (ZeRO-2, ZeRO-3) with the train/ recipe,
# then (optional) the EPITOME classifier's fit and scoring, and write train_speed.json, epitome_speed.json, gpu.json,
# gpu.md and run.log to $OUT. Prepare the carried folder here first: bash bench/gpu/prepare.sh
#
#   device run: command "bash bench/gpu/run.sh", carry ["bench/gpu/.carry"], timeout_s 540  (about 4-5 min expected; inner limits: 360 s training, 120 s EPITOME)
#
# The machine has Python 3.12 with torch + CUDA, transformers, accelerate, peft, pyarrow; no DeepSpeed, pydantic or network.
# Exit status: that of the training bench (0 = every stage measured); the EPITOME step never fails the run.
set -uo pipefail
cd "$(dirname "$0")/../.."

OUT=${OUT:-bench/gpu/out}
CARRY=${CARRY:-bench/gpu/.carry}
PY=${PY:-python3}
SITE=${SITE:-/tmp/bench-gpu-site}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/run.log") 2>&1  # everything below also lands in $OUT/run.log, which comes back even after a timeout
TEE_PID=$!
trap 'exec 1>&- 2>&-; wait "$TEE_PID" 2>/dev/null' EXIT  # let tee write the last lines before the machine collects $OUT

export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export TORCH_EXTENSIONS_DIR=${TORCH_EXTENSIONS_DIR:-/tmp/bench-gpu-torch-ext} MAX_JOBS=${MAX_JOBS:-16}
PY_BIN=$(dirname "$(command -v "$PY")") && export PATH="$PY_BIN:$PATH"  # the interpreter's ninja, for DeepSpeed's JIT build
if [ -z "${CUDA_HOME:-}" ]; then  # DeepSpeed JIT-builds its fused Adam with nvcc
  if command -v nvcc >/dev/null; then CUDA_HOME=$(dirname "$(dirname "$(command -v nvcc)")"); export CUDA_HOME
  elif [ -x /usr/local/cuda/bin/nvcc ]; then export CUDA_HOME=/usr/local/cuda PATH=/usr/local/cuda/bin:$PATH; fi
fi

echo "== $(date -u '+%F %T') UTC: bench/gpu/run.sh on $(hostname), out=$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv 2>/dev/null || echo "nvidia-smi: not available"
"$PY" --version

if compgen -G "$CARRY/wheels/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$CARRY"/wheels/*.whl \
    || { echo "installing the carried wheels failed"; exit 3; }
  export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  echo "no wheels in $CARRY/wheels (run bash bench/gpu/prepare.sh here first); using what is installed"
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
"$PY" -c "import torch, transformers, deepspeed, pydantic; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available(), '| transformers', transformers.__version__, '| deepspeed', deepspeed.__version__, '| pydantic', pydantic.__version__)" \
  || { echo "the Python stack is incomplete: see above"; exit 3; }
echo "CUDA_HOME=${CUDA_HOME:-unset} nvcc: $(command -v nvcc || echo none)"

# Extra flags for either bench, e.g. TRAIN_ARGS=--tiny EPITOME_ARGS=--tiny for a rehearsal on a CPU machine.
read -r -a TRAIN_EXTRA <<< "${TRAIN_ARGS:-}"
read -r -a EPITOME_EXTRA <<< "${EPITOME_ARGS:-}"
TOKENIZER=()
[ -d "$CARRY/smollm2-tokenizer" ] && TOKENIZER=(--tokenizer "$CARRY/smollm2-tokenizer")

echo "== $(date -u '+%T') SFT speed: ZeRO-2 and ZeRO-3"
timeout 360 "$PY" -m bench.gpu.train_speed --out "$OUT" "${TOKENIZER[@]}" --stages 2,3 --stage-timeout-s 180 "${TRAIN_EXTRA[@]}"
train_rc=$?

echo "== $(date -u '+%T') EPITOME classifier: fit + scoring (optional)"
timeout 120 "$PY" -m bench.gpu.epitome_speed --out "$OUT" --data "$CARRY/epitome" --encoder-shape "$CARRY/minilm-shape" "${EPITOME_EXTRA[@]}" \
  || echo "epitome step: exit $? (figures of the training bench are kept)"

"$PY" -m bench.gpu.report --out "$OUT" || echo "report: exit $?"
echo "== $(date -u '+%T') done: training bench exit $train_rc"
exit "$train_rc"
