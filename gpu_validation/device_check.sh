#!/usr/bin/env bash
# One prepared GPU check for a session with a short device lease (~15 min in all):
#   1. ResNet-18 throughput/MFU per speed option (~1-2 min, torch.compile included),
#   2. the `small` profiles of the quicker jobs, each under its own time limit,
#   3. the rest only if time is left (results so far are kept: both scripts write after each item).
# Usage (from the repository root, torch with CUDA installed):  bash gpu_validation/device_check.sh OUT_DIR
# Budget: BUDGET_S (default 540 s) for the whole script. A CPU dry run (used by the tests):
#   TP_ARGS="--device cpu --k 2 --batch 4 --steps 1 --warmup 0" MEASURE_ARGS="--profile smoke --device cpu" JOBS=real_vs_ideal \
#   bash gpu_validation/device_check.sh /tmp/dry
#
# On this workplace's lent H200 (its python3 has torch+CUDA, numpy, scipy, sympy, matplotlib,
# scikit-learn, tqdm, hypothesis; not mnist1d; ../shared does not travel), prepare here once:
#   echo /.carry/ >> .git/info/exclude; mkdir -p .carry/whl && cp -r ../shared/data/mnist .carry/mnist
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 -d .carry/whl mnist1d
# then run with carry [".carry"] and the command
#   pip install -q --no-index --no-deps --target /tmp/site .carry/whl/*.whl; export PYTHONPATH=/tmp/site:.
#   CLAIMCHECK_MNIST_DIR=.carry/mnist bash gpu_validation/device_check.sh $OUT
set -uo pipefail
OUT="${1:-runs/device-check}"
BUDGET_S="${BUDGET_S:-540}"
PY="${PYTHON:-$(command -v python3 || command -v python)}"
TP_ARGS="${TP_ARGS:-}"
MEASURE_ARGS="${MEASURE_ARGS:-}"
JOBS="${JOBS:-pac_bayes_mnist feature_calibration real_vs_ideal norm_growth deep_double_descent hypersphere}"   # quickest first
start=$(date +%s)
left() { echo $(( BUDGET_S - ($(date +%s) - start) )); }
mkdir -p "$OUT"
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'NO CUDA')" | tee "$OUT/env.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >> "$OUT/env.txt" 2>&1 || true
timeout 150 "$PY" -m gpu_validation.throughput --out "$OUT/throughput" $TP_ARGS 2>&1 | tail -12
for job in $JOBS; do
  t=$(left)
  if [ "$t" -lt 60 ]; then echo "skipped $job: ${t}s left"; continue; fi
  timeout "$t" "$PY" -m gpu_validation.measure_small --jobs "$job" --out "$OUT/measure-$job" --resume $MEASURE_ARGS 2>&1 | tail -3
done
echo "device_check done in $(( $(date +%s) - start )) s"
