// cuda_attn_cudnn.cu — attention through cuDNN's fused flash SDPA, built with the backend (graph)
// API in plain C calls, plus the dispatch between it and the own kernels.
//
// cuDNN 9.19 recognises fused attention as an operation graph of matmul / pointwise / reduction
// nodes (the pattern cudnn-frontend's composite SDPA node emits); the single-node SDPA descriptors
// cannot express a causal mask before 9.21. Layout ("THD", packed variable length):
//   Q  [b, nh,  s, hd]  strides [s*rs, hd, rs, 1]  ragged offset cu[i]*rs   (rs = (nh+2nkv)*hd)
//   K^T[b, nkv, hd, s]  strides [s*rs, hd, 1, rs]  same offsets (K and V live in the same rows)
//   V  [b, nkv, s, hd]  strides [s*rs, hd, rs, 1]
//   O  [b, nh,  s, hd]  strides [s*ro, hd, ro, 1]  ragged offset cu[i]*ro   (ro = nh*hd)
//   Stats [b, nh, s, 1] fp32, padded (workspace), converted to/from the op's lse[nh, T].
// b and s are bucketed (next power of two of n_seq and of the longest sequence, at least 64) so a
// handful of plans serve a whole run; unused batch slots get length 0 (s1c_cuda_attn_plan in
// cuda_plan.c: buckets, refusals and the workspace layout, unit-tested on the CPU). Masks: padding
// (row < seq_len_q and col < seq_len_kv) then causal (row >= col) as GEN_INDEX / CMP /
// BINARY_SELECT nodes with the fill value -FLT_MAX. The node order follows the graphs
// cudnn-frontend's composite SDPA nodes emit for cuDNN >= 9.10 (the fused engines match patterns;
// scaled_dot_product_flash_attention.h as of frontend 1.12+, checked 2026-12):
//   fwd: S = Q K^T (padding value 0) -> * scale -> padding mask -> causal mask -> softmax with
//        stats -> P (bf16) V
//   bwd: softmax_sum = sum(dO * O) * 1 (fp32, non-virtual, padded [b, nh, s, 1]);
//        S = Q K^T -> * scale -> - stats -> padding mask -> causal mask -> exp = P;
//        dV = P^T dO (GQA: full-head virtual bf16, then a head reduction); dP = dO V^T;
//        dS = (dP - softmax_sum) * P * scale; dK = dS^T Q; dQ = dS K into a plain fp32 accumulator
//        [b, nh, s, hd] (no F16x16 reordering since frontend 1.8), then an identity cast.
// Older cuDNN 9 (< 9.10) needs a second padding mask after the stats subtraction: that release
// range is refused at start-up (s1c_cuda_cudnn_refusal) instead of being served a graph it rejects. Plans are cached
// per (direction, b, s, nh, nkv, hd); a shape cuDNN refuses is remembered and served by the own
// kernels (one stderr line says so).
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_common.cuh"
#include "cuda_plan.h"

#define GB_MAX_DESC 320
#define GB_MAX_OPS 64
#define ATTN_CACHE 16

enum {
    UID_Q = 1, UID_K, UID_V, UID_O, UID_STATS, UID_SEQ_Q, UID_SEQ_KV, UID_SCALE, UID_NEG, UID_ONE,
    UID_OFF_Q, UID_OFF_K, UID_OFF_V, UID_OFF_O, UID_DO, UID_OFF_DO, UID_DQ, UID_DK, UID_DV,
    UID_OFF_DQ, UID_OFF_DK, UID_OFF_DV, UID_SOFTMAX_SUM, UID_DQ_ACCUM, UID_VT, UID_OFF_VT,
    UID_VIRTUAL0 = 1000
};

typedef struct {
    cudnnBackendDescriptor_t d[GB_MAX_DESC];
    int n;
    cudnnBackendDescriptor_t ops[GB_MAX_OPS];
    int n_ops;
    int64_t next_uid;
    int failed_line;
    cudnnStatus_t failed_status;
} graph_builder;

typedef struct {
    int used, bwd, b, s, nh, nkv, hd;
    int det;  // backward: the deterministic graph (dQ straight from the matmul, no fp32 accumulator)
    int refused;
    graph_builder g;  // keeps every descriptor the plan was built from alive
    cudnnBackendDescriptor_t plan;
    int64_t plan_ws;
    unsigned long long last;
} attn_plan;

struct cuda_attn_cache {
    attn_plan p[ATTN_CACHE];
    unsigned long long clock;
};

// ---- graph building helpers ---------------------------------------------------------------------
#define GB_OK(g) ((g)->failed_line == 0)
#define GB_CALL(g, call)                                        \
    do {                                                        \
        if (GB_OK(g)) {                                         \
            cudnnStatus_t gb_st_ = (call);                      \
            if (gb_st_ != CUDNN_STATUS_SUCCESS) {               \
                (g)->failed_line = __LINE__;                    \
                (g)->failed_status = gb_st_;                    \
            }                                                   \
        }                                                       \
    } while (0)

static cudnnBackendDescriptor_t gb_new(graph_builder *g, cudnnBackendDescriptorType_t type) {
    cudnnBackendDescriptor_t d = NULL;
    if (!GB_OK(g)) return NULL;
    if (g->n >= GB_MAX_DESC) {
        g->failed_line = __LINE__;
        g->failed_status = CUDNN_STATUS_INTERNAL_ERROR;
        return NULL;
    }
    GB_CALL(g, cudnnBackendCreateDescriptor(type, &d));
    if (GB_OK(g)) g->d[g->n++] = d;
    return d;
}

static void gb_set(graph_builder *g, cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t a,
                   cudnnBackendAttributeType_t t, int64_t count, const void *v) {
    GB_CALL(g, cudnnBackendSetAttribute(d, a, t, count, v));
}

static void gb_free(graph_builder *g) {
    for (int i = g->n - 1; i >= 0; i--) cudnnBackendDestroyDescriptor(g->d[i]);
    g->n = 0;
    g->n_ops = 0;
}

