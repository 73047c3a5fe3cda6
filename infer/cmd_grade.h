// cmd_grade.h — `s1c-infer grade` (cmd_grade.c): grading JSONL lines without a model.
#ifndef S1C_INFER_CMD_GRADE_H
#define S1C_INFER_CMD_GRADE_H

// argv[0] is "grade". Returns the process exit status.
int s1c_cmd_grade(int argc, char **argv);

#endif
