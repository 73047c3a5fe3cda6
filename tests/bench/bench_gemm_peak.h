// bench_gemm_peak.h — the reference GEMM rates the benchmarks divide by, measured in the same run:
// what the bare library reaches on the same hardware, so "model / GEMM" says how much of the
// achievable rate the model's step keeps (the CPU's sgemm; the GPU's best cuBLASLt bf16 plan).
#ifndef S1C_BENCH_GEMM_PEAK_H
#define S1C_BENCH_GEMM_PEAK_H

// Best-of-reps OpenBLAS sgemm rate (GFLOP/s) on n x n x n, fp32 row-major C = A·B; random inputs.
// -1 with an s1c_err message when the buffers cannot be allocated.
double s1c_bench_sgemm_gflops(int n, int reps);

// The best bf16 rate (TFLOP/s) cuBLASLt reaches for y[n, m] = x[n, k] · w[m, k]ᵀ (the layout of
// the backend's matmul_fwd: bf16 in and out, fp32 compute) on the current CUDA device: every
// candidate of its heuristic (up to 16, 64 MiB workspace) is timed (best of `reps` after warm-up)
// and the fastest counts. *n_algos (may be NULL) receives the candidates tried. -1 with an s1c_err
// message on any CUDA / cuBLASLt failure. Defined only in CUDA builds (bench_gemm_peak_cuda.c).
double s1c_bench_cublaslt_best_tflops(int m, int n, int k, int reps, int *n_algos);

#endif