static cudnnBackendDescriptor_t gb_tensor_ex(graph_builder *g, int64_t uid, cudnnDataType_t dt, const int64_t *dims,
                                             const int64_t *strides, bool is_virtual, bool by_value,
                                             cudnnBackendDescriptor_t ragged, bool f16x16) {
    cudnnBackendDescriptor_t t = gb_new(g, CUDNN_BACKEND_TENSOR_DESCRIPTOR);
    if (!GB_OK(g)) return NULL;
    if (uid == 0) uid = g->next_uid++;
    int64_t align = 16;
    gb_set(g, t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt);
    gb_set(g, t, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims);
    gb_set(g, t, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides);
    gb_set(g, t, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid);
    gb_set(g, t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &align);
    if (is_virtual) gb_set(g, t, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &is_virtual);
    if (by_value) gb_set(g, t, CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, 1, &by_value);
    if (ragged) gb_set(g, t, CUDNN_ATTR_TENSOR_RAGGED_OFFSET_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &ragged);
    if (f16x16) {
        cudnnBackendTensorReordering_t ro = CUDNN_TENSOR_REORDERING_F16x16;
        gb_set(g, t, CUDNN_ATTR_TENSOR_REORDERING_MODE, CUDNN_TYPE_TENSOR_REORDERING_MODE, 1, &ro);
    }
    GB_CALL(g, cudnnBackendFinalize(t));
    return t;
}
static cudnnBackendDescriptor_t gb_tensor(graph_builder *g, int64_t uid, cudnnDataType_t dt, const int64_t *dims,
                                          const int64_t *strides, bool is_virtual, bool by_value,
                                          cudnnBackendDescriptor_t ragged) {
    return gb_tensor_ex(g, uid, dt, dims, strides, is_virtual, by_value, ragged, false);
}

// A virtual tensor [d0, d1, d2, d3] with packed strides.
static cudnnBackendDescriptor_t gb_virt(graph_builder *g, cudnnDataType_t dt, int64_t d0, int64_t d1, int64_t d2,
                                        int64_t d3) {
    int64_t dims[4] = {d0, d1, d2, d3};
    int64_t st[4] = {d1 * d2 * d3, d2 * d3, d3, 1};
    return gb_tensor(g, 0, dt, dims, st, true, false, NULL);
}
static cudnnBackendDescriptor_t gb_virt_strided(graph_builder *g, cudnnDataType_t dt, const int64_t *dims,
                                                const int64_t *st) {
    return gb_tensor(g, 0, dt, dims, st, true, false, NULL);
}

static void gb_add_op(graph_builder *g, cudnnBackendDescriptor_t op) {
    if (GB_OK(g) && g->n_ops >= GB_MAX_OPS) {
        g->failed_line = __LINE__;
        g->failed_status = CUDNN_STATUS_INTERNAL_ERROR;
    }
    GB_CALL(g, cudnnBackendFinalize(op));
    if (GB_OK(g)) g->ops[g->n_ops++] = op;
}

// y = mode(x [, b [, t]]); axis >= 0 only for GEN_INDEX.
static void gb_pw(graph_builder *g, cudnnPointwiseMode_t mode, cudnnDataType_t prec, cudnnBackendDescriptor_t x,
                  cudnnBackendDescriptor_t b, cudnnBackendDescriptor_t t, cudnnBackendDescriptor_t y, int64_t axis) {
    cudnnBackendDescriptor_t pw = gb_new(g, CUDNN_BACKEND_POINTWISE_DESCRIPTOR);
    if (!GB_OK(g)) return;
    gb_set(g, pw, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode);
    gb_set(g, pw, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &prec);
    if (axis >= 0) gb_set(g, pw, CUDNN_ATTR_POINTWISE_AXIS, CUDNN_TYPE_INT64, 1, &axis);
    GB_CALL(g, cudnnBackendFinalize(pw));
    cudnnBackendDescriptor_t op = gb_new(g, CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR);
    if (!GB_OK(g)) return;
    gb_set(g, op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &pw);
    gb_set(g, op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x);
    if (b) gb_set(g, op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &b);
    if (t) gb_set(g, op, CUDNN_ATTR_OPERATION_POINTWISE_TDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &t);
    gb_set(g, op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y);
    gb_add_op(g, op);
}

static void gb_reduce(graph_builder *g, cudnnReduceTensorOp_t red, cudnnBackendDescriptor_t x,
                      cudnnBackendDescriptor_t y) {
    cudnnBackendDescriptor_t rd = gb_new(g, CUDNN_BACKEND_REDUCTION_DESCRIPTOR);
    if (!GB_OK(g)) return;
    cudnnDataType_t f = CUDNN_DATA_FLOAT;
    gb_set(g, rd, CUDNN_ATTR_REDUCTION_OPERATOR, CUDNN_TYPE_REDUCTION_OPERATOR_TYPE, 1, &red);
    gb_set(g, rd, CUDNN_ATTR_REDUCTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &f);
    GB_CALL(g, cudnnBackendFinalize(rd));
    cudnnBackendDescriptor_t op = gb_new(g, CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR);
    if (!GB_OK(g)) return;
    gb_set(g, op, CUDNN_ATTR_OPERATION_REDUCTION_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &rd);
    gb_set(g, op, CUDNN_ATTR_OPERATION_REDUCTION_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x);
    gb_set(g, op, CUDNN_ATTR_OPERATION_REDUCTION_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y);
    gb_add_op(g, op);
}

// c = a b with optional M / N / K overrides (per-batch sequence lengths). pad: when nonzero, the
// value written to output elements outside the overridden extents (the frontend sets 0 on the
// forward's Q K^T when a padding mask follows).
static void gb_matmul_pad(graph_builder *g, cudnnBackendDescriptor_t a, cudnnBackendDescriptor_t b,
                          cudnnBackendDescriptor_t c, cudnnBackendDescriptor_t m_ovr, cudnnBackendDescriptor_t n_ovr,
                          cudnnBackendDescriptor_t k_ovr, int pad) {
    cudnnBackendDescriptor_t md = gb_new(g, CUDNN_BACKEND_MATMUL_DESCRIPTOR);
    if (!GB_OK(g)) return;
    cudnnDataType_t f = CUDNN_DATA_FLOAT;
    gb_set(g, md, CUDNN_ATTR_MATMUL_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &f);
    if (pad) {
        double zero = 0.0;
        gb_set(g, md, CUDNN_ATTR_MATMUL_PADDING_VALUE, CUDNN_TYPE_DOUBLE, 1, &zero);
    }
    GB_CALL(g, cudnnBackendFinalize(md));
    cudnnBackendDescriptor_t op = gb_new(g, CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR);
    if (!GB_OK(g)) return;
    gb_set(g, op, CUDNN_ATTR_OPERATION_MATMUL_ADESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &a);
    gb_set(g, op, CUDNN_ATTR_OPERATION_MATMUL_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &b);
    gb_set(g, op, CUDNN_ATTR_OPERATION_MATMUL_CDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &c);
    gb_set(g, op, CUDNN_ATTR_OPERATION_MATMUL_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &md);
    if (m_ovr) gb_set(g, op, CUDNN_ATTR_OPERATION_MATMUL_GEMM_M_OVERRIDE_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &m_ovr);
    if (n_ovr) gb_set(g, op, CUDNN_ATTR_OPERATION_MATMUL_GEMM_N_OVERRIDE_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n_ovr);
    if (k_ovr) gb_set(g, op, CUDNN_ATTR_OPERATION_MATMUL_GEMM_K_OVERRIDE_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &k_ovr);
    gb_add_op(g, op);
}
static void gb_matmul(graph_builder *g, cudnnBackendDescriptor_t a, cudnnBackendDescriptor_t b,
                      cudnnBackendDescriptor_t c, cudnnBackendDescriptor_t m_ovr, cudnnBackendDescriptor_t n_ovr,
                      cudnnBackendDescriptor_t k_ovr) {
    gb_matmul_pad(g, a, b, c, m_ovr, n_ovr, k_ovr, 0);
}

