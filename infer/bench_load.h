// bench_load.h — benchmark files as the field exports them: JSONL (one problem per line), one
// JSON array of records (pandas' default to_json), or CSV with a header row (a file named
// *.csv: RFC 4180 quoting, multi-line fields, see csv_read.h — gpqa_diamond.csv as downloaded):
//   aime : id / problem / answer            (also ID / Problem / Answer; answer may be a number;
//                                            s1's aime24_nofigures rows: id, problem, solution,
//                                            answer, url, year — the extra fields are ignored)
//   math : problem / solution / answer / subject / level / unique_id  (MATH-500)
//   gpqa : Question / Correct Answer / Incorrect Answer 1..3 (GPQA Diamond; optional Record ID)
// GPQA choices are shuffled per problem with a generator seeded from (seed, line index) and the
// permutation is kept, so the same seed shows every model the same lettering.
#ifndef S1C_INFER_BENCH_LOAD_H
#define S1C_INFER_BENCH_LOAD_H

#include <stdint.h>

#include "s1c_err.h"

typedef enum { S1C_BENCH_AIME = 0, S1C_BENCH_MATH = 1, S1C_BENCH_GPQA = 2 } s1c_bench_format;

typedef struct {
    char *id;        // the record's id, or "<line number>" when the format has none
    char *question;  // text given to the model (GPQA: question + lettered choices)
    char *gold;      // AIME: integer text; MATH: LaTeX answer; GPQA: the correct letter
    char *subject;   // MATH only (may be NULL)
    int level;       // MATH only (0 when absent)
    int perm[4];     // GPQA: the choice shown as letter k is original choice perm[k] (0 = correct)
} s1c_problem;

typedef struct {
    s1c_bench_format fmt;
    int n;
    s1c_problem *items;  // [n]
} s1c_benchmark;

s1c_status s1c_bench_parse_format(const char *s, s1c_bench_format *fmt);
const char *s1c_bench_format_name(s1c_bench_format fmt);
// Loads a benchmark file. Blank lines are skipped; an empty file, a malformed line or a missing or
// mistyped field is an error naming the file, line (JSON array: element) and field; so is a
// string holding \u0000 (it would decode to a NUL and cut the text short).
s1c_status s1c_bench_load(const char *path, s1c_bench_format fmt, uint64_t seed, s1c_benchmark *out);
// The same from text already in memory (`name` is used in messages).
s1c_status s1c_bench_parse(const char *name, const char *text, s1c_bench_format fmt, uint64_t seed,
                           s1c_benchmark *out);
void s1c_bench_free(s1c_benchmark *b);

#endif
