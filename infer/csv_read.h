// csv_read.h — a small RFC 4180 reader for benchmark files as users download them
// (gpqa_diamond.csv of Idavidrein/gpqa): comma-separated, fields optionally in double quotes,
// "" inside quotes is one quote, quoted fields may hold commas and line breaks, records end
// with LF or CRLF. The first record is the header; every record becomes a JSON object of
// strings keyed by the header's names, so the JSON loaders read it unchanged.
#ifndef S1C_INFER_CSV_READ_H
#define S1C_INFER_CSV_READ_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "s1c_err.h"

// *rows: a JSON array of objects (caller deletes); *lines [count] (malloc'ed): the line each
// record starts on. Errors name the file and line: an unterminated quote, text after a closing
// quote, a record with more or fewer fields than the header, a duplicate or empty header name.
s1c_status s1c_csv_parse(const char *name, const char *text, size_t len, cJSON **rows, int **lines);

#endif
