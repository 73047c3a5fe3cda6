// grade_internal.h — private to infer/grade/: the pieces behind grade.h.
//
//   text_util.c     growable buffers, trimming, case-insensitive search, brace matching
//   boxed.c         \boxed / \fbox contents, several boxes merged into one answer
//   plain_number.c  numbers and arithmetic written in plain text ("1,000.5", "2,74", "28 pct")
//   extract.c       the candidate tiers that find the answer of a generation
//   letters.c       choice letters (GPQA)
//   math_norm.c     LaTeX answer normalisation (spacing, \text, units, relations, percent)
//   answer_parse.c  normalised text → answer tree (sets, tuples, intervals, relations, ...)
//   math_eval.c     numeric evaluation of an expression (variables at sample points)
//   matrix_eval.c   matrices and sums / products of matrices, cell by cell
//   answer_equal.c  comparison of two answer trees
//   grade.c         the public entry points
#ifndef S1C_INFER_GRADE_INTERNAL_H
#define S1C_INFER_GRADE_INTERNAL_H

#include <stddef.h>

#include "grade.h"

// ---- text_util.c ----
typedef struct {
    char *p;
    size_t n, cap;
} gr_buf;
void gr_buf_put(gr_buf *b, const char *s, size_t n);
void gr_buf_puts(gr_buf *b, const char *s);
void gr_buf_putc(gr_buf *b, char c);
char *gr_buf_take(gr_buf *b);  // the NUL-terminated text (never NULL); the buffer is reset
char *gr_dup_range(const char *a, const char *b);  // [a, b) with surrounding whitespace trimmed
int gr_space(char c);
int gr_alpha(char c);
int gr_digit(char c);
// Case-insensitive: does `word` start at s (s < end)?
int gr_ci_at(const char *s, const char *end, const char *word);
// Index of the '}' closing the '{' at s[open] within [0, n), or -1. "\{" and "\}" do not count.
long gr_close_brace(const char *s, size_t n, size_t open);
// Is the command `cmd` ("\frac") at s, not followed by another letter?
int gr_cmd_at(const char *s, const char *cmd);
// Lowercase letters and digits of [a, b) (text answers compare on these).
char *gr_alnum_lower(const char *a, const char *b);

// ---- boxed.c ----
// The last complete \boxed{…} / \fbox{…} (also "\boxed 5") in s[0, n), merged with the boxes
// before it that are separated by a short gap or by "and" / "or" / "," / ";" within 70 bytes
// (equal neighbours once); contents joined by ", ". NULL when there is none.
char *gr_boxed_last(const char *s, size_t n);
// Every complete box in s[0, n), joined by ", " (equal neighbours once); NULL when none.
char *gr_boxed_all(const char *s, size_t n);
// Position of the first "\boxed{" / "\fbox{" in s[0, n), or -1.
long gr_box_first(const char *s, size_t n);

// ---- plain_number.c ----
// A plain-text number or arithmetic expression whose prefix (start of text, whitespace or '=')
// is at q: on a match sets *end and returns the canonical text ("1000.5", "-3", "28\%", "2/3"),
// else NULL. `expr` 1: only arithmetic with an operator; 0: only a number.
char *gr_plain_at(const char *t, size_t n, size_t q, int expr, size_t *end);

// ---- extract.c ----
// Returns 1 to take the candidate LaTeX text (the caller parses it).
typedef int (*gr_accept_fn)(const char *candidate, void *ctx);
// The first accepted candidate of text[0, n) in tier order (see grade.h), malloc'ed, or NULL.
// Then, when `fallback` is not NULL, it receives the first candidate tried (or NULL): an answer
// the grader cannot read still equals the same text.
char *gr_extract_math(const char *text, size_t n, int targets, gr_accept_fn accept, void *ctx, char **fallback);

// ---- letters.c ----
// One of `letters` read from text[0, n) (malloc'ed, uppercase as in `letters`) or NULL.
char *gr_extract_letter(const char *text, size_t n, const char *letters);

