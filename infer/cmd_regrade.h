// cmd_regrade.h — `s1c-infer regrade --samples samples.jsonl [--out DIR]`.
#ifndef S1C_INFER_CMD_REGRADE_H
#define S1C_INFER_CMD_REGRADE_H

// argv[0] is "regrade". Returns the process exit status.
int s1c_cmd_regrade(int argc, char **argv);

#endif