static void gb_reshape(graph_builder *g, cudnnBackendDescriptor_t x, cudnnBackendDescriptor_t y) {
    cudnnBackendDescriptor_t op = gb_new(g, CUDNN_BACKEND_OPERATION_RESHAPE_DESCRIPTOR);
    if (!GB_OK(g)) return;
    gb_set(g, op, CUDNN_ATTR_OPERATION_RESHAPE_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x);
    gb_set(g, op, CUDNN_ATTR_OPERATION_RESHAPE_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y);
    gb_add_op(g, op);
}

// Keeps S where (row < seq_q and col < seq_kv); -FLT_MAX elsewhere.
static cudnnBackendDescriptor_t gb_padding_mask(graph_builder *g, cudnnBackendDescriptor_t S, int64_t b, int64_t h,
                                                int64_t s, cudnnBackendDescriptor_t seq_q,
                                                cudnnBackendDescriptor_t seq_kv, cudnnBackendDescriptor_t neg) {
    const cudnnDataType_t I32 = CUDNN_DATA_INT32, BOOL_ = CUDNN_DATA_BOOLEAN, F32 = CUDNN_DATA_FLOAT;
    cudnnBackendDescriptor_t row = gb_virt(g, I32, b, h, s, s), col = gb_virt(g, I32, b, h, s, s);
    gb_pw(g, CUDNN_POINTWISE_GEN_INDEX, I32, S, NULL, NULL, row, 2);
    gb_pw(g, CUDNN_POINTWISE_GEN_INDEX, I32, S, NULL, NULL, col, 3);
    cudnnBackendDescriptor_t rm = gb_virt(g, BOOL_, b, h, s, s), cm = gb_virt(g, BOOL_, b, h, s, s);
    gb_pw(g, CUDNN_POINTWISE_CMP_LT, BOOL_, row, seq_q, NULL, rm, -1);
    gb_pw(g, CUDNN_POINTWISE_CMP_LT, BOOL_, col, seq_kv, NULL, cm, -1);
    cudnnBackendDescriptor_t pm = gb_virt(g, BOOL_, b, h, s, s);
    gb_pw(g, CUDNN_POINTWISE_LOGICAL_AND, BOOL_, rm, cm, NULL, pm, -1);
    cudnnBackendDescriptor_t out = gb_virt(g, F32, b, h, s, s);
    gb_pw(g, CUDNN_POINTWISE_BINARY_SELECT, F32, S, neg, pm, out, -1);
    return out;
}

// Keeps S where row >= col (top-left causal: q and kv of a sequence have the same length).
static cudnnBackendDescriptor_t gb_causal_mask(graph_builder *g, cudnnBackendDescriptor_t S, int64_t b, int64_t h,
                                               int64_t s, cudnnBackendDescriptor_t neg) {
    const cudnnDataType_t I32 = CUDNN_DATA_INT32, BOOL_ = CUDNN_DATA_BOOLEAN, F32 = CUDNN_DATA_FLOAT;
    cudnnBackendDescriptor_t row = gb_virt(g, I32, b, h, s, s), col = gb_virt(g, I32, b, h, s, s);
    gb_pw(g, CUDNN_POINTWISE_GEN_INDEX, I32, S, NULL, NULL, row, 2);
    gb_pw(g, CUDNN_POINTWISE_GEN_INDEX, I32, S, NULL, NULL, col, 3);
    cudnnBackendDescriptor_t cmask = gb_virt(g, BOOL_, b, h, s, s);
    gb_pw(g, CUDNN_POINTWISE_CMP_GE, BOOL_, row, col, NULL, cmask, -1);
    cudnnBackendDescriptor_t out = gb_virt(g, F32, b, h, s, s);
    gb_pw(g, CUDNN_POINTWISE_BINARY_SELECT, F32, S, neg, cmask, out, -1);
    return out;
}

typedef struct {
    cudnnBackendDescriptor_t q, k, v, o, stats, seq_q, seq_kv, scale, neg;
    cudnnBackendDescriptor_t off_k;  // K's ragged offsets (the dQ reshape of K^T shares them)
} common_tensors;

static void gb_common(graph_builder *g, common_tensors *c, int64_t b, int64_t s, int64_t nh, int64_t nkv, int64_t hd) {
    const int64_t rs = (nh + 2 * nkv) * hd, ro = nh * hd;
    int64_t one4[4] = {1, 1, 1, 1};
    int64_t offd[4] = {b + 1, 1, 1, 1}, seqd[4] = {b, 1, 1, 1};
    cudnnBackendDescriptor_t off_q = gb_tensor(g, UID_OFF_Q, CUDNN_DATA_INT32, offd, one4, false, false, NULL);
    cudnnBackendDescriptor_t off_k = gb_tensor(g, UID_OFF_K, CUDNN_DATA_INT32, offd, one4, false, false, NULL);
    cudnnBackendDescriptor_t off_v = gb_tensor(g, UID_OFF_V, CUDNN_DATA_INT32, offd, one4, false, false, NULL);
    cudnnBackendDescriptor_t off_o = gb_tensor(g, UID_OFF_O, CUDNN_DATA_INT32, offd, one4, false, false, NULL);
    int64_t qd[4] = {b, nh, s, hd}, qs[4] = {s * rs, hd, rs, 1};
    int64_t kd[4] = {b, nkv, hd, s}, ks[4] = {s * rs, hd, 1, rs};
    int64_t vd[4] = {b, nkv, s, hd}, vs[4] = {s * rs, hd, rs, 1};
    int64_t od[4] = {b, nh, s, hd}, os[4] = {s * ro, hd, ro, 1};
    int64_t sd[4] = {b, nh, s, 1}, ss[4] = {nh * s, s, 1, 1};
    c->off_k = off_k;
    c->q = gb_tensor(g, UID_Q, CUDNN_DATA_BFLOAT16, qd, qs, false, false, off_q);
    c->k = gb_tensor(g, UID_K, CUDNN_DATA_BFLOAT16, kd, ks, false, false, off_k);
    c->v = gb_tensor(g, UID_V, CUDNN_DATA_BFLOAT16, vd, vs, false, false, off_v);
    c->o = gb_tensor(g, UID_O, CUDNN_DATA_BFLOAT16, od, os, false, false, off_o);
    c->stats = gb_tensor(g, UID_STATS, CUDNN_DATA_FLOAT, sd, ss, false, false, NULL);
    c->seq_q = gb_tensor(g, UID_SEQ_Q, CUDNN_DATA_INT32, seqd, one4, false, false, NULL);
    c->seq_kv = gb_tensor(g, UID_SEQ_KV, CUDNN_DATA_INT32, seqd, one4, false, false, NULL);
    c->scale = gb_tensor(g, UID_SCALE, CUDNN_DATA_FLOAT, one4, one4, false, true, NULL);
    c->neg = gb_tensor(g, UID_NEG, CUDNN_DATA_FLOAT, one4, one4, false, true, NULL);
}