// ---- math_norm.c ----
// The normalised form of a LaTeX answer (malloc'ed): single spaces, no \left \right \! \quad
// \$ $, \dfrac → \frac, \text groups resolved (units after a value dropped; "and"/"or" → ","),
// relations as < <= > >= != = and \in, percent spellings as a trailing '%', degrees dropped.
char *gr_normalize(const char *latex);

// ---- answer_parse.c ----
typedef enum {
    GR_EXPR,      // numeric expression: src
    GR_TEXT,      // words: src holds their lowercase letters and digits
    GR_SET,       // kids, any order (bare: written as a plain list, without \{ \})
    GR_TUPLE,     // kids in order, written ( … )
    GR_INTERVAL,  // kids[0], kids[1]; lo_open, hi_open
    GR_UNION,     // kids joined by \cup
    GR_MATRIX,    // a matrix or a sum / product of matrices: src (matrix_eval.c)
    GR_REL,       // kids[0] ops[0] kids[1] ... ops[n-2] kids[n-1]
    GR_EMPTY,     // the empty set
    GR_RAW,       // text the grader cannot read: equal only to the same text
} gr_kind;

enum { GR_EQ, GR_NE, GR_LT, GR_LE, GR_GT, GR_GE, GR_IN };

typedef struct gr_node {
    gr_kind kind;
    char *src;  // normalised text of the node (GR_TEXT: its lowercase letters and digits)
    int n;
    struct gr_node **kids;
    int *ops;  // GR_REL: n - 1 operators
    unsigned char lo_open, hi_open;
    unsigned char percent;   // written with a percent sign
    unsigned char is_float;  // a single decimal number ("0.5", "1000.0")
    unsigned char is_int;    // a single integer
    unsigned char bare;      // GR_SET written as a plain list
} gr_node;

gr_node *gr_parse(const char *normalized);  // NULL: not an answer this grader reads
void gr_node_free(gr_node *n);
gr_node *gr_node_new(gr_kind kind, const char *src, size_t len);  // src[0, len), trimmed
int gr_same_text(const char *a, const char *b);  // equal up to spaces
void gr_node_add(gr_node *parent, gr_node *kid);
// Only symbols (no number outside subscripts), the left side that makes "x = 5" an assignment.
int gr_only_symbols(const char *src);

// ---- math_eval.c ----
// Variables get a value per sample point (0..2) from their name, or, when by_order is set, from
// the order in which they are first met (non-strict grading: f(x) equals f(y)).
typedef struct {
    int by_order;
    int n;
    char names[16][24];
} gr_vars;
enum { GR_EVAL_SYNTAX = 0, GR_EVAL_OK = 1, GR_EVAL_UNDEFINED = 2 };
// Evaluates expr[0, len): GR_EVAL_OK with *value, GR_EVAL_UNDEFINED when it reads but has no
// finite value (division by zero, a root of a negative number), GR_EVAL_SYNTAX when it does not
// read as an expression. *has_vars (may be NULL) is set when a variable occurred.
int gr_eval(const char *expr, size_t len, int sample, gr_vars *vars, double *value, int *has_vars);
// Does expr read as an expression (any sample)?
int gr_eval_syntax_ok(const char *expr);

// ---- matrix_eval.c ----
#define GR_MAT_MAX 64
typedef struct {
    int rows, cols;
    double v[GR_MAT_MAX];
    unsigned char is_float[GR_MAT_MAX];
} gr_matrix;
int gr_matrix_eval(const char *src, int sample, gr_vars *vars, gr_matrix *out);  // 1 ok
int gr_has_matrix(const char *s, size_t n);  // s[0, n) holds \begin{pmatrix|bmatrix|matrix|array|vmatrix}

// ---- answer_equal.c ----
int gr_equal(const gr_node *gold, const gr_node *pred, const s1c_grade_opts *o);

#endif
