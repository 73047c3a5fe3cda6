#!/usr/bin/env bash
# The numerical effect of train.reduce_dtype bf16 (gradients reduce-scattered in bf16) against
# fp32 on the cpu-bf16 backend: the toy model (0.84M parameters, experiments/toy-model) trained
# from the same initial weights on the same synthetic data for STEPS steps on NP ranks, both ways;
# then the loss curves and final weights compared (bench_compare_runs).
#   tests/bench/bench_reduce_dtype.sh BUILD_DIR [STEPS] [NP] [WORK_DIR]
set -euo pipefail
build=${1:?usage: bench_reduce_dtype.sh BUILD_DIR [STEPS] [NP] [WORK_DIR]}
steps=${2:-300}
np=${3:-4}
work=${4:-/tmp/s1c_bench_reduce_dtype}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(cd "$build/bin" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
rm -rf "$work" && mkdir -p "$work" && cd "$work"
"$bin/s1c-data" synth --n 6000 --seed 0 --max-steps 8 --out pool.jsonl | tail -n 1
"$bin/s1c-data" pack --tokenizer "$root/experiments/toy-tokenizer" --in pool.jsonl --out pool.h5 --skip-bad | tail -n 1
"$bin/s1c-model-init" --config-json "$root/experiments/toy-model/config.json" --seed 0 \
  --tokenizer "$root/experiments/toy-tokenizer" --out init
for dt in fp32 bf16; do
  mpirun -np "$np" --oversubscribe --bind-to none "$bin/s1c-train" --config "$root/configs/quickstart-sft.yaml" \
    --device cpu-bf16 --set model.path=init --set data.path=pool.h5 --set output.dir="run-$dt" \
    --set train.precision=bf16 --set train.reduce_dtype="$dt" --set train.micro_batch_size=$((16 / np)) \
    --set train.epochs=2 --set train.max_steps="$steps" --set log.progress=false --set optim.lr=1e-3 | tail -n 2
done
# the noise floor: fp32 reduction on NP / 2 ranks (the same objective, another summation order)
half=$((np / 2))
mpirun -np "$half" --oversubscribe --bind-to none "$bin/s1c-train" --config "$root/configs/quickstart-sft.yaml" \
  --device cpu-bf16 --set model.path=init --set data.path=pool.h5 --set output.dir=run-fp32-half \
  --set train.precision=bf16 --set train.reduce_dtype=fp32 --set train.micro_batch_size=$((16 / np)) \
  --set train.epochs=2 --set train.max_steps="$steps" --set log.progress=false --set optim.lr=1e-3 | tail -n 2
echo "== reduce_dtype bf16 (A) vs fp32 (B), $np ranks, cpu-bf16:"
"$bin/bench_compare_runs" run-bf16 run-fp32
echo "== noise floor: fp32 on $half ranks (A) vs fp32 on $np ranks (B):"
"$bin/bench_compare_runs" run-fp32-half run-fp32
