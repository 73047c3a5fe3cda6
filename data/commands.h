// commands.h — the subcommands of s1c-data. Each returns the process exit status.
// Add a command: declare it here and list it in S1C_DATA_SUBCOMMANDS.
#ifndef S1C_DATA_COMMANDS_H
#define S1C_DATA_COMMANDS_H

int s1c_cmd_tokenize(int argc, char **argv);
int s1c_cmd_detokenize(int argc, char **argv);
int s1c_cmd_synth(int argc, char **argv);
int s1c_cmd_curate(int argc, char **argv);
int s1c_cmd_pack(int argc, char **argv);
int s1c_cmd_stats(int argc, char **argv);
int s1c_cmd_control(int argc, char **argv);

#define S1C_DATA_SUBCOMMANDS                                                             \
    {"tokenize", s1c_cmd_tokenize, "JSONL {\"text\"} on stdin -> {\"ids\"} on stdout"},     \
    {"detokenize", s1c_cmd_detokenize, "JSONL {\"ids\"} on stdin -> {\"text\"} on stdout"},     \
    {"synth", s1c_cmd_synth, "synthetic pool in the s1 schema (multi-step arithmetic)"},        \
    {"curate", s1c_cmd_curate, "quality -> difficulty -> diversity selection (s1K)"},            \
    {"pack", s1c_cmd_pack, "tokenize in the s1 format into a packed HDF5 file (zstd)"},          \
    {"stats", s1c_cmd_stats, "samples, tokens, length percentiles of a packed file"},                \
    {"control", s1c_cmd_control, "token-/step-conditional control training records (Table 3)"},

#endif
