// bench_bw.h — the machine's read bandwidth now, measured by the benchmark that divides by it
// (bench_decode, bench_wbf16), so a weight-streaming rate and its reference come from one run.
#ifndef S1C_BENCH_BW_H
#define S1C_BENCH_BW_H

// Bytes/s of the fastest plain read of a --bw-mib MiB buffer on all OpenMP threads; prints one line.
double bench_read_bandwidth(int mib);

#endif
