// The conditional-control training transforms (data/control_data.h): power-of-two bucketing,
// the prompt strings, step counting and the counting-down step delimiters, checked against
// strings written out by hand.
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "control_data.h"

static void check_str(const char *got, const char *want, const char *what) {
    CHECK(got && !strcmp(got, want), "%s: got '%s', want '%s'", what, got ? got : "(null)", want);
}

int main(void) {
    // Figure 10's bucketing: the smallest power of two that holds the trace.
    static const long in[] = {-3, 0, 1, 2, 3, 4, 5, 7, 8, 9, 47, 64, 65, 1000, 5600, 8192, 8193};
    static const long want[] = {1, 1, 1, 2, 4, 4, 8, 8, 8, 16, 64, 64, 128, 1024, 8192, 8192, 16384};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        CHECK(s1c_ctl_pow2_ceil(in[i]) == want[i], "pow2_ceil(%ld) = %ld, want %ld", in[i], s1c_ctl_pow2_ceil(in[i]),
              want[i]);
    CHECK(s1c_ctl_pow2_ceil(1L << 62) == 1L << 62);
    CHECK(s1c_ctl_pow2_ceil((1L << 62) + 1) == 1L << 62, "no overflow past 2^62");

    // The s1 harness's instructions, after a blank line.
    char *q = s1c_ctl_token_question("mod 10: 4 +2", 8);
    check_str(q, "mod 10: 4 +2\n\nThink for up to 8 tokens.", "token question");
    free(q);
    q = s1c_ctl_step_question("mod 10: 4 +2", 16);
    check_str(q, "mod 10: 4 +2\n\nThink for up to 16 steps.", "step question");
    free(q);

    q = s1c_ctl_class_question("mod 10: 4 +2", 0);
    check_str(q, "mod 10: 4 +2\n\nAnswer after a short amount of thinking. Do not spend excessive time double-checking your work.",
              "short question");
    free(q);
    q = s1c_ctl_class_question("q", 1);
    check_str(q, "q\n\nAnswer after a long amount of thinking. If you feel like you are finished early, spend the extra "
                 "time trying to double-check your work until you are absolutely sure that you have the correct answer.",
              "long question");
    free(q);

    // Steps: pieces with text between separators.
    CHECK(s1c_ctl_count_steps("4+2=6", "\n") == 1);
    CHECK(s1c_ctl_count_steps("1+6=7\n7+7=4\nWait 7+7=4\n", "\n") == 3);
    CHECK(s1c_ctl_count_steps("a\n\n\nb", "\n") == 2, "blank lines are not steps");
    CHECK(s1c_ctl_count_steps("first para\nline 2\n\nsecond", "\n\n") == 2);
    CHECK(s1c_ctl_count_steps("", "\n") == 0);
    CHECK(s1c_ctl_count_steps(" \n\t\n", "\n") == 0);

    // The counting-down delimiters, from the budget down, one per step.
    char *t = NULL;
    OK(s1c_ctl_step_trace("1+2=3\n3*2=6", "\n", 4, &t));
    check_str(t, "<|im_start|>4 steps left\n1+2=3\n<|im_start|>3 steps left\n3*2=6", "step trace, budget 4");
    free(t);
    OK(s1c_ctl_step_trace("1+2=3\n\n3*2=6\n", "\n", 2, &t));
    check_str(t, "<|im_start|>2 steps left\n1+2=3\n<|im_start|>1 steps left\n3*2=6", "budget = steps: ends at 1");
    free(t);
    OK(s1c_ctl_step_trace("p one\nstill one\n\np two", "\n\n", 2, &t));
    check_str(t, "<|im_start|>2 steps left\np one\nstill one\n<|im_start|>1 steps left\np two", "paragraph steps");
    free(t);
    // The delimiters are the only places the step separator's counting sees in the result.
    OK(s1c_ctl_step_trace("a\nb\nc", "\n", 8, &t));
    CHECK(s1c_ctl_count_steps(t, "<|im_start|>") == 3, "3 steps after transform: %s", t);
    free(t);

    // Refusals, with messages that say why.
    t = (char *)1;
    CHECK(s1c_ctl_step_trace("a\nb\nc", "\n", 2, &t) != S1C_OK && t == NULL);
    CHECK(strstr(s1c_err_msg(), "budget 2") && strstr(s1c_err_msg(), "3 steps"), "%s", s1c_err_msg());
    CHECK(s1c_ctl_step_trace(" \n ", "\n", 4, &t) != S1C_OK && strstr(s1c_err_msg(), "no step"), "%s", s1c_err_msg());
    CHECK(s1c_ctl_step_trace("a", "", 4, &t) != S1C_OK && strstr(s1c_err_msg(), "empty"), "%s", s1c_err_msg());
    return check_exit("test_control_data");
}
