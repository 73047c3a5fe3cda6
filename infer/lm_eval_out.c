// lm_eval_out.c — see lm_eval_out.h.
#include "lm_eval_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s1c_file.h"
#include "s1c_sha256.h"

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
static const char *gets(const cJSON *o, const char *k) {
    const cJSON *v = get(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}
static double getn(const cJSON *o, const char *k) {
    const cJSON *v = get(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *task_name(const char *fmt) {
    if (!strcmp(fmt, "aime")) return "aime24_nofigures";
    if (!strcmp(fmt, "gpqa")) return "gpqa_diamond_openai";
    return "openai_math";
}

static void add_hash(cJSON *o, const char *k, const char *text) {
    char hex[65];
    s1c_sha256_buf(text, strlen(text), hex);
    cJSON_AddStringToObject(o, k, hex);
}

static cJSON *gen_kwargs(const cJSON *opts) {
    cJSON *g = cJSON_CreateObject();
    cJSON_AddNumberToObject(g, "max_gen_toks", getn(opts, "max_new"));
    cJSON_AddNumberToObject(g, "temperature", getn(opts, "temperature"));
    cJSON_AddNumberToObject(g, "top_p", getn(opts, "top_p"));
    cJSON_AddBoolToObject(g, "do_sample", getn(opts, "temperature") > 0);
    cJSON_AddNumberToObject(g, "max_tokens_thinking", getn(opts, "max_thinking"));
    cJSON_AddNumberToObject(g, "thinking_n_ignore", getn(opts, "ignore"));
    cJSON_AddStringToObject(g, "thinking_n_ignore_str", gets(opts, "wait"));
    cJSON_AddStringToObject(g, "thinking_end", gets(opts, "think_end"));
    return g;
}

s1c_status s1c_lm_eval_write(const char *dir, const cJSON *summary, cJSON *const *recs, int n) {
    const char *fmt = gets(summary, "format"), *task = task_name(fmt);
    const cJSON *opts = get(summary, "options"), *prov = get(summary, "provenance");
    char date[40];
    snprintf(date, sizeof date, "%s", gets(prov, "date"));
    for (char *p = date; *p; p++)
        if (*p == ':') *p = '-';  // lm-eval's file-name date has no colons
    size_t plen = strlen(dir) + strlen(task) + strlen(date) + 32;
    char *path = s1c_xmalloc(plen);
    snprintf(path, plen, "%s/samples_%s_%s.jsonl", dir, task, date);
    s1c_atomic_file f;
    s1c_status st = s1c_atomic_open(&f, path);
    for (int i = 0; st == S1C_OK && i < n;) {
        int j = i;
        double correct = 0;
        cJSON *resps = cJSON_CreateArray(), *filtered = cJSON_CreateArray(), *s1c = cJSON_CreateArray();
        for (; j < n && getn(recs[j], "index") == getn(recs[i], "index"); j++) {
            cJSON *one = cJSON_CreateArray();
            cJSON_AddItemToArray(one, cJSON_CreateString(gets(recs[j], "generation")));
            cJSON_AddItemToArray(resps, one);
            const cJSON *ex = get(recs[j], "extracted");
            cJSON_AddItemToArray(filtered, cJSON_IsString(ex) ? cJSON_CreateString(ex->valuestring) : cJSON_CreateString("[invalidanswer]"));
            correct += cJSON_IsTrue(get(recs[j], "correct"));
            cJSON *t = cJSON_CreateObject();
            cJSON_AddNumberToObject(t, "thinking_tokens", getn(recs[j], "thinking_tokens"));
            cJSON_AddNumberToObject(t, "answer_tokens", getn(recs[j], "answer_tokens"));
            cJSON_AddStringToObject(t, "thinking_end", gets(recs[j], "thinking_end"));
            cJSON_AddItemToArray(s1c, t);
        }
        const cJSON *r = recs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "doc_id", getn(r, "index"));
        cJSON *doc = cJSON_AddObjectToObject(o, "doc");
        cJSON_AddStringToObject(doc, "id", gets(r, "id"));
        cJSON_AddStringToObject(doc, "answer", gets(r, "gold"));
        if (*gets(r, "subject")) cJSON_AddStringToObject(doc, "subject", gets(r, "subject"));
        if (getn(r, "level") > 0) cJSON_AddNumberToObject(doc, "level", getn(r, "level"));
        cJSON_AddStringToObject(o, "target", gets(r, "gold"));
        cJSON *args = cJSON_AddObjectToObject(o, "arguments"), *g0 = cJSON_AddObjectToObject(args, "gen_args_0");
        cJSON_AddStringToObject(g0, "arg_0", gets(r, "prompt"));
        cJSON_AddItemToObject(g0, "arg_1", gen_kwargs(opts));
        cJSON_AddItemToObject(o, "resps", resps);
        cJSON_AddItemToObject(o, "filtered_resps", filtered);
        cJSON_AddStringToObject(o, "filter", "none");
        cJSON *metrics = cJSON_AddArrayToObject(o, "metrics");
        cJSON_AddItemToArray(metrics, cJSON_CreateString("exact_match"));
        add_hash(o, "doc_hash", gets(r, "id"));
        add_hash(o, "prompt_hash", gets(r, "prompt"));
        add_hash(o, "target_hash", gets(r, "gold"));
        cJSON_AddNumberToObject(o, "exact_match", correct / (j - i));
        cJSON_AddItemToObject(o, "s1c", s1c);
        char *js = cJSON_PrintUnformatted(o);
        fprintf(f.fp, "%s\n", js);
        free(js);
        cJSON_Delete(o);
        i = j;
    }
    if (st == S1C_OK) st = s1c_atomic_commit(&f);
    if (st == S1C_OK) {
        cJSON *res = cJSON_CreateObject();
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "alias", task);
        cJSON_AddNumberToObject(t, "exact_match,none", getn(summary, "accuracy"));
        cJSON_AddNumberToObject(t, "exact_match_stderr,none", getn(summary, "accuracy_stderr"));
        cJSON_AddNumberToObject(t, "extracted_answers,none", getn(summary, "samples") - getn(summary, "unextractable"));
        cJSON_AddItemToObject(cJSON_AddObjectToObject(res, "results"), task, t);
        cJSON *cfg = cJSON_CreateObject();
        cJSON_AddStringToObject(cfg, "task", task);
        cJSON_AddStringToObject(cfg, "output_type", "generate_until");
        cJSON_AddNumberToObject(cfg, "repeats", getn(opts, "n"));
        cJSON_AddItemToObject(cfg, "generation_kwargs", gen_kwargs(opts));
        cJSON_AddItemToObject(cJSON_AddObjectToObject(res, "configs"), task, cfg);
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(res, "versions"), task, 1.0);
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(res, "n-shot"), task, 0);
        cJSON *hib = cJSON_AddObjectToObject(cJSON_AddObjectToObject(res, "higher_is_better"), task);
        cJSON_AddBoolToObject(hib, "exact_match", 1);
        cJSON *ns = cJSON_AddObjectToObject(cJSON_AddObjectToObject(res, "n-samples"), task);
        cJSON_AddNumberToObject(ns, "original", getn(summary, "problems"));
        cJSON_AddNumberToObject(ns, "effective", getn(summary, "problems"));
        cJSON *c = cJSON_AddObjectToObject(res, "config");
        cJSON_AddStringToObject(c, "model", "s1c");
        char margs[1024];
        snprintf(margs, sizeof margs, "pretrained=%s", gets(prov, "model_dir"));
        cJSON_AddStringToObject(c, "model_args", margs);
        cJSON_AddStringToObject(res, "model_name", gets(prov, "model_dir"));
        cJSON_AddStringToObject(res, "date", gets(prov, "date"));
        cJSON_AddItemToObject(res, "s1c", cJSON_Duplicate(summary, 1));
        char *js = cJSON_Print(res);
        cJSON_Delete(res);
        snprintf(path, plen, "%s/results_%s.json", dir, date);
        st = s1c_atomic_open(&f, path);
        if (st == S1C_OK) {
            fprintf(f.fp, "%s\n", js);
            st = s1c_atomic_commit(&f);
        }
        free(js);
    }
    free(path);
    return st;
}
