// JSONL ingest: UTF-8 validation, parse errors with file:line, typed fields, the line reader over
// plain and zstd files (CRLF, no final newline, long lines, seek), truncated and corrupt .zst.
#include <stdint.h>

#include "curate_record.h"
#include "dp_test.h"
#include "jsonl.h"
#include "zstd_stream.h"

static void test_utf8(void) {
    CHECK_EQ_U(s1c_utf8_first_invalid("plain ascii text, long enough for the fast path", 47), 47);
    CHECK_EQ_U(s1c_utf8_first_invalid("h\xc3\xa9llo", 6), 6);
    CHECK_EQ_U(s1c_utf8_first_invalid("ab\xc3", 3), 2);              // cut sequence
    CHECK_EQ_U(s1c_utf8_first_invalid("ab\xc0\xaf", 4), 2);          // overlong '/'
    CHECK_EQ_U(s1c_utf8_first_invalid("\xed\xa0\x80", 3), 0);        // surrogate
    CHECK_EQ_U(s1c_utf8_first_invalid("x\xf4\x90\x80\x80", 5), 1);   // > U+10FFFF
    CHECK_EQ_U(s1c_utf8_first_invalid("\xf0\x9f\x98\x80 ok", 7), 7);  // emoji
    CHECK_EQ_U(s1c_utf8_first_invalid("12345678\xff", 9), 8);
}

static void test_parse(void) {
    cJSON *o = s1c_jsonl_parse("f.jsonl", 3, "{\"a\": 1}", 8);
    CHECK(o != NULL);
    cJSON_Delete(o);
    CHECK(s1c_jsonl_parse("f.jsonl", 7, "{\"a\": 1", 7) == NULL);
    CHECK_ERR_HAS("f.jsonl:7: malformed JSON");
    CHECK(s1c_jsonl_parse("f.jsonl", 8, "[1, 2]", 6) == NULL);
    CHECK_ERR_HAS("f.jsonl:8: expected a JSON object");
    CHECK(s1c_jsonl_parse("f.jsonl", 9, "{} {}", 5) == NULL);
    CHECK_ERR_HAS("f.jsonl:9: trailing data");
    CHECK(s1c_jsonl_parse("f.jsonl", 10, "{\"q\": \"\xff\"}", 10) == NULL);
    CHECK_ERR_HAS("f.jsonl:10: invalid UTF-8 at byte 7");
    // issue 13: a key twice (cJSON reads the first, Python the last) and NUL inside a string
    const char *dup = "{\"a\": {\"x\": 1, \"y\": [{\"x\": 2}]}, \"b\": \"s \\\" \\\\\", \"a\": 3}";
    CHECK(s1c_jsonl_parse("f.jsonl", 11, dup, strlen(dup)) == NULL);
    CHECK_ERR_HAS("f.jsonl:11: duplicate key \"a\"");
    const char *nested = "{\"m\": [{\"role\": \"user\", \"role\": \"assistant\"}]}";
    CHECK(s1c_jsonl_parse("f.jsonl", 12, nested, strlen(nested)) == NULL);
    CHECK_ERR_HAS("f.jsonl:12: duplicate key \"role\" in m[0]");
    const char *same_in_two = "{\"m\": [{\"role\": \"user\"}, {\"role\": \"assistant\"}], \"role\": 1}";
    o = s1c_jsonl_parse("f.jsonl", 13, same_in_two, strlen(same_in_two));  // one key per object: fine
    CHECK(o != NULL, "%s", s1c_err_msg());
    cJSON_Delete(o);
    const char *esc = "{\"t\": [\"a\", {\"u\": \"x\\u0000y\"}]}";
    CHECK(s1c_jsonl_parse("f.jsonl", 14, esc, strlen(esc)) == NULL);
    CHECK_ERR_HAS("f.jsonl:14: field \"t[1].u\": the escape \\u0000");
    const char raw[] = "{\"q\": \"a\0b\"}";
    CHECK(s1c_jsonl_parse("f.jsonl", 15, raw, sizeof raw - 1) == NULL);
    CHECK_ERR_HAS("f.jsonl:15: field \"q\": a raw NUL byte inside a string");
    const char rawout[] = "{\"q\": 1}\0";
    CHECK(s1c_jsonl_parse("f.jsonl", 16, rawout, sizeof rawout - 1) == NULL);
    CHECK_ERR_HAS("f.jsonl:16: a raw NUL byte");
    const char *ok_esc = "{\"q\": \"\\\\u0000 is text here\"}";  // an escaped backslash, then u0000
    o = s1c_jsonl_parse("f.jsonl", 17, ok_esc, strlen(ok_esc));
    CHECK(o != NULL, "%s", s1c_err_msg());
    cJSON_Delete(o);

    const char *rec = "{\"q\": 5, \"s\": \"x\", \"n\": null, \"b\": \"True\", \"l\": [false, 1], \"bad\": {}, "
                      "\"t\": [\"  a\", \"b  \"], \"tn\": [\"a\", 3], \"d\": 17}";
    o = s1c_jsonl_parse("f", 1, rec, strlen(rec));
    CHECK(o != NULL);
    const char *s;
    double d;
    int flag = -1;
    CHECK(s1c_json_string(o, "q", &s) == -1);
    CHECK_ERR_HAS("field 'q': expected a string, got a number");
    CHECK(s1c_json_string(o, "s", &s) == 1 && !strcmp(s, "x"));
    CHECK(s1c_json_string(o, "n", &s) == 0);
    CHECK(s1c_json_string(o, "absent", &s) == 0);
    CHECK(s1c_json_number(o, "q", &d) == 1 && d == 5);
    CHECK(s1c_json_flag(o, "b", &flag) == 1 && flag == 1);
    CHECK(s1c_json_flag(o, "l", &flag) == 1 && flag == 1);
    CHECK(s1c_json_flag(o, "bad", &flag) == -1);
    CHECK(s1c_json_flag(o, "s", &flag) == -1);
    char *trace = NULL;
    CHECK(s1c_record_trace(o, "t", &trace) == 1 && trace && !strcmp(trace, "a\nb"));  // joined, stripped
    free(trace);
    CHECK(s1c_record_trace(o, "tn", &trace) == -1);
    CHECK_ERR_HAS("found a number");
    CHECK(s1c_record_trace(o, "q", &trace) == -1);
    CHECK(s1c_record_trace(o, "n", &trace) == 0);
    char dom[32];
    CHECK(s1c_record_domain(o, "d", dom, sizeof dom) == 1 && !strcmp(dom, "17"));
    CHECK(s1c_record_domain(o, "l", dom, sizeof dom) == -1);
    cJSON_Delete(o);
}

