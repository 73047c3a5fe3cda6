// letters.c — the choice letter a multiple-choice generation commits to (GPQA: A–D).
//
// Tiers, the first that finds one wins: the last box (\boxed{B}, \boxed{\text{(B)}}); a letter
// after "final answer is" / "answer:" / "answer" (the nearest within 50 bytes, the last such
// anchor; "answer: c" in lowercase too, right after the anchor); a letter opening the text
// ("B. because …"); the last "(B)"; the last capital letter standing alone. "The answer is B.
// A quick check …" reads B: a letter after an anchor beats any letter later in the text.
#include <stdlib.h>
#include <string.h>

#include "grade_internal.h"
#include "s1c_err.h"

static char upper(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c; }

static int choice(const char *letters, char c, int lower_ok) {
    if (!c) return 0;
    if (strchr(letters, c)) return 1;
    return lower_ok && c >= 'a' && c <= 'z' && strchr(letters, upper(c));
}

static int ends_token(const char *t, size_t n, size_t k) {
    return k >= n || gr_space(t[k]) || strchr(".,:;!?)]}$*", t[k]);
}

// A letter token at i: optional "**", "(" / "[" / "\text{" / "\textbf{" / "$", the letter, the
// matching closers, then the end of the token. The byte before i must not be a letter or digit.
static int token_at(const char *t, size_t n, size_t i, const char *letters, int lower_ok, int bracket_ok, char *out,
                    size_t *end) {
    if (i > 0 && (gr_alpha(t[i - 1]) || gr_digit(t[i - 1]))) return 0;
    size_t k = i;
    if (k + 1 < n && t[k] == '*' && t[k + 1] == '*') k += 2;
    static const char *const opens[] = {"\\textbf{", "\\text{", "\\mathrm{", "(", "[", "$", NULL};
    const char *open = NULL;
    for (int o = 0; opens[o] && bracket_ok; o++) {
        size_t len = strlen(opens[o]);
        if (k + len <= n && memcmp(t + k, opens[o], len) == 0) {
            open = opens[o];
            k += len;
            break;
        }
    }
    if (k >= n || !choice(letters, t[k], lower_ok)) return 0;
    int lower = t[k] >= 'a' && t[k] <= 'z';
    char c = upper(t[k++]);
    if (open) {
        char want = open[0] == '(' ? ')' : open[0] == '[' ? ']' : open[0] == '$' ? '$' : '}';
        if (k >= n || t[k] != want) return 0;
        k++;
    } else if (k < n && gr_alpha(t[k])) {
        return 0;
    }
    if (k + 1 < n && t[k] == '*' && t[k + 1] == '*') k += 2;
    if (!ends_token(t, n, k)) return 0;
    // A lowercase letter is an answer only when nothing follows it on the line but punctuation
    // ("answer: c."), not the article of a sentence ("the answer is a bit longer").
    if (lower && !open && k < n && t[k] != '\n' && !strchr(".,;:)!?", t[k])) return 0;
    *out = c;
    *end = k;
    return 1;
}

// The box content reduced to one letter: "B", "(B)", "\text{B}", "\textbf{(B)}".
static int boxed_letter(const char *t, size_t n, const char *letters, char *out) {
    char *box = gr_boxed_last(t, n);
    if (!box) return 0;
    // Commands spell letters too ("\text"): keep what is left after dropping command names.
    gr_buf b = {0};
    for (const char *p = box; *p; p++) {
        if (*p == '\\') {
            while (gr_alpha(p[1])) p++;
            continue;
        }
        if (gr_alpha(*p)) gr_buf_putc(&b, *p);
    }
    char *letters_only = gr_buf_take(&b);
    int ok = strlen(letters_only) == 1 && choice(letters, letters_only[0], 1);
    if (ok) *out = upper(letters_only[0]);
    free(letters_only);
    free(box);
    return ok;
}

// The last anchor `word` (case-insensitive) followed within 50 bytes by a letter token.
static int after_anchor(const char *t, size_t n, const char *word, int colon, const char *letters, char *out) {
    size_t wl = strlen(word);
    int found = 0;
    for (size_t i = 0; i + wl <= n; i++) {
        if (!gr_ci_at(t + i, t + n, word)) continue;
        size_t from = i + wl;
        if (colon) {
            if (from >= n || t[from] != ':') continue;
            from++;
        }
        // Right after the anchor ("answer: c", "answer is (c)") a lowercase letter counts.
        size_t r = from;
        while (r < n && (gr_space(t[r]) || t[r] == ':')) r++;
        if (r + 2 < n && t[r] == 'i' && t[r + 1] == 's' && gr_space(t[r + 2])) {
            r += 2;
            while (r < n && gr_space(t[r])) r++;
        }
        char c;
        size_t e;
        if (r < n && token_at(t, n, r, letters, 1, 1, &c, &e)) {
            *out = c;
            found = 1;
            continue;
        }
        for (size_t d = 0; d <= 50 && from + d < n; d++) {
            if (token_at(t, n, from + d, letters, 0, 1, &c, &e)) {
                *out = c;
                found = 1;
                break;
            }
        }
    }
    return found;
}

char *gr_extract_letter(const char *t, size_t n, const char *letters) {
    char c = 0, got;
    size_t e;
    if (boxed_letter(t, n, letters, &got)) c = got;
    if (!c && after_anchor(t, n, "final answer is", 0, letters, &got)) c = got;
    if (!c && after_anchor(t, n, "answer", 1, letters, &got)) c = got;
    if (!c && after_anchor(t, n, "answer", 0, letters, &got)) c = got;
    if (!c) {  // a letter opening the text
        size_t i = 0;
        while (i < n && gr_space(t[i])) i++;
        if (i < n && token_at(t, n, i, letters, 0, 1, &got, &e)) c = got;
    }
    for (size_t i = n; !c && i-- > 0;) {  // the last "(B)"
        if (t[i] == '(' && i + 2 < n && choice(letters, t[i + 1], 0) && t[i + 2] == ')') c = t[i + 1];
    }
    for (size_t i = n; !c && i-- > 0;) {  // the last lone capital letter
        if ((i == 0 || gr_space(t[i - 1]) || t[i - 1] == '*') && token_at(t, n, i, letters, 0, 0, &got, &e)) c = got;
    }
    if (!c) return NULL;
    char *o = s1c_xmalloc(2);
    o[0] = c;
    o[1] = '\0';
    return o;
}