static void build_fwd(graph_builder *g, int64_t b, int64_t s, int64_t nh, int64_t nkv, int64_t hd) {
    const cudnnDataType_t F32 = CUDNN_DATA_FLOAT;
    common_tensors c;
    gb_common(g, &c, b, s, nh, nkv, hd);
    cudnnBackendDescriptor_t S = gb_virt(g, F32, b, nh, s, s);
    gb_matmul_pad(g, c.q, c.k, S, c.seq_q, c.seq_kv, NULL, 1);
    cudnnBackendDescriptor_t Ss = gb_virt(g, F32, b, nh, s, s);
    gb_pw(g, CUDNN_POINTWISE_MUL, F32, S, c.scale, NULL, Ss, -1);
    cudnnBackendDescriptor_t Sp = gb_padding_mask(g, Ss, b, nh, s, c.seq_q, c.seq_kv, c.neg);
    cudnnBackendDescriptor_t Sm = gb_causal_mask(g, Sp, b, nh, s, c.neg);
    // softmax with stats = max + log(sum(exp(S - max)))
    cudnnBackendDescriptor_t mx = gb_virt(g, F32, b, nh, s, 1);
    gb_reduce(g, CUDNN_REDUCE_TENSOR_MAX, Sm, mx);
    cudnnBackendDescriptor_t sub = gb_virt(g, F32, b, nh, s, s);
    gb_pw(g, CUDNN_POINTWISE_SUB, F32, Sm, mx, NULL, sub, -1);
    cudnnBackendDescriptor_t ex = gb_virt(g, F32, b, nh, s, s);
    gb_pw(g, CUDNN_POINTWISE_EXP, F32, sub, NULL, NULL, ex, -1);
    cudnnBackendDescriptor_t sm = gb_virt(g, F32, b, nh, s, 1);
    gb_reduce(g, CUDNN_REDUCE_TENSOR_ADD, ex, sm);
    cudnnBackendDescriptor_t lg = gb_virt(g, F32, b, nh, s, 1);
    gb_pw(g, CUDNN_POINTWISE_LOG, F32, sm, NULL, NULL, lg, -1);
    gb_pw(g, CUDNN_POINTWISE_ADD, F32, mx, lg, NULL, c.stats, -1);
    cudnnBackendDescriptor_t P = gb_virt(g, CUDNN_DATA_BFLOAT16, b, nh, s, s);  // bmm2's A is in the io type
    gb_pw(g, CUDNN_POINTWISE_DIV, F32, ex, sm, NULL, P, -1);
    gb_matmul(g, P, c.v, c.o, c.seq_q, NULL, c.seq_kv);
}