// Reads every line; returns the count and checks them against `expect`.
static size_t read_lines(const char *path, const char *const *expect, size_t n_expect, uint64_t *offsets) {
    s1c_lines *r = s1c_lines_open(path);
    CHECK(r != NULL);
    if (!r) return 0;
    const char *line;
    size_t len, n = 0;
    uint64_t off, no;
    int rc;
    while ((rc = s1c_lines_next(r, &line, &len, &off, &no)) == 1) {
        CHECK_EQ_U(no, n + 1);
        if (n < n_expect) {
            CHECK(len == strlen(expect[n]) && memcmp(line, expect[n], len) == 0);
            if (offsets) offsets[n] = off;
        }
        n++;
    }
    CHECK(rc == 0);
    s1c_lines_close(r);
    return n;
}

static void test_lines(const char *dir) {
    char plain[1024], zst[1024];
    snprintf(plain, sizeof plain, "%s/a.jsonl", dir);
    snprintf(zst, sizeof zst, "%s/a.jsonl.zst", dir);
    // A 3 MB line crosses the reader's 1 MB chunk and forces buffer growth.
    size_t big = 3u << 20;
    char *long_line = malloc(big + 1);
    memset(long_line, 'x', big);
    long_line[big] = '\0';
    const char *expect[] = {"first", "", "crlf", long_line, "last without newline"};
    for (int z = 0; z < 2; z++) {
        const char *path = z ? zst : plain;
        s1c_out *o = s1c_out_open(path);
        CHECK(o != NULL);
        s1c_out_write(o, "first\n\ncrlf\r\n", 13);
        s1c_out_write(o, long_line, big);
        s1c_out_write(o, "\nlast without newline", 21);
        CHECK(s1c_out_commit(o) == S1C_OK);
        uint64_t offs[5];
        CHECK_EQ_U(read_lines(path, expect, 5, offs), 5);
        CHECK_EQ_U(offs[0], 0);
        CHECK_EQ_U(offs[2], 7);
        CHECK_EQ_U(offs[3], 13);
        CHECK_EQ_U(offs[4], 13 + big + 1);
        s1c_lines *r = s1c_lines_open(path);
        CHECK(s1c_lines_is_zstd(r) == z);
        if (!z) {  // seek back to line 3 by offset
            const char *line;
            size_t len;
            uint64_t off, no;
            CHECK(s1c_lines_seek(r, 7, 3) == S1C_OK);
            CHECK(s1c_lines_next(r, &line, &len, &off, &no) == 1 && no == 3 && len == 4 && !memcmp(line, "crlf", 4));
        } else
            CHECK(s1c_lines_seek(r, 7, 3) != S1C_OK);
        s1c_lines_close(r);
    }
    free(long_line);

    // Truncated and corrupt zstd streams are errors naming the file, not a silent short read.
    FILE *fp = fopen(zst, "rb");
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    char cut[1024];
    snprintf(cut, sizeof cut, "%s/cut.jsonl.zst", dir);
    dp_write_file(cut, (const char *)buf, n - 3 > 200 ? 200 : n - 3);
    s1c_lines *r = s1c_lines_open(cut);
    const char *line;
    size_t len;
    uint64_t off, no;
    int rc;
    while ((rc = s1c_lines_next(r, &line, &len, &off, &no)) == 1) {
    }
    CHECK(rc == -1);
    CHECK_ERR_HAS("cut.jsonl.zst: truncated zstd stream");
    s1c_lines_close(r);
    buf[40] ^= 0xFF;
    buf[41] ^= 0x55;
    dp_write_file(cut, (const char *)buf, n);
    r = s1c_lines_open(cut);
    while ((rc = s1c_lines_next(r, &line, &len, &off, &no)) == 1) {
    }
    CHECK(rc == -1);
    CHECK(strstr(s1c_err_msg(), "cut.jsonl.zst") != NULL);
    s1c_lines_close(r);
    CHECK(s1c_lines_open("/nonexistent/x.jsonl") == NULL);
    CHECK_ERR_HAS("/nonexistent/x.jsonl: cannot open");
}

int main(void) {
    const char *dir = dp_tmpdir("jsonl");
    test_utf8();
    test_parse();
    test_lines(dir);
    return check_exit("test_data_jsonl");
}
