#!/usr/bin/env bash
# balance: sequences vs tokens (context parallelism) on NP CPU ranks, measured with s1c-train,
# beside the planner's prediction for the same data and this CPU's rates.
#
# A 12.6M-parameter Qwen2 (hidden 384, 6 layers, 6 heads / 2 KV, intermediate 1024, vocab 8192,
# random init), STEPS steps of one sequence per rank (global batch = NP, the paper's layout) over
# s1K-like lengths scaled down 10x (log-normal, median 370, sigma 0.7, 64..2048 tokens; one epoch
# of NP x STEPS samples). Each mode's mean step time over the run (s1c-train's metrics.jsonl,
# first step excluded) next to --plan's mean for the same steps, whose GEMM and attention rates are
# this CPU's (bench_cpu_rates, one thread per rank) and whose "NVLink" is shared memory.
#   tests/bench/bench_train_balance.sh BUILD_DIR [NP] [STEPS] [THREADS] [WORK_DIR]
set -euo pipefail
build=${1:?usage: bench_train_balance.sh BUILD_DIR [NP] [STEPS] [THREADS] [WORK_DIR]}
np=${2:-2}
steps=${3:-12}
threads=${4:-1}
work=${5:-/tmp/s1c_bench_train_balance}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(cd "$build/bin" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
rm -rf "$work" && mkdir -p "$work" && cd "$work"
cat > config.json <<'JSON'
{"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 384, "intermediate_size": 1024,
 "num_hidden_layers": 6, "num_attention_heads": 6, "num_key_value_heads": 2, "vocab_size": 8192,
 "max_position_embeddings": 4096, "rope_theta": 1000000.0, "rms_norm_eps": 1e-06, "tie_word_embeddings": false,
 "hidden_act": "silu", "sliding_window": null, "use_sliding_window": false, "rope_scaling": null,
 "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}
JSON
"$bin/s1c-model-init" --config-json config.json --seed 0 --out model | tail -n 1
"$bin/bench_lengths_h5" --out data.h5 --n $((np * steps)) --median 370 --sigma 0.7 --min 64 --max 2048 --vocab 8192
rates=$("$bin/bench_cpu_rates" config.json 512 | tee /dev/stderr | tail -n 1)
gemm=${rates#gemm_tflops=}; gemm=${gemm%% *}
attn=${rates##*attn_tflops=}
common=(--config "$root/configs/tiny.yaml" --set model.path=model --set data.path=data.h5
        --set data.block_size=2048 --set train.epochs=1 --set train.global_batch_size="$np"
        --set train.micro_batch_size=1 --set train.recompute=true --set train.precision=fp32
        --set output.export=false --set log.progress=false --set optim.warmup_ratio=0)
declare -A measured
for mode in sequences tokens; do
  mpirun -np "$np" --oversubscribe --bind-to none "$bin/s1c-train" "${common[@]}" --set output.dir="run-$mode" \
    --set train.balance="$mode" | tail -n 1
  # mean step_s over the steps after the first (warm-up)
  measured[$mode]=$(sed -n 's/.*"step":\([0-9]*\),.*"step_s":\([0-9.e+-]*\),.*/\1 \2/p' "run-$mode/metrics.jsonl" |
                    awk '$1 > 1 {s += $2; n++} END {printf "%.4f", s / n}')
done
plan=$("$bin/s1c-train" --plan "${common[@]}" --set output.dir=plan --gpus "$np" --gpus-per-node "$np" \
       --set cluster.nodes=1 --nvlink-gbs 5 --gemm-tflops "$gemm" --attn-tflops "$attn" --peak-tflops "$gemm" \
       --gpu-mem-gb 1000 --set cluster.reserve_gb=0.001)
echo "$plan" | sed -n '/^balance:/,/rank imbalance/p'
pred_s=$(echo "$plan" | awk '/^  mean / {print $2}')
pred_t=$(echo "$plan" | awk '/^  mean / {print $3}')
echo "== $np ranks x $threads thread(s), $steps steps (mean step after the first; planner: mean of all steps)"
printf '%-10s %12s %12s\n' "balance" "measured s" "planned s"
printf '%-10s %12s %12s\n' sequences "${measured[sequences]}" "$pred_s" tokens "${measured[tokens]}" "$pred_t"
awk -v a="${measured[sequences]}" -v b="${measured[tokens]}" -v c="$pred_s" -v d="$pred_t" \
  'BEGIN {printf "tokens / sequences: measured %.3f, planned %.3f\n", b / a, d / c}'
uptime
