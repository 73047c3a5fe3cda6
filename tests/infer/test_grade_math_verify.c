// s1c's grader over Math-Verify's own test suite (tests/fixtures/grade/math_verify_cases.jsonl,
// see its README): every case is graded with the options its test used (extraction targets,
// float rounding, strictness, set/relation comparison) and compared with Math-Verify's verdict.
// Passes when at least 97% agree and every disagreement is explained in docs/grading.md (its id
// appears there); each disagreement is printed.
//
// Usage: test_grade_math_verify CASES.jsonl DOCS.md
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grade/grade.h"
#include "s1c_file.h"

static void show(const char *label, const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (!s) fprintf(stderr, "    %s: (none)\n", label);
    else if (n <= 160) fprintf(stderr, "    %s: %s\n", label, s);
    else fprintf(stderr, "    %s: %.70s … %s\n", label, s, s + n - 80);
}

static const char *str(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s CASES.jsonl DOCS.md\n", argv[0]);
        return 2;
    }
    char *text = NULL, *docs = NULL;
    size_t len, dlen;
    if (s1c_read_file(argv[1], &text, &len) != S1C_OK || s1c_read_file(argv[2], &docs, &dlen) != S1C_OK) {
        fprintf(stderr, "test_grade_math_verify: %s\n", s1c_err_msg());
        return 1;
    }
    int n = 0, agree = 0, undocumented = 0, line_no = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        line_no++;
        cJSON *c = cJSON_Parse(line);
        const cJSON *opt = c ? cJSON_GetObjectItemCaseSensitive(c, "options") : NULL;
        const char *id = c ? str(c, "id") : NULL, *kind = c ? str(c, "kind") : NULL, *pred = c ? str(c, "prediction") : NULL;
        const cJSON *exp = c ? cJSON_GetObjectItemCaseSensitive(c, "expected") : NULL;
        if (!id || !kind || !pred || !cJSON_IsBool(exp) || !cJSON_IsObject(opt)) {
            fprintf(stderr, "%s:%d: a case needs id, kind, prediction, expected (bool), options\n", argv[1], line_no);
            return 1;
        }
        s1c_grade_opts o;
        s1c_grade_opts_default(&o);
        int expected = cJSON_IsTrue(exp), got = 0, ok;
        char *extracted = NULL, letters[32] = "";
        const char *gold = str(c, "gold");
        if (!strcmp(kind, "letter")) {
            const cJSON *s;
            cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(opt, "strings")) {
                if (cJSON_IsString(s) && strlen(s->valuestring) == 1 && strlen(letters) + 1 < sizeof letters)
                    strncat(letters, s->valuestring, 1);
            }
            o.letters = letters;
            s1c_grade_text(S1C_BENCH_GPQA, "", pred, &o, &extracted);
            const char *want = str(c, "extracted");
            got = extracted != NULL;
            ok = want ? (extracted && strcasecmp(extracted, want) == 0) : extracted == NULL;
        } else {
            const cJSON *mt, *prec = cJSON_GetObjectItemCaseSensitive(opt, "precision");
            o.targets = 0;
            cJSON_ArrayForEach(mt, cJSON_GetObjectItemCaseSensitive(opt, "match_types")) {
                if (cJSON_IsString(mt) && !strcmp(mt->valuestring, "latex")) o.targets |= S1C_GRADE_LATEX;
                if (cJSON_IsString(mt) && !strcmp(mt->valuestring, "expr")) o.targets |= S1C_GRADE_EXPR;
            }
            if (cJSON_IsNumber(prec)) o.float_digits = prec->valueint;
            o.strict = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(opt, "strict"));
            o.set_relation = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(opt, "allow_set_relation_comp"));
            got = s1c_grade_text(S1C_BENCH_MATH, gold ? gold : "", pred, &o, &extracted);
            ok = got == expected;
        }
        n++;
        if (getenv("S1C_GRADE_VERBOSE")) {
            fprintf(stderr, "%s %s: expected %d got %d\n", ok ? "agree" : "DIFFER", id, expected, got);
            show("s1c extracted", extracted);
        }
        if (ok) {
            agree++;
        } else {
            int documented = strstr(docs, id) != NULL;
            undocumented += !documented;
            fprintf(stderr, "DISAGREE %s: Math-Verify %d, s1c %d%s\n", id, expected, got,
                    documented ? "" : "  (not explained in the docs)");
            if (gold) show("gold", gold);
            show("prediction", pred);
            show("s1c extracted", extracted);
        }
        free(extracted);
        cJSON_Delete(c);
    }
    double pct = n ? 100.0 * agree / n : 0;
    printf("s1c agrees with Math-Verify on %d/%d cases (%.1f%%); %d disagreement(s), %d not in %s\n", agree, n, pct,
           n - agree, undocumented, argv[2]);
    free(text);
    free(docs);
    return n > 0 && pct >= 97.0 && undocumented == 0 ? 0 : 1;
}