static void build_bwd(graph_builder *g, int64_t b, int64_t s, int64_t nh, int64_t nkv, int64_t hd, int det) {
    const cudnnDataType_t F32 = CUDNN_DATA_FLOAT, BF = CUDNN_DATA_BFLOAT16;
    const int64_t rs = (nh + 2 * nkv) * hd, ro = nh * hd;
    common_tensors c;
    gb_common(g, &c, b, s, nh, nkv, hd);
    int64_t one4[4] = {1, 1, 1, 1}, offd[4] = {b + 1, 1, 1, 1};
    cudnnBackendDescriptor_t off_do = gb_tensor(g, UID_OFF_DO, CUDNN_DATA_INT32, offd, one4, false, false, NULL);
    cudnnBackendDescriptor_t off_dq = gb_tensor(g, UID_OFF_DQ, CUDNN_DATA_INT32, offd, one4, false, false, NULL);
    cudnnBackendDescriptor_t off_dk = gb_tensor(g, UID_OFF_DK, CUDNN_DATA_INT32, offd, one4, false, false, NULL);
    cudnnBackendDescriptor_t off_dv = gb_tensor(g, UID_OFF_DV, CUDNN_DATA_INT32, offd, one4, false, false, NULL);
    int64_t od[4] = {b, nh, s, hd}, os[4] = {s * ro, hd, ro, 1};
    int64_t qd[4] = {b, nh, s, hd}, qs[4] = {s * rs, hd, rs, 1};
    int64_t kvd[4] = {b, nkv, s, hd}, kvs[4] = {s * rs, hd, rs, 1};
    cudnnBackendDescriptor_t dO = gb_tensor(g, UID_DO, BF, od, os, false, false, off_do);
    cudnnBackendDescriptor_t dQ = gb_tensor(g, UID_DQ, BF, qd, qs, false, false, off_dq);
    cudnnBackendDescriptor_t dK = gb_tensor(g, UID_DK, BF, kvd, kvs, false, false, off_dk);
    cudnnBackendDescriptor_t dV = gb_tensor(g, UID_DV, BF, kvd, kvs, false, false, off_dv);
    cudnnBackendDescriptor_t one = gb_tensor(g, UID_ONE, F32, one4, one4, false, true, NULL);
    // V^T for dP = dO V^T: [b, nkv, hd, s]
    int64_t vtd[4] = {b, nkv, hd, s}, vts[4] = {s * rs, hd, 1, rs};
    cudnnBackendDescriptor_t off_vt = gb_tensor(g, UID_OFF_VT, CUDNN_DATA_INT32, offd, one4, false, false, NULL);
    cudnnBackendDescriptor_t VT = gb_tensor(g, UID_VT, BF, vtd, vts, false, false, off_vt);
    // softmax_sum = reduce_sum(dO * O) (fp32, padded [b, nh, s, 1] in the workspace)
    int64_t pd[4] = {b, nh, s, hd}, ps[4] = {nh * s * hd, s * hd, nh * hd, 1};
    cudnnBackendDescriptor_t dOO = gb_virt_strided(g, F32, pd, ps);
    gb_pw(g, CUDNN_POINTWISE_MUL, F32, dO, c.o, NULL, dOO, -1);
    cudnnBackendDescriptor_t red = gb_virt(g, F32, b, nh, s, 1);
    gb_reduce(g, CUDNN_REDUCE_TENSOR_ADD, dOO, red);
    int64_t smd[4] = {b, nh, s, 1}, sms[4] = {nh * s, s, 1, 1};
    cudnnBackendDescriptor_t softmax_sum = gb_tensor(g, UID_SOFTMAX_SUM, F32, smd, sms, false, false, NULL);
    gb_pw(g, CUDNN_POINTWISE_MUL, F32, red, one, NULL, softmax_sum, -1);
    // P recomputed: exp(causal(padding(S * scale - stats))), the node order of cudnn-frontend's
    // SDPA backward for cuDNN >= 9.10 (stats subtracted first, then the masks; the second padding
    // mask it adds for 9.0-9.9 only is not emitted: those versions are refused at start-up).
    cudnnBackendDescriptor_t S = gb_virt(g, F32, b, nh, s, s);
    gb_matmul(g, c.q, c.k, S, c.seq_q, c.seq_kv, NULL);
    cudnnBackendDescriptor_t Ss = gb_virt(g, F32, b, nh, s, s);
    gb_pw(g, CUDNN_POINTWISE_MUL, F32, S, c.scale, NULL, Ss, -1);
    cudnnBackendDescriptor_t Sl = gb_virt(g, F32, b, nh, s, s);
    gb_pw(g, CUDNN_POINTWISE_SUB, F32, Ss, c.stats, NULL, Sl, -1);
    cudnnBackendDescriptor_t Sp = gb_padding_mask(g, Sl, b, nh, s, c.seq_q, c.seq_kv, c.neg);
    cudnnBackendDescriptor_t Sm = gb_causal_mask(g, Sp, b, nh, s, c.neg);
    cudnnBackendDescriptor_t P = gb_virt(g, F32, b, nh, s, s);
    gb_pw(g, CUDNN_POINTWISE_EXP, F32, Sm, NULL, NULL, P, -1);
    // dV = P^T dO (summed over the query heads of each group when GQA)
    int64_t ttd[4] = {b, nh, s, s}, tts[4] = {nh * s * s, s * s, 1, s};
    cudnnBackendDescriptor_t PT = gb_virt_strided(g, BF, ttd, tts);
    gb_reshape(g, P, PT);
    if (nh == nkv) {
        gb_matmul(g, PT, dO, dV, c.seq_kv, NULL, c.seq_q);
    } else {
        cudnnBackendDescriptor_t dVf = gb_virt(g, BF, b, nh, s, hd);
        gb_matmul(g, PT, dO, dVf, c.seq_kv, NULL, c.seq_q);
        gb_reduce(g, CUDNN_REDUCE_TENSOR_ADD, dVf, dV);
    }
    // dS = P * (dO V^T - softmax_sum) * scale
    cudnnBackendDescriptor_t dP = gb_virt(g, F32, b, nh, s, s);
    gb_matmul(g, dO, VT, dP, c.seq_q, c.seq_kv, NULL);
    cudnnBackendDescriptor_t t1 = gb_virt(g, F32, b, nh, s, s);
    gb_pw(g, CUDNN_POINTWISE_SUB, F32, dP, softmax_sum, NULL, t1, -1);
    cudnnBackendDescriptor_t t2 = gb_virt(g, F32, b, nh, s, s);
    gb_pw(g, CUDNN_POINTWISE_MUL, F32, t1, P, NULL, t2, -1);
    cudnnBackendDescriptor_t dS = gb_virt(g, F32, b, nh, s, s);
    gb_pw(g, CUDNN_POINTWISE_MUL, F32, t2, c.scale, NULL, dS, -1);
    // dK = dS^T Q
    cudnnBackendDescriptor_t dST = gb_virt_strided(g, BF, ttd, tts);
    gb_reshape(g, dS, dST);
    if (nh == nkv) {
        gb_matmul(g, dST, c.q, dK, c.seq_kv, NULL, c.seq_q);
    } else {
        cudnnBackendDescriptor_t dKf = gb_virt(g, BF, b, nh, s, hd);
        gb_matmul(g, dST, c.q, dKf, c.seq_kv, NULL, c.seq_q);
        gb_reduce(g, CUDNN_REDUCE_TENSOR_ADD, dKf, dK);
    }
    // dQ = dS K. K is the reshape of K^T with K's own ragged offsets, as the frontend does.
    // det: straight into dQ, which is how the frontend asks for the deterministic algorithm
    // (set_deterministic_algorithm(true): no non-virtual dQ accumulator in the graph; the engine
    // then does not add partial dQ tiles with atomics). Else accumulated in fp32 (padded workspace
    // [b, nh, s, hd], packed, zeroed before every call: the engine adds into it), then cast; no
    // tensor reordering on the accumulator (frontend >= 1.8).
    int64_t kd[4] = {b, nkv, s, hd}, ksd[4] = {s * rs, hd, rs, 1};
    cudnnBackendDescriptor_t Kn = gb_tensor(g, 0, BF, kd, ksd, true, false, c.off_k);
    gb_reshape(g, c.k, Kn);
    if (det) {
        gb_matmul(g, dS, Kn, dQ, c.seq_q, NULL, c.seq_kv);
        return;
    }
    int64_t aqd[4] = {b, nh, s, hd}, aqs[4] = {nh * s * hd, s * hd, hd, 1};
    cudnnBackendDescriptor_t dQacc = gb_tensor(g, UID_DQ_ACCUM, F32, aqd, aqs, false, false, NULL);
    gb_matmul(g, dS, Kn, dQacc, c.seq_q, NULL, c.seq_kv);
    gb_pw(g, CUDNN_POINTWISE_IDENTITY, F32, dQacc, NULL, NULL, dQ, -1);
}

