// Table 3's Control per method (infer/control_within.h): each sample judged against its own
// method's budget — tokens for budget forcing, the prompt's N tokens for token-conditional
// control, the prompt's N steps for step-conditional control — and the step count of a thinking
// text, on texts written out by hand (including the exact output of the SCC data transform).
#include "check.h"
#include "control_data.h"
#include "control_within.h"

int main(void) {
    // Steps between delimiters.
    const char *scc = "<|im_start|>8 steps left\n1+2=3\n<|im_start|>7 steps left\n3*2=6\n";
    CHECK(s1c_thinking_steps(scc, "<|im_start|>") == 2);
    CHECK(s1c_thinking_steps("1+2=3\n3*2=6\n", "\n") == 2, "a trailing newline is no step");
    CHECK(s1c_thinking_steps("p1\n\np2\n\n\n\np3", "\n\n") == 3);
    CHECK(s1c_thinking_steps("", "\n") == 0);
    CHECK(s1c_thinking_steps("x", "") == 0);
    // The transform's output counts as the steps it was built from.
    char *t = NULL;
    OK(s1c_ctl_step_trace("1+6=7\n7+7=4\nWait 7+7=4\n4*3=2", "\n", 4, &t));
    CHECK(t && s1c_thinking_steps(t, "<|im_start|>") == 4);
    free(t);

    // Budget forcing / rejection / none: [min, max] in tokens.
    CHECK(s1c_control_within(S1C_CONTROL_NONE, -1, 0, 16, 16, 0));
    CHECK(!s1c_control_within(S1C_CONTROL_NONE, -1, 0, 16, 17, 0));
    CHECK(s1c_control_within(S1C_CONTROL_NONE, -1, 0, -1, 999, 0), "no cap: within");
    CHECK(!s1c_control_within(S1C_CONTROL_NONE, -1, 10, -1, 9, 0), "below --min-thinking");
    CHECK(!s1c_control_within(S1C_CONTROL_REJECTION, -1, 0, 32, 33, 0));
    CHECK(s1c_control_within(S1C_CONTROL_CLASS, -1, 0, -1, 500, 0), "class: no budget");
    // Token-conditional: the prompt's N, with no --max-thinking at all.
    CHECK(s1c_control_within(S1C_CONTROL_TOKEN, 32, 0, -1, 32, 0));
    CHECK(!s1c_control_within(S1C_CONTROL_TOKEN, 32, 0, -1, 33, 0), "past the prompt's N without a cap");
    CHECK(!s1c_control_within(S1C_CONTROL_TOKEN, 64, 0, 16, 20, 0), "the cap still counts");
    CHECK(!s1c_control_within(S1C_CONTROL_TOKEN, -1, 0, 16, 17, 0), "N defaults to --max-thinking");
    // Step-conditional: steps against N, tokens do not matter beyond the cap.
    CHECK(s1c_control_within(S1C_CONTROL_STEP, 4, 0, -1, 300, 4));
    CHECK(!s1c_control_within(S1C_CONTROL_STEP, 4, 0, -1, 10, 5), "5 steps > 4");
    CHECK(!s1c_control_within(S1C_CONTROL_STEP, 4, 0, 100, 101, 2), "the cap still counts");
    return check_exit("test_infer_control_within");
}