static int finalize_plan(cuda_impl *ci, attn_plan *p) {
    graph_builder *g = &p->g;
    cudnnBackendDescriptor_t og = gb_new(g, CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
    if (!GB_OK(g)) return 1;
    gb_set(g, og, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &ci->dnn);
    gb_set(g, og, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, g->n_ops, g->ops);
    GB_CALL(g, cudnnBackendFinalize(og));
    if (!GB_OK(g)) return 1;
    cudnnBackendHeurMode_t modes[2] = {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_FALLBACK};
    for (int mi = 0; mi < 2; mi++) {
        graph_builder *gg = g;
        cudnnBackendDescriptor_t heur = gb_new(gg, CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
        if (!GB_OK(gg)) return 1;
        gb_set(gg, heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &og);
        gb_set(gg, heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &modes[mi]);
        GB_CALL(gg, cudnnBackendFinalize(heur));
        if (!GB_OK(gg)) {  // this mode has nothing; try the next one
            gg->failed_line = 0;
            continue;
        }
        enum { NCFG = 8 };
        cudnnBackendDescriptor_t cfgs[NCFG];
        int ncfg = 0;
        for (int i = 0; i < NCFG; i++) {
            cfgs[i] = gb_new(gg, CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
            if (GB_OK(gg)) ncfg++;
        }
        if (!GB_OK(gg)) return 1;
        int64_t got = 0;
        GB_CALL(gg, cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, ncfg,
                                             &got, cfgs));
        if (!GB_OK(gg)) {
            gg->failed_line = 0;
            continue;
        }
        for (int64_t i = 0; i < got; i++) {
            cudnnBackendDescriptor_t plan = gb_new(gg, CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
            if (!GB_OK(gg)) return 1;
            gb_set(gg, plan, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &ci->dnn);
            gb_set(gg, plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cfgs[i]);
            GB_CALL(gg, cudnnBackendFinalize(plan));
            if (!GB_OK(gg)) {
                gg->failed_line = 0;
                continue;
            }
            int64_t ws = 0, n = 0;
            GB_CALL(gg, cudnnBackendGetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1,
                                                 &n, &ws));
            if (!GB_OK(gg)) return 1;
            p->plan = plan;
            p->plan_ws = ws;
            return 0;
        }
    }
    g->failed_line = __LINE__;
    g->failed_status = CUDNN_STATUS_NOT_SUPPORTED;
    return 1;
}

void cuda_attn_cudnn_init(cuda_impl *ci) {
    ci->attn = (struct cuda_attn_cache *)calloc(1, sizeof(struct cuda_attn_cache));
    if (!ci->attn) s1c_fatal_at(__FILE__, __LINE__, "out of host memory");
}

// One line at teardown whenever the own kernels served a call in auto mode that cuDNN could have
// run (a refusal, cuDNN off, a layout cap: a silent fallback costs 40-100x in attention), or
// always with S1C_CUDA_ATTN_STATS=1. scripts/gpu_check.sh greps "attention FALLBACK" and turns
// it into a FAIL line. Shapes cuDNN cannot run at all (head_dim not a multiple of 8, e.g. the
// test fixtures' 12) are counted apart and named on their own line, "own kernels by design",
// which is not a fallback: no Qwen2 model has such a shape.
static void attn_report(const cuda_impl *ci) {
    const unsigned long long *n = ci->attn_calls, *d = ci->attn_by_design;
    if (d[0] || d[1])
        fprintf(stderr, "s1c cuda: attention own kernels by design: fwd %llu bwd %llu (%s: cuDNN's fused SDPA cannot "
                "run the shape)\n", d[0], d[1], ci->attn_by_design_why ? ci->attn_by_design_why : "?");
    int fell_back = ci->attn_mode == S1C_ATTN_AUTO && (n[2] || n[3]);
    const char *e = getenv("S1C_CUDA_ATTN_STATS");
    if (!fell_back && !(e && *e == '1')) return;
    fprintf(stderr,
            "s1c cuda: attention %s: cuDNN fwd %llu bwd %llu, own kernels fwd %llu bwd %llu, %d shape(s) "
            "refused by cuDNN%s (mode %s)\n",
            fell_back ? "FALLBACK" : "calls", n[0], n[1], n[2], n[3], ci->attn_cudnn_refusals,
            ci->attn_cudnn_off ? ", cuDNN disabled at start-up" : "",
            ci->attn_mode == S1C_ATTN_OWN ? "own" : ci->attn_mode == S1C_ATTN_CUDNN ? "cudnn" : "auto");
}

void cuda_attn_cudnn_destroy(cuda_impl *ci) {
    attn_report(ci);
    if (!ci->attn) return;
    for (int i = 0; i < ATTN_CACHE; i++)
        if (ci->attn->p[i].used) gb_free(&ci->attn->p[i].g);
    free(ci->attn);
    ci->attn = NULL;
}

static attn_plan *plan_for(cuda_impl *ci, int bwd, int det, int b, int s, int nh, int nkv, int hd) {
    struct cuda_attn_cache *c = ci->attn;
    attn_plan *victim = &c->p[0];
    c->clock++;
    for (int i = 0; i < ATTN_CACHE; i++) {
        attn_plan *p = &c->p[i];
        if (p->used && p->bwd == bwd && p->det == det && p->b == b && p->s == s && p->nh == nh && p->nkv == nkv &&
            p->hd == hd) {
            p->last = c->clock;
            return p;
        }
        if (!p->used || (victim->used && p->last < victim->last)) victim = p;
    }
    if (victim->used) gb_free(&victim->g);
    attn_plan *p = victim;
    memset(p, 0, sizeof *p);
    p->used = 1;
    p->bwd = bwd;
    p->det = det;
    p->b = b;
    p->s = s;
    p->nh = nh;
    p->nkv = nkv;
    p->hd = hd;
    p->last = c->clock;
    p->g.next_uid = UID_VIRTUAL0;
    if (bwd) build_bwd(&p->g, b, s, nh, nkv, hd, det);
    else build_fwd(&p->g, b, s, nh, nkv, hd);
    if (!GB_OK(&p->g) || finalize_plan(ci, p) != 0) {
        p->refused = 1;
        ci->attn_cudnn_refusals++;
        fprintf(stderr,
                "s1c cuda: cuDNN refused fused SDPA %s for b=%d s=%d nh=%d nkv=%d hd=%d (%s at %s:%d); %s\n",
                bwd ? (det ? "backward (deterministic)" : "backward") : "forward", b, s, nh, nkv, hd,
                cudnnGetErrorString(p->g.failed_status), __FILE__, p->g.failed_line,
                det ? "trying the dQ-accumulator graph (atomic dQ: not bitwise reproducible run to run)"
                    : "using the own attention kernels for this shape");
        gb_free(&p->g);
    } else if (det && p->plan_ws > (int64_t)S1C_CUDA_ATTN_PAD_LIMIT) {
        // a deterministic engine that wants a quadratic dP workspace is not worth it: refuse it here
        p->refused = 1;
        ci->attn_cudnn_refusals++;
        fprintf(stderr,
                "s1c cuda: cuDNN refused fused SDPA backward (deterministic) for b=%d s=%d nh=%d nkv=%d hd=%d: its "
                "plan wants %lld MiB of workspace (limit %zu MiB); trying the dQ-accumulator graph (atomic dQ: "
                "not bitwise reproducible run to run)\n",
                b, s, nh, nkv, hd, (long long)(p->plan_ws >> 20), S1C_CUDA_ATTN_PAD_LIMIT >> 20);
        gb_free(&p->g);
    }
    return p;
}

// The backward plan of a bucket: the deterministic graph unless S1C_CUDA_ATTN_DETERMINISTIC=0 or
// cuDNN refuses it (then the dQ-accumulator graph, said once on stderr by plan_for).
static attn_plan *bwd_plan_for(cuda_impl *ci, int b, int s, int nh, int nkv, int hd) {
    if (ci->attn_det) {
        attn_plan *p = plan_for(ci, 1, 1, b, s, nh, nkv, hd);
        if (!p->refused) return p;
    }
    return plan_for(ci, 1, 0, b, s, nh, nkv, hd);
}
static int layout_dir(const attn_plan *p) { return !p->bwd ? 0 : p->det ? S1C_ATTN_BWD_DET : 1; }

// Builds (or finds) the fwd and bwd plans of the shape's (b, s) bucket (s1c_cuda_attn_plan, as
// attn_prepare computes it in the call) and returns the larger arena size their calls need (0
// when cuDNN is off or refuses; the refusal is reported as in any call). Outside the steps'
// collectives only: s1c_backend.prepare (start-up, one sequence of max_T) and prepare_attn (per
// micro-batch, when the batch is built).
size_t cuda_attn_cudnn_prepare(cuda_impl *ci, int T, int n_seq, int max_seqlen, int nh, int nkv, int hd,
                               int with_bwd) {
    if (!ci->dnn || ci->attn_cudnn_off || ci->attn_mode == S1C_ATTN_OWN || T <= 0 || n_seq <= 0) return 0;
    size_t need = 0;
    for (int bwd = 0; bwd < (with_bwd ? 2 : 1); bwd++) {
        s1c_cuda_attn_layout L = s1c_cuda_attn_plan(T, n_seq, max_seqlen, nh, nkv, hd, bwd, 0);
        if (!L.ok) return need;
        attn_plan *p = bwd ? bwd_plan_for(ci, L.b, L.s, nh, nkv, hd) : plan_for(ci, 0, 0, L.b, L.s, nh, nkv, hd);
        if (p->refused) return need;
        L = s1c_cuda_attn_plan(T, n_seq, max_seqlen, nh, nkv, hd, layout_dir(p), p->plan_ws);
        if (!L.ok) return need;
        if (L.total > need) need = L.total;
    }
    return need;
}

// ---- auxiliary tensors: lengths, ragged offsets, stats layout conversion -------------------------
// seq[b] (lengths, 0 in unused batch slots), oq[b+1] / oo[b+1] (ragged offsets in elements of the
// qkv / output rows). Three arrays at the 256-byte aligned offsets of s1c_cuda_attn_plan.
__global__ void k_attn_aux(int32_t *seq, int32_t *oq, int32_t *oo, const int32_t *cu, int n_seq, int b, int rs,
                           int ro) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < b) seq[i] = i < n_seq ? cu[i + 1] - cu[i] : 0;
    if (i <= b) {
        int start = cu[i < n_seq ? i : n_seq];
        oq[i] = start * rs;
        oo[i] = start * ro;
    }
}
// lse[h, cu[i] + t] <-> stats[i, h, t]  (dir 0: stats -> lse, 1: lse -> stats). Sequences are
// strided over gridDim.z (at most 65535), so any n_seq works.
__global__ void k_stats_conv(float *lse, float *stats, const int32_t *cu, int n_seq, int nh, int s, int T, int dir) {
    int h = blockIdx.y;
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= s) return;
    for (int i = blockIdx.z; i < n_seq; i += gridDim.z) {
        int len = cu[i + 1] - cu[i];
        if (t >= len) continue;
        size_t si = ((size_t)i * nh + h) * s + t, li = (size_t)h * T + cu[i] + t;
        if (dir == 0) lse[li] = stats[si];
        else stats[si] = lse[li];
    }
}

static dim3 stats_conv_grid(int s, int nh, int n_seq) {
    unsigned z = (unsigned)(n_seq < S1C_CUDA_GRID_YZ_MAX ? n_seq : S1C_CUDA_GRID_YZ_MAX);
    return dim3((unsigned)((s + 255) / 256), (unsigned)nh, z ? z : 1u);
}

typedef struct {
    int b, s;
    int32_t *seq, *off_qkv, *off_o;  // [b], [b+1], [b+1]
    float *stats, *softmax_sum, *dq_accum;
    size_t dq_accum_bytes;
    void *cudnn_ws;
} attn_ws;

static int attn_prepare(cuda_impl *ci, const s1c_attn_shape *sh, int bwd, attn_plan **pp, attn_ws *w) {
    if (!ci->dnn || ci->attn_cudnn_off || ci->attn_mode == S1C_ATTN_OWN) return 1;
    s1c_cuda_attn_layout L = s1c_cuda_attn_plan(sh->T, sh->n_seq, sh->max_seqlen, sh->n_head, sh->n_kv_head,
                                                sh->head_dim, bwd, 0);
    if (!L.ok) {
        if (ci->attn_mode == S1C_ATTN_CUDNN)
            s1c_fatal_at(__FILE__, __LINE__, "S1C_CUDA_ATTN=cudnn but the shape T=%d n_seq=%d hd=%d is outside what "
                         "the cuDNN path accepts (%s)", sh->T, sh->n_seq, sh->head_dim, L.why);
        if (L.by_design) ci->attn_by_design_why = L.why;
        return L.by_design ? CUDA_ATTN_BY_DESIGN : 1;
    }
    int b = L.b, s = L.s;
    attn_plan *p = bwd ? bwd_plan_for(ci, b, s, sh->n_head, sh->n_kv_head, sh->head_dim)
                       : plan_for(ci, 0, 0, b, s, sh->n_head, sh->n_kv_head, sh->head_dim);
    if (p->refused) {
        if (ci->attn_mode == S1C_ATTN_CUDNN)
            s1c_fatal_at(__FILE__, __LINE__, "S1C_CUDA_ATTN=cudnn but cuDNN refused the shape (see the line above)");
        return 1;
    }
    L = s1c_cuda_attn_plan(sh->T, sh->n_seq, sh->max_seqlen, sh->n_head, sh->n_kv_head, sh->head_dim,
                           layout_dir(p), p->plan_ws);
    S1C_ASSERT(L.ok);  // the accumulator-free layout is never larger, and the first check passed
    char *base = (char *)cuda_ws_get(ci, L.total);
    int32_t *aux = (int32_t *)base;
    w->b = b;
    w->s = s;
    w->seq = aux + L.aux_seq;
    w->off_qkv = aux + L.aux_off_qkv;
    w->off_o = aux + L.aux_off_o;
    w->stats = (float *)(base + L.stats);
    w->softmax_sum = bwd ? (float *)(base + L.softmax_sum) : NULL;
    w->dq_accum = bwd && L.dq_accum_bytes ? (float *)(base + L.dq_accum) : NULL;
    w->dq_accum_bytes = L.dq_accum_bytes;
    w->cudnn_ws = base + L.cudnn_ws;
    int rs = (sh->n_head + 2 * sh->n_kv_head) * sh->head_dim, ro = sh->n_head * sh->head_dim;
    k_attn_aux<<<(b + 1 + 255) / 256, 256, 0, ci->stream>>>(w->seq, w->off_qkv, w->off_o, sh->cu_seqlens, sh->n_seq,
                                                            b, rs, ro);
    S1C_CUDA_LAUNCH_CHECK();
    *pp = p;
    return 0;
}

static void run_plan(cuda_impl *ci, attn_plan *p, int n, const int64_t *uids, void *const *ptrs, void *ws) {
    cudnnBackendDescriptor_t vp;
    S1C_CUDNN_CHECK(cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &vp));
    S1C_CUDNN_CHECK(cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, n, uids));
    S1C_CUDNN_CHECK(cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, n, ptrs));
    S1C_CUDNN_CHECK(cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &ws));
    S1C_CUDNN_CHECK(cudnnBackendFinalize(vp));
    S1C_CUDNN_CHECK(cudnnBackendExecute(ci->dnn, p->plan, vp));
    cudnnBackendDestroyDescriptor(vp);
}

int cuda_attn_cudnn_fwd(cuda_impl *ci, bf16 *out, float *lse, const bf16 *qkv, const s1c_attn_shape *s) {
    attn_plan *p;
    attn_ws w;
    const int r = attn_prepare(ci, s, 0, &p, &w);
    if (r != 0) return r;
    const int hd = s->head_dim, nh = s->n_head, nkv = s->n_kv_head;
    float scale = 1.0f / sqrtf((float)hd), neg = -FLT_MAX;
    int32_t *seq = w.seq, *oq = w.off_qkv, *oo = w.off_o;
    int64_t uids[] = {UID_Q, UID_K, UID_V, UID_O, UID_STATS, UID_SEQ_Q, UID_SEQ_KV, UID_SCALE, UID_NEG,
                      UID_OFF_Q, UID_OFF_K, UID_OFF_V, UID_OFF_O};
    void *ptrs[] = {(void *)qkv, (void *)(qkv + (size_t)nh * hd), (void *)(qkv + (size_t)(nh + nkv) * hd), out,
                    w.stats, seq, seq, &scale, &neg, oq, oq, oq, oo};
    run_plan(ci, p, (int)(sizeof uids / sizeof uids[0]), uids, ptrs, w.cudnn_ws);
    k_stats_conv<<<stats_conv_grid(w.s, nh, s->n_seq), 256, 0, ci->stream>>>(lse, w.stats, s->cu_seqlens, s->n_seq,
                                                                             nh, w.s, s->T, 0);
    S1C_CUDA_LAUNCH_CHECK();
    return 0;
}

int cuda_attn_cudnn_bwd(cuda_impl *ci, bf16 *dqkv, const bf16 *dout, const bf16 *qkv, const bf16 *out,
                        const float *lse, const s1c_attn_shape *s) {
    attn_plan *p;
    attn_ws w;
    const int r = attn_prepare(ci, s, 1, &p, &w);
    if (r != 0) return r;
    const int hd = s->head_dim, nh = s->n_head, nkv = s->n_kv_head;
    float scale = 1.0f / sqrtf((float)hd), neg = -FLT_MAX, one = 1.0f;
    int32_t *seq = w.seq, *oq = w.off_qkv, *oo = w.off_o;
    k_stats_conv<<<stats_conv_grid(w.s, nh, s->n_seq), 256, 0, ci->stream>>>((float *)lse, w.stats, s->cu_seqlens,
                                                                             s->n_seq, nh, w.s, s->T, 1);
    S1C_CUDA_LAUNCH_CHECK();
    // The accumulator graph adds dQ into this buffer (cudnn-frontend memsets it before every
    // execute); the deterministic graph has none.
    if (w.dq_accum) S1C_CUDA_CHECK(cudaMemsetAsync(w.dq_accum, 0, w.dq_accum_bytes, ci->stream));
    const bf16 *k = qkv + (size_t)nh * hd, *v = qkv + (size_t)(nh + nkv) * hd;
    // Exactly the graph's tensors: V itself is not in the backward graph (V^T is).
    int64_t uids[] = {UID_Q, UID_K, UID_VT, UID_O, UID_STATS, UID_SEQ_Q, UID_SEQ_KV, UID_SCALE,
                      UID_NEG, UID_ONE, UID_OFF_Q, UID_OFF_K, UID_OFF_VT,
                      UID_OFF_O, UID_DO, UID_OFF_DO, UID_DQ, UID_DK, UID_DV, UID_OFF_DQ, UID_OFF_DK, UID_OFF_DV,
                      UID_SOFTMAX_SUM, UID_DQ_ACCUM};
    void *ptrs[] = {(void *)qkv, (void *)k, (void *)v, (void *)out, w.stats, seq, seq, &scale, &neg,
                    &one, oq, oq, oq, oo, (void *)dout, oo, dqkv, dqkv + (size_t)nh * hd,
                    dqkv + (size_t)(nh + nkv) * hd, oq, oq, oq, w.softmax_sum, w.dq_accum};
    static_assert(sizeof uids / sizeof uids[0] == sizeof ptrs / sizeof ptrs[0], "one pointer per uid");
    // the deterministic graph has no UID_DQ_ACCUM tensor (the last entry): the pack is exactly the
    // graph's tensors
    S1C_ASSERT(uids[sizeof uids / sizeof uids[0] - 1] == UID_DQ_ACCUM);
    run_plan(ci, p, (int)(sizeof uids / sizeof uids[0]) - (p->det ? 1 : 0), uids, ptrs, w.cudnn_ws);
    return 0;
}

// ---- the attention ops: cuDNN first, own kernels for what it refuses ------------------------------
static void cu_attention_fwd(s1c_backend *be, void *out, float *lse, const void *qkv, const s1c_attn_shape *s) {
    cuda_impl *ci = cuda_impl_of(be);
    if (s->T <= 0) return;
    const int r = cuda_attn_cudnn_fwd(ci, (bf16 *)out, lse, (const bf16 *)qkv, s);
    if (r == 0) {
        ci->attn_calls[0]++;
        return;
    }
    if (r == CUDA_ATTN_BY_DESIGN) ci->attn_by_design[0]++;
    else ci->attn_calls[2]++;
    cuda_attn_own_fwd(ci, (bf16 *)out, lse, (const bf16 *)qkv, s);
}

static void cu_attention_bwd(s1c_backend *be, void *dqkv, const void *dout, const void *qkv, const void *out,
                             const float *lse, const s1c_attn_shape *s) {
    cuda_impl *ci = cuda_impl_of(be);
    if (s->T <= 0) return;
    const int r = cuda_attn_cudnn_bwd(ci, (bf16 *)dqkv, (const bf16 *)dout, (const bf16 *)qkv, (const bf16 *)out, lse, s);
    if (r == 0) {
        ci->attn_calls[1]++;
        return;
    }
    if (r == CUDA_ATTN_BY_DESIGN) ci->attn_by_design[1]++;
    else ci->attn_calls[3]++;
    cuda_attn_own_bwd(ci, (bf16 *)dqkv, (const bf16 *)dout, (const bf16 *)qkv, (const bf16 *)out, lse, s);
}

void cuda_install_attention_ops(s1c_backend *be) {
    be->attention_fwd = cu_attention_fwd;
    be->attention_bwd = cu_attention_bwd;
}
