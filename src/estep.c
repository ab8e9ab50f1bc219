/* The E-step in log space, fused with the sums the next M-step needs.
 *
 * log N(x | mu, Sigma) = -(d log(2 pi) + log det Sigma + |L^{-1}(x - mu)|^2) / 2 with
 * Sigma = L L'.  The whitened residual L^{-1}(x - mu) is found by forward substitution
 * over a block of rows at a time, so every inner loop runs along contiguous rows.
 * Responsibilities come from log-sum-exp over components with the maximum shifted out.
 *
 * One pass over the data per EM iteration: each block's responsibilities are used at
 * once to accumulate, for every component, n_k = sum w z, s_k = sum w z (x - m_k) and
 * W0_k = sum w z (x - m_k)(x - m_k)' about the current means m_k (the M-step turns
 * these into the new means and scatter matrices).  Rows are split into a fixed number
 * of chunks, whatever the number of threads; each chunk sums its blocks in order and
 * the chunks are added in order, so the result is bitwise the same for any number of
 * threads.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "gaussmix.h"

#define LOG_2PI 1.837877066409345483560659472811

/* Number of doubles one chunk accumulates: ll, n_k, s_k, W0_k, and the sums of the
 * responsibilities over the rows of positive weight (k). */
static size_t chunk_size(int d, int k)
{
  return 1 + 2 * (size_t) k + (size_t) k * d + (size_t) k * d * d;
}

/* Where each chunk's sums start: chunk_size rounded up to whole cache lines, so that
 * no two chunks (summed by different threads) share a line. */
static size_t chunk_stride(int d, int k)
{
  return (chunk_size(d, k) + 7) / 8 * 8;
}

/* n doubles of R_alloc memory starting on a 64-byte boundary.  R's allocator promises
 * no such alignment, so where a vector starts depends on the heap; vector loads that
 * straddle cache lines made the same pass up to 40% slower from one process to the
 * next (bench/README.md). */
static double *alloc_aligned(size_t n)
{
  char *p = R_alloc(n * sizeof(double) + 64, 1);
  return (double *) (p + ((64 - ((uintptr_t) p & 63)) & 63));
}

/* The weights of a block of unit-weight rows: reading them here rather than from w
 * saves a pass's memory traffic the size of a column of x. */
#define GM_ONE8 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0
#define GM_ONE64 GM_ONE8, GM_ONE8, GM_ONE8, GM_ONE8, GM_ONE8, GM_ONE8, GM_ONE8, GM_ONE8
static const double gm_ones[GM_BLOCK] __attribute__((aligned(64))) = {
  GM_ONE64, GM_ONE64, GM_ONE64, GM_ONE64};
_Static_assert(GM_BLOCK == 256, "gm_ones holds 256 ones");

/* Per-thread scratch: the block's rows (B x d, copied so that the kernels read them
 * from aligned memory whatever the alignment of x), residuals (B x d), weighted
 * residuals (B x d), log densities (B x k), the block's responsibilities when z is not
 * kept (B x k), weights (B), row maxima, sums, entropy terms, clamped log terms and
 * their 0/1 masks (B each). */
static size_t scratch_size(int d, int k)
{
  return (size_t) GM_BLOCK * (3 * (size_t) d + 2 * (size_t) k + 6);   /* whole lines */
}

/* The number of blocks of GM_BLOCK rows in n rows, formed in R_xlen_t: n + GM_BLOCK - 1
 * overflows an int for n within GM_BLOCK of INT_MAX, a row count R allows. */
int gm_nblocks(int n)
{
  return (int) (((R_xlen_t) n + GM_BLOCK - 1) / GM_BLOCK);
}

/* The number of chunks, the unit of parallel work and of the fixed-order sums. */
int gm_nchunks(int nblocks)
{
  return nblocks < GM_CHUNKS ? nblocks : GM_CHUNKS;
}

/* The blocks [*b0, *b1) of chunk ch when nblocks blocks are split into nchunk chunks. */
void gm_chunk_blocks(int nblocks, int nchunk, int ch, int *b0, int *b1)
{
  *b0 = (int) ((R_xlen_t) ch * nblocks / nchunk);
  *b1 = (int) ((R_xlen_t) (ch + 1) * nblocks / nchunk);
}

void gm_pass_alloc(gm_pass_work *pw, int n, int d, int k, int threads)
{
  const int nblocks = gm_nblocks(n);
  pw->nchunk = gm_nchunks(nblocks);
  pw->nthreads = threads < 1 ? 1 : threads;
  pw->diag = 0;
  pw->full = 0;
  if (pw->nthreads > pw->nchunk) pw->nthreads = pw->nchunk;
  pw->chunk = alloc_aligned(pw->nchunk * chunk_stride(d, k));
  pw->scratch = alloc_aligned(pw->nthreads * scratch_size(d, k));
  pw->status = (int *) R_alloc(pw->nchunk, sizeof(int));
  pw->ent = (double *) R_alloc(pw->nchunk, sizeof(double));
  pw->noise_nk = (double *) R_alloc(pw->nchunk, sizeof(double));
  pw->noise_sum = 0.0;
  pw->cst = (double *) R_alloc((size_t) k + 1, sizeof(double));   /* (+1: noise) */
  pw->single = NULL;
  pw->fwork = (double *) R_alloc((size_t) 5 * k, sizeof(double));   /* gm_pass_single's */
  memset(&pw->hs, 0, sizeof pw->hs);
}

/* Room for Newton's sums (newton.c) in passes of up to k components, or of as many
 * as are affordable (gm_newton_kmax); pw->hs.chunk stays NULL when none are. */
void gm_pass_alloc_newton(gm_pass_work *pw, int d, int k)
{
  k = gm_newton_kmax(d, k);
  if (!k) return;
  const int nm = gm_newton_nm(d);
  const size_t len = gm_newton_nsums(d, k);
  pw->hs.stride = (len + 7) / 8 * 8;
  pw->hs.chunk = alloc_aligned(pw->nchunk * pw->hs.stride);
  pw->hs.sum = (double *) R_alloc(len, sizeof(double));
  pw->hs.scr = alloc_aligned((size_t) pw->nthreads * (nm + 1) * GM_BLOCK);
}

/* GCC's vector extensions and AVX-512's intrinsics, for the AVX-512 paths of the log
 * densities and of exp(); gm_avx512 is set at load time (gm_estep_init) when the
 * processor has what the x86-64-v4 versions of the kernels need, that is, when those
 * are the versions that run. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && __GNUC__ >= 11   /* (as for GM_HOT's versions in gaussmix.h) */
#define GM_VEC_EXT 1
#include <immintrin.h>
typedef double v8d __attribute__((vector_size(64)));
static int gm_avx512 = 0;
#endif

#ifdef GM_VEC_EXT
/* The largest d whose whitened residuals block_logdens keeps in registers on the
 * AVX-512 path: two groups of eight rows, 2 d vectors of the 32. */
#define GM_LD_REG 10

/* block_logdens's sums of squared whitened residuals |L^{-1}(x - mu)|^2 for the
 * sixteen rows from b, with the residuals of both groups of eight in registers (d is
 * a constant where this is inlined, so the arrays are registers).  The operations and
 * their order are those of block_logdens's loops over the rows, so the results are
 * the same to the bit; what goes is the loads and stores of the residuals between
 * those loops. */
static inline __attribute__((always_inline)) void logdens_reg16(
    const int d, const double *xb, const double *mu, const double *L, int b, double *out)
{
  v8d r0[GM_LD_REG], r1[GM_LD_REG];
  const v8d zero = {0.0};
#pragma GCC unroll 16
  for (int j = 0; j < d; j++) {
    memcpy(r0 + j, xb + (size_t) j * GM_BLOCK + b, sizeof(v8d));
    memcpy(r1 + j, xb + (size_t) j * GM_BLOCK + b + 8, sizeof(v8d));
    r0[j] -= mu[j];
    r1[j] -= mu[j];
  }
  v8d o0 = zero, o1 = zero;
  int j = 0;
#pragma GCC unroll 16
  for (; j + 2 <= d; j += 2) {
    int l = 0;
#pragma GCC unroll 16
    for (; l + 4 <= j; l += 4) {
      const double *Lj = L + j + (size_t) l * d;
      const double a0 = Lj[0], a1 = Lj[d], a2 = Lj[2 * d], a3 = Lj[3 * d];
      const double c0 = Lj[1], c1 = Lj[d + 1], c2 = Lj[2 * d + 1], c3 = Lj[3 * d + 1];
      r0[j] -= a0 * r0[l] + a1 * r0[l + 1] + a2 * r0[l + 2] + a3 * r0[l + 3];
      r0[j + 1] -= c0 * r0[l] + c1 * r0[l + 1] + c2 * r0[l + 2] + c3 * r0[l + 3];
      r1[j] -= a0 * r1[l] + a1 * r1[l + 1] + a2 * r1[l + 2] + a3 * r1[l + 3];
      r1[j + 1] -= c0 * r1[l] + c1 * r1[l + 1] + c2 * r1[l + 2] + c3 * r1[l + 3];
    }
#pragma GCC unroll 16
    for (; l < j; l++) {
      const double a = L[j + (size_t) l * d], c = L[j + 1 + (size_t) l * d];
      r0[j] -= a * r0[l];
      r0[j + 1] -= c * r0[l];
      r1[j] -= a * r1[l];
      r1[j + 1] -= c * r1[l];
    }
    const double inv = 1.0 / L[j + (size_t) j * d], ck = L[j + 1 + (size_t) j * d];
    const double invk = 1.0 / L[j + 1 + (size_t) (j + 1) * d];
    const v8d u0 = r0[j] * inv, v0 = (r0[j + 1] - ck * u0) * invk;
    const v8d u1 = r1[j] * inv, v1 = (r1[j + 1] - ck * u1) * invk;
    r0[j] = u0;
    r0[j + 1] = v0;
    r1[j] = u1;
    r1[j + 1] = v1;
    o0 += u0 * u0 + v0 * v0;
    o1 += u1 * u1 + v1 * v1;
  }
  if (j < d) {   /* an odd last column */
    int l = 0;
#pragma GCC unroll 16
    for (; l + 4 <= j; l += 4) {
      const double *Lj = L + j + (size_t) l * d;
      const double a0 = Lj[0], a1 = Lj[d], a2 = Lj[2 * d], a3 = Lj[3 * d];
      r0[j] -= a0 * r0[l] + a1 * r0[l + 1] + a2 * r0[l + 2] + a3 * r0[l + 3];
      r1[j] -= a0 * r1[l] + a1 * r1[l + 1] + a2 * r1[l + 2] + a3 * r1[l + 3];
    }
#pragma GCC unroll 16
    for (; l < j; l++) {
      const double a = L[j + (size_t) l * d];
      r0[j] -= a * r0[l];
      r1[j] -= a * r1[l];
    }
    const double inv = 1.0 / L[j + (size_t) j * d];
    r0[j] *= inv;
    r1[j] *= inv;
    o0 += r0[j] * r0[j];
    o1 += r1[j] * r1[j];
  }
  memcpy(out + b, &o0, sizeof o0);
  memcpy(out + b + 8, &o1, sizeof o1);
}
#endif

/* The per-pass constants of block_logdens: cst[c] = log(pi_c) - (d log(2 pi) +
 * log det Sigma_c) / 2, and with noise cst[k] = log(pi_noise) + its log density. */
static void logdens_constants(const gm_par *P, double *cst)
{
  for (int c = 0; c < P->k; c++)
    cst[c] = log(P->pro[c]) - 0.5 * (P->d * LOG_2PI + P->logdet[c]);
  if (P->noise) cst[P->k] = log(P->pro[P->k]) + P->lognoise;
}

/* Row by row, the larger of mx and out (out where c = 0), as block_normalise needs
 * them: the largest log term of each row, found as the terms are written.  Where
 * `first` is a constant the loop's maximum is one instruction (MAXPD keeps mx[b] when
 * either is NaN, as the comparison does), hence the loops below written twice over
 * by the inlined functions, once for c = 0 and once for the rest. */
#define GM_ROW_MAX(first, b, v) (mx[b] = (first) || (v) > mx[b] ? (v) : mx[b])

/* block_logdens for one or two dimensions (d a constant where this is inlined): one
 * loop in registers; `first` says whether c = 0. */
static inline __attribute__((always_inline)) void logdens_small(
    int d, int first, int m, const double *xb, const double *mu, const double *L,
    double cst_c, double *out, double *mx)
{
  const double *x0 = xb, *x1 = x0 + GM_BLOCK, m0 = mu[0], inv0 = 1.0 / L[0];
  const double m1 = d == 2 ? mu[1] : 0.0, l10 = d == 2 ? L[1] : 0.0;
  const double inv1 = d == 2 ? 1.0 / L[3] : 0.0;
  GM_SIMD
  for (int b = 0; b < m; b++) {
    const double r0 = (x0[b] - m0) * inv0;
    double v;
    if (d == 1) {
      v = cst_c - 0.5 * (r0 * r0);
    } else {
      const double r1 = ((x1[b] - m1) - l10 * r0) * inv1;
      v = cst_c - 0.5 * (r0 * r0 + r1 * r1);
    }
    out[b] = v;
    GM_ROW_MAX(first, b, v);
  }
}

/* The last step of block_logdens: lz's column out from the sums of squares it holds. */
static inline __attribute__((always_inline)) void logdens_finish(int first, int m,
                                                                 double cst_c, double *out,
                                                                 double *mx)
{
  GM_SIMD
  for (int b = 0; b < m; b++) {
    const double v = cst_c - 0.5 * out[b];
    out[b] = v;
    GM_ROW_MAX(first, b, v);
  }
}

/* lz (m x k) = log(pi_c) + log N(x_i | mu_c, Sigma_c) for the block's rows, and in mx
 * (m) the largest of each row's terms; cst from logdens_constants(). */
GM_HOT static void block_logdens(const gm_data *D, const gm_par *P, const double *cst,
                                 const double *xb, int m, double *lz, double *mx, double *r,
                                 int diag)
{
  const int d = D->d;
  for (int c = 0; c < P->k; c++) {
    const double *L = P->chol + (size_t) c * d * d;
    const double *mu = P->mean + (size_t) c * d;
    const double cst_c = cst[c];
    double *out = lz + (size_t) c * m;
    /* One and two dimensions: the same arithmetic in a single loop, in registers. */
    if (d == 1) {
      if (c == 0) logdens_small(1, 1, m, xb, mu, L, cst_c, out, mx);
      else logdens_small(1, 0, m, xb, mu, L, cst_c, out, mx);
      continue;
    }
    if (d == 2) {
      if (c == 0) logdens_small(2, 1, m, xb, mu, L, cst_c, out, mx);
      else logdens_small(2, 0, m, xb, mu, L, cst_c, out, mx);
      continue;
    }
    int b0 = 0;   /* the rows before b0 are done in registers */
#ifdef GM_VEC_EXT
    if (gm_avx512 && !diag && d <= GM_LD_REG) {
      const int m16 = m & ~15;
      switch (d) {   /* d a constant in each case */
#define GM_LD_CASE(D) \
      case D: for (; b0 < m16; b0 += 16) logdens_reg16(D, xb, mu, L, b0, out); break;
      GM_LD_CASE(3) GM_LD_CASE(4) GM_LD_CASE(5) GM_LD_CASE(6) GM_LD_CASE(7)
      GM_LD_CASE(8) GM_LD_CASE(9) GM_LD_CASE(10)
#undef GM_LD_CASE
      }
    }
#endif
    for (int b = b0; b < m; b++) out[b] = 0.0;
    if (diag) {   /* L is diagonal: its zeros would change nothing */
      for (int j = 0; j < d; j++) {
        const double *xj = xb + (size_t) j * GM_BLOCK;
        const double mj = mu[j], inv = 1.0 / L[j + (size_t) j * d];
        GM_SIMD
        for (int b = b0; b < m; b++) {
          const double t = (xj[b] - mj) * inv;
          out[b] += t * t;
        }
      }
    } else {
      /* Forward substitution two columns at a time: each pass over an earlier
       * column's residuals serves both, so there are fewer loads per multiply-add. */
      int j = 0;
      for (; j + 2 <= d; j += 2) {
        double *rj = r + (size_t) j * m, *rk = rj + m;
        const double *xj = xb + (size_t) j * GM_BLOCK, *xk = xj + GM_BLOCK;
        const double mj = mu[j], mk = mu[j + 1];
        GM_SIMD
        for (int b = b0; b < m; b++) {
          rj[b] = xj[b] - mj;
          rk[b] = xk[b] - mk;
        }
        int l = 0;
        for (; l + 4 <= j; l += 4) {  /* four earlier columns per sweep */
          const double *Lj = L + j + (size_t) l * d;
          const double a0 = Lj[0], a1 = Lj[d], a2 = Lj[2 * d], a3 = Lj[3 * d];
          const double c0 = Lj[1], c1 = Lj[d + 1], c2 = Lj[2 * d + 1], c3 = Lj[3 * d + 1];
          const double *r0 = r + (size_t) l * m, *r1 = r0 + m, *r2 = r1 + m, *r3 = r2 + m;
          GM_SIMD
          for (int b = b0; b < m; b++) {
            const double q0 = r0[b], q1 = r1[b], q2 = r2[b], q3 = r3[b];
            rj[b] -= a0 * q0 + a1 * q1 + a2 * q2 + a3 * q3;
            rk[b] -= c0 * q0 + c1 * q1 + c2 * q2 + c3 * q3;
          }
        }
        for (; l < j; l++) {
          const double a = L[j + (size_t) l * d], c = L[j + 1 + (size_t) l * d];
          const double *rl = r + (size_t) l * m;
          GM_SIMD
          for (int b = b0; b < m; b++) {
            rj[b] -= a * rl[b];
            rk[b] -= c * rl[b];
          }
        }
        const double inv = 1.0 / L[j + (size_t) j * d], ck = L[j + 1 + (size_t) j * d];
        const double invk = 1.0 / L[j + 1 + (size_t) (j + 1) * d];
        GM_SIMD
        for (int b = b0; b < m; b++) {
          const double u = rj[b] * inv, v = (rk[b] - ck * u) * invk;
          rj[b] = u;
          rk[b] = v;
          out[b] += u * u + v * v;
        }
      }
      if (j < d) {   /* an odd last column */
        double *rj = r + (size_t) j * m;
        const double *xj = xb + (size_t) j * GM_BLOCK;
        const double mj = mu[j];
        GM_SIMD
        for (int b = b0; b < m; b++) rj[b] = xj[b] - mj;
        int l = 0;
        for (; l + 4 <= j; l += 4) {
          const double *Lj = L + j + (size_t) l * d;
          const double a0 = Lj[0], a1 = Lj[d], a2 = Lj[2 * d], a3 = Lj[3 * d];
          const double *r0 = r + (size_t) l * m, *r1 = r0 + m, *r2 = r1 + m, *r3 = r2 + m;
          GM_SIMD
          for (int b = b0; b < m; b++)
            rj[b] -= a0 * r0[b] + a1 * r1[b] + a2 * r2[b] + a3 * r3[b];
        }
        for (; l < j; l++) {
          const double a = L[j + (size_t) l * d];
          const double *rl = r + (size_t) l * m;
          GM_SIMD
          for (int b = b0; b < m; b++) rj[b] -= a * rl[b];
        }
        const double inv = 1.0 / L[j + (size_t) j * d];
        GM_SIMD
        for (int b = b0; b < m; b++) {
          rj[b] *= inv;
          out[b] += rj[b] * rj[b];
        }
      }
    }
    if (c == 0) logdens_finish(1, m, cst_c, out, mx);
    else logdens_finish(0, m, cst_c, out, mx);
  }
  if (P->noise) {   /* the uniform component: the same log term for every row */
    double *out = lz + (size_t) P->k * m;
    const double v = cst[P->k];
    for (int b = 0; b < m; b++) {
      out[b] = v;
      GM_ROW_MAX(P->k == 0, b, v);
    }
  }
}

/* A term more than this many nats below a row's largest is below 2e-22 of it: too
 * small to change the row's sum in double precision, so its responsibility is set to
 * 0 (it would be below 1e-21). */
#define GM_NEGLIGIBLE 50.0

/* 2^(j / 16), j = 0, ..., 15, rounded to double (the exp() table below); aligned for
 * the AVX-512 path, which holds it in two vector registers. */
static const double gm_exp2_16th[16] __attribute__((aligned(64))) = {
  0x1p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
  0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
  0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
  0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0};

/* exp()'s reduction and polynomial, shared by its two paths so that both do the same
 * operations: 16 t / log 2 plus 1.5 * 2^52 (the sum's low bits hold 16 n + j), r = t -
 * (16 n + j) log(2) / 16 with log(2) / 16 in a head and a tail, and q(r) with exp(r) =
 * 1 + r + r^2 q(r), by Horner's rule (the fewest multiply-adds). */
#define GM_EXP_KD(t) ((t) * (16 * 0x1.71547652b82fep0) + 0x1.8p52)
#define GM_EXP_R(t, kd) (((t) - (kd) * 0x1.62e42fefa3800p-5) - (kd) * 0x1.ef35793c7673p-49)
#define GM_EXP_Q(r)                                                                 \
  (1.0 / 2 + (r) * (1.0 / 6 + (r) * (1.0 / 24 + (r) * (1.0 / 120 + (r) * (1.0 / 720 + \
                                                                        (r) * (1.0 / 5040))))))
/* 2^n from the low bits of kd, shifted into the exponent field: added to the bits of
 * a positive normal double it multiplies that by 2^n exactly while the product stays
 * normal, with an integer addition instead of a multiplication.  Here the double is
 * 2^(j/16) exp(r), within [2^(-1/32), 2), and n >= -73, far from the subnormals. */
#define GM_EXP_N(bits) (((bits) >> 4) << 52)

void gm_estep_init(void)
{
#ifdef GM_VEC_EXT
  __builtin_cpu_init();
  gm_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
              __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
              __builtin_cpu_supports("avx512cd");
#endif
}

#ifdef GM_VEC_EXT
/* block_normalise's exp() on processors with AVX-512, for groups of sixteen rows,
 * two groups of eight at a time (two independent chains of dependent operations,
 * which the processor overlaps), their sums in registers: the operations of the
 * portable loops below, in the same order, so the same bits, with AVX-512's own
 * instructions where they do in one what the portable code does in several.  The
 * table of 2^(j/16) is two registers read by a two-source permutation, which looks
 * only at the low four bits of each index (no masking); 2^n is applied by VSCALEFPD,
 * exact while the result is normal (it is: see GM_EXP_N), with the negligible terms
 * zeroed by its mask; the clamp at -GM_NEGLIGIBLE is a maximum whose second operand,
 * the term, is what a NaN term gives (the portable loops keep it NaN too).  Writes
 * e^t into zb and sum e^t, sum e^t t into s and u; returns the rows done. */
__attribute__((noinline, target("arch=x86-64-v4")))
static int exp_groups(int m, int k, R_xlen_t n, const double *lz, double *zb,
                      const double *mx, double *s, double *u)
{
  const __m512d tlo = _mm512_loadu_pd(gm_exp2_16th), thi = _mm512_loadu_pd(gm_exp2_16th + 8);
  const __m512d negv = _mm512_set1_pd(-GM_NEGLIGIBLE);
  int b0 = 0;
  for (; b0 + 16 <= m; b0 += 16) {
    const __m512d m0 = _mm512_loadu_pd(mx + b0), m1 = _mm512_loadu_pd(mx + b0 + 8);
    __m512d s0 = _mm512_setzero_pd(), u0 = s0, s1 = s0, u1 = s0;
    for (int c = 0; c < k; c++) {
      const double *l = lz + (size_t) c * m + b0;
      double *zc = zb + (size_t) c * n + b0;
      const __m512d t0 = _mm512_loadu_pd(l) - m0, t1 = _mm512_loadu_pd(l + 8) - m1;
      /* exp(t) of a vector t of eight terms, with the clamped t in TC (__m512d is
       * one of GCC's vector types, so the shared macros apply as they are). */
#define GM_EXP8I(t, TC, E)                                                       \
      const __mmask8 keep_##t = _mm512_cmp_pd_mask(t, negv, _CMP_NLT_UQ);       \
      const __m512d TC = _mm512_max_pd(negv, t);                                 \
      __m512d kd_##t = GM_EXP_KD(TC);                                            \
      const __m512i j_##t = _mm512_castpd_si512(kd_##t);                         \
      kd_##t -= 0x1.8p52;                                                        \
      const __m512d r_##t = GM_EXP_R(TC, kd_##t), r2_##t = r_##t * r_##t;        \
      const __m512d q_##t = GM_EXP_Q(r_##t);                                     \
      const __m512d tb_##t = _mm512_permutex2var_pd(tlo, j_##t, thi);            \
      const __m512d p_##t = tb_##t + tb_##t * (r_##t + r2_##t * q_##t);          \
      const __m512d E = _mm512_maskz_scalef_pd(keep_##t, p_##t, kd_##t * (1.0 / 16))
      GM_EXP8I(t0, tc0, e0);
      GM_EXP8I(t1, tc1, e1);
#undef GM_EXP8I
      _mm512_storeu_pd(zc, e0);
      _mm512_storeu_pd(zc + 8, e1);
      s0 += e0;
      u0 += e0 * tc0;
      s1 += e1;
      u1 += e1 * tc1;
    }
    _mm512_storeu_pd(s + b0, s0);
    _mm512_storeu_pd(u + b0, u0);
    _mm512_storeu_pd(s + b0 + 8, s1);
    _mm512_storeu_pd(u + b0 + 8, u1);
  }
  return b0;
}
#endif

/* From the block's log terms lz (m x k), writes its responsibilities into zb (m rows
 * of the n x k matrix z, so column c starts at zb + c n), adds sum_i w_i log p(x_i)
 * to *ll and the entropy -sum_i w_i sum_c z_ic log z_ic to *ent.  With AVX-512,
 * groups of sixteen rows go through every component with their sums in registers
 * (exp_groups); otherwise the loops work a component at a time along the rows, so
 * that they are contiguous and vectorise.  mx holds each row's largest log term on entry
 * (block_logdens), and s, u, tc and kp are m-long scratch (kp holds 64-bit masks).
 * With scale = 0 the rows of zb are left unnormalised and s holds the factors 1 /
 * sum that normalise them (block_stats applies them as it reads z).  Returns
 * GM_NONFINITE when a row's log density is not finite. */
GM_HOT static int block_normalise(int m, int k, R_xlen_t n, const double *w,
                                  const int *lab, const double *lz, double *zb,
                                  double *rowll, double *ll, double *ent, double *mx,
                                  double *s, double *u, double *tc, double *kp, int scale)
{
  /* mx (from block_logdens) - mx is 0 for a finite maximum and NaN for an infinite or NaN one. */
  double bad = 0.0;
  GM_SIMD_SUM(bad)
  for (int b = 0; b < m; b++) bad += mx[b] - mx[b];
  if (bad != 0.0) return GM_NONFINITE;
  /* exp(t) for t = lz - mx in [-GM_NEGLIGIBLE, 0], written out without calls so that
   * the compiler evaluates a vector of rows at a time.  Tang's table-driven method
   * (Tang 1989, ACM TOMS 15:144): t = (16 n + j) log(2) / 16 + r with n + j / 16 the
   * multiple of 1/16 nearest t / log 2 and |r| <= log(2) / 32, so exp(t) = 2^n
   * 2^(j/16) exp(r); log(2) / 16 is split into a head whose products with 16 n + j are
   * exact and a tail (Cody and Waite 1980); 2^(j/16) comes from a table of its 16
   * values rounded to double; exp(r) = 1 + r + r^2 q(r) by the Taylor polynomial of
   * degree 7 (truncation error below 2e-18 relative); 2^n is added to the exponent
   * field (GM_EXP_N).  Adding 1.5 * 2^52 rounds 16 t / log 2 to 16 n + j and leaves it
   * in the low bits of the sum.  Terms below -GM_NEGLIGIBLE are clamped there and
   * their results masked to 0.  A NaN term makes its row's u NaN, which fails the
   * pass below (its exp() is not kept NaN by the exponent addition).  On processors
   * with AVX-512 (gm_avx512 says whether the code runs there) exp_groups() does the
   * groups of sixteen rows; the rest, and everything elsewhere, read the table as an
   * array, and GCC does not vectorise the polynomial's loop for AVX2 with a
   * conditional in it, hence a first loop that clamps t and keeps a mask of the terms
   * that are not negligible.  Both give the same bits.  tests/testthat/test-estep.R
   * checks them against R's exp() across the range and against each other. */
  int b0 = 0;   /* the rows before b0 are done sixteen at a time */
#ifdef GM_VEC_EXT
  if (gm_avx512) b0 = exp_groups(m, k, n, lz, zb, mx, s, u);   /* (sets s and u there) */
#endif
  for (int b = b0; b < m; b++) {   /* the loops below add to them */
    s[b] = 0.0;
    u[b] = 0.0;
  }
  for (int c = 0; c < k; c++) {
    const double *l = lz + (size_t) c * m;
    double *zc = zb + (size_t) c * n;
    GM_SIMD
    for (int i = b0; i < m; i++) {
      const double t = l[i] - mx[i];
      const uint64_t keep = t < -GM_NEGLIGIBLE ? 0 : ~(uint64_t) 0;
      tc[i] = t < -GM_NEGLIGIBLE ? -GM_NEGLIGIBLE : t;
      memcpy(kp + i, &keep, sizeof keep);
    }
    GM_SIMD
    for (int i = b0; i < m; i++) {
      const double t = tc[i];
      double kd = GM_EXP_KD(t);
      uint64_t bits, pb, keep;
      memcpy(&bits, &kd, sizeof bits);
      kd -= 0x1.8p52;
      const double r = GM_EXP_R(t, kd), r2 = r * r, q = GM_EXP_Q(r);
      const double tb = gm_exp2_16th[bits & 15];
      const double p = tb + tb * (r + r2 * q);
      memcpy(&pb, &p, sizeof pb);
      memcpy(&keep, kp + i, sizeof keep);
      pb = (pb + GM_EXP_N(bits)) & keep;
      double e;
      memcpy(&e, &pb, sizeof e);
      zc[i] = e;
      s[i] += e;
      u[i] += e * t;   /* sum_c e^t t for the entropy, with t clamped so that a term
                        * of -Inf adds 0, not 0 * -Inf */
    }
  }
  /* log(s) for 1 <= s <= k by gm_log (gaussmix.h), again without branches or calls.
   * With z_c = e^{t_c} / s, the row's entropy -sum_c z_c log z_c = log s - u / s. */
  GM_SIMD
  for (int b = 0; b < m; b++) {
    const double sb = s[b], ub = u[b], logs = gm_log(sb);
    mx[b] += logs + ((sb - sb) + (ub - ub));   /* NaN if a term was NaN, else + 0 */
    s[b] = 1.0 / sb;
    u[b] = logs - ub * s[b];
  }
  /* A row of known component L (lab[b] = L > 0) keeps responsibility 1 for it: its
   * term of the log-likelihood is log(pi_L f_L(x)), it adds no entropy, and its
   * normalising factor is 1 (McLachlan and Peel 2000, section 2.19). */
  if (lab)
    for (int b = 0; b < m; b++) {
      const int L = lab[b];
      if (L <= 0) continue;
      for (int c = 0; c < k; c++) zb[(size_t) c * n + b] = c == L - 1 ? 1.0 : 0.0;
      mx[b] = lz[(size_t) (L - 1) * m + b];
      s[b] = 1.0;
      u[b] = 0.0;
    }
  /* mx now holds log p(x_i). */
  if (rowll) memcpy(rowll, mx, (size_t) m * sizeof(double));
  double acc = 0.0, h = 0.0;
  if (w) {
    GM_SIMD_SUM(acc, h)
    for (int b = 0; b < m; b++) {
      acc += w[b] * mx[b];
      h += w[b] * u[b];
    }
  } else {
    GM_SIMD_SUM(acc, h)
    for (int b = 0; b < m; b++) {
      acc += mx[b];
      h += u[b];
    }
  }
  *ll += acc;
  *ent += h;
  if (scale)
    for (int c = 0; c < k; c++) {
      double *zc = zb + (size_t) c * n;
      GM_SIMD
      for (int b = 0; b < m; b++) zc[b] *= s[b];
    }
  return GM_OK;
}

/* The sums of one component over a block for d <= 2, in registers: sums[0 .. 5] =
 * sum g, sum g r0, sum g r1, sum g r0^2, sum g r1 r0, sum g r1^2 with g = w z sc and
 * r the residuals; z scaled is written to zo unless it is NULL.  Inlined with d and
 * the store known, so that 1-D data carry no second column and passes that keep no
 * responsibilities store none. */
static inline __attribute__((always_inline)) void small_sums(
    int d, int m, const double *x0, const double *x1, double m0, double m1,
    const double *zc, const double *sc, const double *wb, double *zo, double *sums)
{
  double sg = 0.0, f0 = 0.0, f1 = 0.0, w00 = 0.0, w10 = 0.0, w11 = 0.0;
  if (d == 1) {
    GM_SUMS_SIMD(sg, f0, w00)
    for (int b = 0; b < m; b++) {
      const double zs = zc[b] * sc[b];
      if (zo) zo[b] = zs;
      const double gb = wb[b] * zs, r0 = x0[b] - m0, g0 = gb * r0;
      sg += gb;
      f0 += g0;
      w00 += g0 * r0;
    }
  } else {
    GM_SUMS_SIMD(sg, f0, f1, w00, w10, w11)
    for (int b = 0; b < m; b++) {
      const double zs = zc[b] * sc[b];
      if (zo) zo[b] = zs;
      const double gb = wb[b] * zs;
      const double r0 = x0[b] - m0, r1 = x1[b] - m1;
      const double g0 = gb * r0, g1 = gb * r1;
      sg += gb;
      f0 += g0;
      f1 += g1;
      w00 += g0 * r0;
      w10 += g1 * r0;
      w11 += g1 * r1;
    }
  }
  sums[0] = sg;
  sums[1] = f0;
  sums[2] = f1;
  sums[3] = w00;
  sums[4] = w10;
  sums[5] = w11;
}

/* One tile of block_stats's scatter sums: rows r < R (R = 1, 2 or 4, a constant where
 * this is inlined) of W0_k, whose weighted residuals are g0 .. g3, against four
 * columns from x0 (stride GM_BLOCK) with means mu, added to w0 (row r, column c at
 * w0 + r + c d).  The residuals of the columns are formed where they are read (a
 * subtraction, which runs beside the multiply-adds) rather than stored and loaded;
 * the unused rows' sums are dead code. */
static inline __attribute__((always_inline)) void scatter_tile(
    const int R, int m, const double *g0, const double *g1, const double *g2,
    const double *g3, const double *x0, const double *mu, double *w0, int d)
{
  const double *x1 = x0 + GM_BLOCK, *x2 = x1 + GM_BLOCK, *x3 = x2 + GM_BLOCK;
  const double m0 = mu[0], m1 = mu[1], m2 = mu[2], m3 = mu[3];
  double s00 = 0.0, s01 = 0.0, s02 = 0.0, s03 = 0.0, s10 = 0.0, s11 = 0.0, s12 = 0.0,
         s13 = 0.0, s20 = 0.0, s21 = 0.0, s22 = 0.0, s23 = 0.0, s30 = 0.0, s31 = 0.0,
         s32 = 0.0, s33 = 0.0;
  GM_SUMS_SIMD(s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32,
               s33)
  for (int b = 0; b < m; b++) {
    const double q0 = x0[b] - m0, q1 = x1[b] - m1, q2 = x2[b] - m2, q3 = x3[b] - m3;
    const double h0 = g0[b];
    s00 += h0 * q0;
    s01 += h0 * q1;
    s02 += h0 * q2;
    s03 += h0 * q3;
    if (R > 1) {
      const double h1 = g1[b];
      s10 += h1 * q0;
      s11 += h1 * q1;
      s12 += h1 * q2;
      s13 += h1 * q3;
    }
    if (R > 2) {
      const double h2 = g2[b], h3 = g3[b];
      s20 += h2 * q0;
      s21 += h2 * q1;
      s22 += h2 * q2;
      s23 += h2 * q3;
      s30 += h3 * q0;
      s31 += h3 * q1;
      s32 += h3 * q2;
      s33 += h3 * q3;
    }
  }
  w0[0] += s00;
  w0[d] += s01;
  w0[2 * d] += s02;
  w0[3 * d] += s03;
  if (R > 1) {
    w0[1] += s10;
    w0[d + 1] += s11;
    w0[2 * d + 1] += s12;
    w0[3 * d + 1] += s13;
  }
  if (R > 2) {
    w0[2] += s20;
    w0[d + 2] += s21;
    w0[2 * d + 2] += s22;
    w0[3 * d + 2] += s23;
    w0[3] += s30;
    w0[d + 3] += s31;
    w0[2 * d + 3] += s32;
    w0[3 * d + 3] += s33;
  }
}

/* block_stats for one or two dimensions, all in registers (small_sums). */
GM_HOT_SUMS static void block_stats_small(const gm_data *D, const gm_par *P,
                                           const double *xb, const double *wb, int m,
                                           const double *zb, size_t zstride,
                                           const double *sc, double *zo, size_t ostride,
                                           double *acc)
{
  const int d = D->d, k = P->k;
  double *nk = acc + 1, *s1 = nk + k, *W0 = s1 + (size_t) k * d;
  for (int c = 0; c < k; c++) {
    const double *mu = P->mean + (size_t) c * d;
    const double *zc = zb + c * zstride;
    double *zoc = zo ? zo + c * ostride : NULL;
    double *Wc = W0 + (size_t) c * d * d;
    const double *x0 = xb, *x1 = x0 + GM_BLOCK;
    double sums[6];
    if (d == 1) {
      if (zoc) small_sums(1, m, x0, x1, mu[0], 0.0, zc, sc, wb, zoc, sums);
      else small_sums(1, m, x0, x1, mu[0], 0.0, zc, sc, wb, NULL, sums);
    } else {
      if (zoc) small_sums(2, m, x0, x1, mu[0], mu[1], zc, sc, wb, zoc, sums);
      else small_sums(2, m, x0, x1, mu[0], mu[1], zc, sc, wb, NULL, sums);
    }
    nk[c] += sums[0];
    s1[(size_t) c * d] += sums[1];
    Wc[0] += sums[3];
    if (d == 2) {
      s1[1 + (size_t) c * d] += sums[2];
      Wc[1] += sums[4];
      Wc[3] += sums[5];
    }
  }
}

/* Adds the block's n_k, s_k and W0_k (lower triangle) about the current means.  The
 * block's responsibilities are zb (column c at zb + c zstride) scaled row by row by
 * sc; they are written, scaled, to zo (column c at zo + c ostride), which may be zb,
 * unless zo is NULL (nothing reads them after the sums).  One and two dimensions go
 * to block_stats_small, compiled apart: in one function with the tiles below, GCC
 * spilled a pointer of their loop to the stack (the height example's sums took a
 * third longer). */
GM_HOT_SUMS static void block_stats(const gm_data *D, const gm_par *P, const double *xb,
                               const double *wb, int m,
                               const double *zb, size_t zstride, const double *sc,
                               double *zo, size_t ostride, double *acc, double *gr,
                               double *g, int diag)
{
  const int d = D->d, k = P->k;
  if (d <= 2) {
    block_stats_small(D, P, xb, wb, m, zb, zstride, sc, zo, ostride, acc);
    return;
  }
  double *nk = acc + 1, *s1 = nk + k, *W0 = s1 + (size_t) k * d;
  for (int c = 0; c < k; c++) {
    const double *mu = P->mean + (size_t) c * d;
    const double *zc = zb + c * zstride;
    double *zoc = zo ? zo + c * ostride : NULL;
    double *Wc = W0 + (size_t) c * d * d;
    double sg = 0.0;
    if (zoc) {
      GM_SUMS_SIMD(sg)
      for (int b = 0; b < m; b++) {
        zoc[b] = zc[b] * sc[b];
        g[b] = wb[b] * zoc[b];
        sg += g[b];
      }
    } else {
      GM_SUMS_SIMD(sg)
      for (int b = 0; b < m; b++) {
        g[b] = wb[b] * (zc[b] * sc[b]);
        sg += g[b];
      }
    }
    nk[c] += sg;
    if (diag) {   /* only the diagonal of W0_k: one loop per column */
      for (int j = 0; j < d; j++) {
        const double *xj = xb + (size_t) j * GM_BLOCK;
        const double mj = mu[j];
        double first = 0.0, second = 0.0;
        GM_SUMS_SIMD(first, second)
        for (int b = 0; b < m; b++) {
          const double rb = xj[b] - mj, gb = g[b] * rb;
          first += gb;
          second += gb * rb;
        }
        s1[j + (size_t) c * d] += first;
        Wc[j + (size_t) j * d] += second;
      }
      continue;
    }
    /* The weighted residuals g (x_j - m_j), a column each, and s_k; the residuals
     * themselves are formed again where the sums below read them (scatter_tile). */
    for (int j = 0; j < d; j++) {
      const double *xj = xb + (size_t) j * GM_BLOCK;
      double *grj = gr + (size_t) j * m;
      const double mj = mu[j];
      double first = 0.0;
      GM_SUMS_SIMD(first)
      for (int b = 0; b < m; b++) {
        grj[b] = g[b] * (xj[b] - mj);
        first += grj[b];
      }
      s1[j + (size_t) c * d] += first;
    }
    /* W0_k's lower triangle, four rows at a time: tiles of four rows by four columns
     * (sixteen independent sums from eight columns), then the four rows' own
     * triangle; the last one to three rows in tiles of two rows, then one. */
    int j = 0;
    for (; j + 4 <= d; j += 4) {
      const double *g0 = gr + (size_t) j * m, *g1 = g0 + m, *g2 = g1 + m, *g3 = g2 + m;
      for (int l = 0; l < j; l += 4)
        scatter_tile(4, m, g0, g1, g2, g3, xb + (size_t) l * GM_BLOCK, mu + l,
                     Wc + j + (size_t) l * d, d);
      const double *x0 = xb + (size_t) j * GM_BLOCK, *x1 = x0 + GM_BLOCK,
                   *x2 = x1 + GM_BLOCK, *x3 = x2 + GM_BLOCK;
      const double m0 = mu[j], m1 = mu[j + 1], m2 = mu[j + 2], m3 = mu[j + 3];
      double t00 = 0.0, t10 = 0.0, t11 = 0.0, t20 = 0.0, t21 = 0.0, t22 = 0.0, t30 = 0.0,
             t31 = 0.0, t32 = 0.0, t33 = 0.0;
      GM_SUMS_SIMD(t00, t10, t11, t20, t21, t22, t30, t31, t32, t33)
      for (int b = 0; b < m; b++) {
        const double q0 = x0[b] - m0, q1 = x1[b] - m1, q2 = x2[b] - m2, q3 = x3[b] - m3;
        t00 += g0[b] * q0;
        t10 += g1[b] * q0;
        t11 += g1[b] * q1;
        t20 += g2[b] * q0;
        t21 += g2[b] * q1;
        t22 += g2[b] * q2;
        t30 += g3[b] * q0;
        t31 += g3[b] * q1;
        t32 += g3[b] * q2;
        t33 += g3[b] * q3;
      }
      double *w0 = Wc + j + (size_t) j * d;
      w0[0] += t00;
      w0[1] += t10;
      w0[d + 1] += t11;
      w0[2] += t20;
      w0[d + 2] += t21;
      w0[2 * d + 2] += t22;
      w0[3] += t30;
      w0[d + 3] += t31;
      w0[2 * d + 3] += t32;
      w0[3 * d + 3] += t33;
    }
    if (j + 2 <= d) {   /* two rows */
      const double *g0 = gr + (size_t) j * m, *g1 = g0 + m;
      for (int l = 0; l < j; l += 4)
        scatter_tile(2, m, g0, g1, g1, g1, xb + (size_t) l * GM_BLOCK, mu + l,
                     Wc + j + (size_t) l * d, d);
      const double *x0 = xb + (size_t) j * GM_BLOCK, *x1 = x0 + GM_BLOCK;
      const double m0 = mu[j], m1 = mu[j + 1];
      double t00 = 0.0, t10 = 0.0, t11 = 0.0;
      GM_SUMS_SIMD(t00, t10, t11)
      for (int b = 0; b < m; b++) {
        const double q0 = x0[b] - m0, q1 = x1[b] - m1;
        t00 += g0[b] * q0;
        t10 += g1[b] * q0;
        t11 += g1[b] * q1;
      }
      Wc[j + (size_t) j * d] += t00;
      Wc[j + 1 + (size_t) j * d] += t10;
      Wc[j + 1 + (size_t) (j + 1) * d] += t11;
      j += 2;
    }
    if (j < d) {   /* one row: tiles of one row, then the columns left */
      const double *grj = gr + (size_t) j * m;
      int l = 0;
      for (; l + 4 <= j; l += 4)
        scatter_tile(1, m, grj, grj, grj, grj, xb + (size_t) l * GM_BLOCK, mu + l,
                     Wc + j + (size_t) l * d, d);
      for (; l <= j; l++) {
        const double *xl = xb + (size_t) l * GM_BLOCK;
        const double ml = mu[l];
        double sl = 0.0;
        GM_SUMS_SIMD(sl)
        for (int b = 0; b < m; b++) sl += grj[b] * (xl[b] - ml);
        Wc[j + (size_t) l * d] += sl;
      }
    }
  }
}

/* ---- screening passes in single precision --------------------------------------- *
 *
 * The sweep's screening fits (sweep.c) only rank starts and cells to screen_tol, a
 * relative change of 1e-5 in the log-likelihood, and every value a fit reports comes
 * from a pass in double precision at its final parameters (em.c).  For data of one or
 * two columns, whose passes are almost all exp() and short sums, their EM passes run
 * in single precision: sixteen lanes to a vector where double has eight.  The rows
 * are centred (x - xc) before they are rounded to float, and a pass runs in float only
 * while every component's whitened residuals keep their precision (gm_single_ok); the
 * sums are taken in float over each block of GM_BLOCK rows and added in double, about
 * the means rounded to float, and corrected to the means themselves after the pass.
 * The log terms, exp() (a polynomial of degree 7 on |r| <= log(2) / 2, without a
 * table: truncation below 5e-9 relative) and the rows' logarithms are within a few
 * units in the last place of float, so a pass's log-likelihood is within about 1e-7
 * (relative) of the double one: far inside screen_tol.  Chunks and their order are
 * those of chunk_pass, so the result does not depend on the number of threads. */

/* The largest half range / sd, for any column and component, of a pass in float: the
 * rounding of the centred rows to float then moves their whitened residuals (whose
 * rows lie within two half ranges of a mean) by at most 2^-13 (1.2e-4) of a standard
 * deviation. */
#define GM_SINGLE_SPAN 1024.0

/* A component's constants in float: its mean less xc, the whitening (1 / L00, L10,
 * 1 / L11) and log(pi_c) - (d log(2 pi) + log det Sigma_c) / 2. */
typedef struct {
  float m0, m1, i0, l10, i1, cst;
} gm_fpar;
_Static_assert(sizeof(gm_fpar) == 3 * sizeof(double), "gm_fpar fills 3 doubles of fwork");

/* What every chunk of one pass reads. */
typedef struct {
  const gm_data *D;
  const gm_par *P;
  const double *cst;   /* logdens_constants() */
  double *z, *rowll;
  int estep, nrow;
  double *stats;
  gm_pass_work *pw;
  int nblocks;
  const gm_fpar *F;    /* a pass in float (gm_pass_single), or NULL */
} chunk_ctx;

/* log(x) for 1 <= x <= k in float, as gm_log in double (gaussmix.h): x = 2^e z with z in
 * [sqrt(1/2), sqrt(2)), log z = 2 atanh(f), f = (z - 1) / (z + 1), |f| <= 0.1716, by
 * its series through f^9 (the first term left out is below 1e-9 relative). */
static inline __attribute__((always_inline)) float gm_logf(float x)
{
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  const uint32_t eu = (bits - 0x3f3504f3u + 0x40000000u) >> 23;
  bits -= (eu - 128u) << 23;
  float z;
  memcpy(&z, &bits, sizeof z);
  const float e = (float) ((int) eu - 128);
  const float f = (z - 1.0f) / (z + 1.0f), f2 = f * f;
  const float q = 2.0f / 3 + f2 * (2.0f / 5 + f2 * (2.0f / 7 + f2 * (2.0f / 9)));
  return e * 0x1.62e43p-1f + (2.0f * f + f * f2 * q);
}

/* exp(t) for t = a log term less its row's largest, in [-GM_NEGLIGIBLE, 0] (0 below):
 * t = n log(2) + r with n the integer nearest t / log(2) (rounded by adding 1.5 * 2^23,
 * which leaves it in the low bits), log(2) split into a head whose products with n are
 * exact and a tail; exp(r) by its Taylor polynomial of degree 7, and 2^n added to the
 * exponent field.  A NaN term stays NaN (its row fails the pass). */
static inline __attribute__((always_inline)) float single_exp(float t)
{
  const float tc = t < -(float) GM_NEGLIGIBLE ? -(float) GM_NEGLIGIBLE : t;
  float kd = tc * 0x1.715476p0f + 0x1.8p23f;
  uint32_t bits, pb;
  memcpy(&bits, &kd, sizeof bits);
  kd -= 0x1.8p23f;
  const float r = (tc - kd * 0x1.62e4p-1f) - kd * 0x1.7f7d1cp-20f;
  const float p = 1.0f + r * (1.0f + r * (1.0f / 2 + r * (1.0f / 6 + r * (1.0f / 24 +
                  r * (1.0f / 120 + r * (1.0f / 720 + r * (1.0f / 5040)))))));
  memcpy(&pb, &p, sizeof pb);
  pb += bits << 23;
  float e;
  memcpy(&e, &pb, sizeof e);
  return t < -(float) GM_NEGLIGIBLE ? 0.0f : e;
}

/* One component's log terms of a block in o, and the rows' largest so far in mx (set
 * when `first`, a constant where this is inlined, as GM_ROW_MAX does). */
static inline __attribute__((always_inline)) void single_logdens(
    const int d, const int first, int m, const float *x0, const float *x1, const gm_fpar *F,
    float *o, float *mx)
{
  const float m0 = F->m0, m1 = F->m1, i0 = F->i0, l10 = F->l10, i1 = F->i1, cs = F->cst;
  GM_SIMD
  for (int b = 0; b < m; b++) {
    const float r0 = (x0[b] - m0) * i0;
    float q = r0 * r0;
    if (d == 2) {
      const float r1 = ((x1[b] - m1) - l10 * r0) * i1;
      q += r1 * r1;
    }
    const float v = cs - 0.5f * q;
    o[b] = v;
    GM_ROW_MAX(first, b, v);   /* (a NaN v leaves mx, but makes its t NaN) */
  }
}

/* One block's log terms, responsibilities (unnormalised, over lz) and normalising
 * factors sc = 1 / sum, for d = 1 or 2 (a constant where this is inlined); returns the
 * block's log-likelihood, not finite when a row's is not, and adds the sum of its rows'
 * |log p(x_i)| to *abs (the scale of its rounding). */
static inline __attribute__((always_inline)) double single_block_estep(
    const int d, int m, int k, const float *x0, const float *x1, const gm_fpar *F,
    float *lz, float *mx, float *sc, double *abs)
{
  for (int c = 0; c < k; c++) {
    if (c == 0) single_logdens(d, 1, m, x0, x1, F, lz, mx);
    else single_logdens(d, 0, m, x0, x1, F + c, lz + (size_t) c * GM_BLOCK, mx);
  }
  GM_SIMD
  for (int b = 0; b < m; b++) sc[b] = 0.0f;
  for (int c = 0; c < k; c++) {
    float *o = lz + (size_t) c * GM_BLOCK;
    GM_SIMD
    for (int b = 0; b < m; b++) {
      const float e = single_exp(o[b] - mx[b]);
      o[b] = e;
      sc[b] += e;
    }
  }
  double ll = 0.0, al = 0.0;
  GM_SIMD_SUM(ll, al)
  for (int b = 0; b < m; b++) {
    const float s = sc[b];
    const double v = (double) (mx[b] + (gm_logf(s) + (s - s)));   /* (NaN if s is) */
    ll += v;
    al += fabs(v);
    sc[b] = 1.0f / s;
  }
  *abs += al;
  return ll;
}

GM_HOT static double single_estep_1(int m, int k, const float *x0, const gm_fpar *F,
                                    float *lz, float *mx, float *sc, double *abs)
{
  return single_block_estep(1, m, k, x0, x0, F, lz, mx, sc, abs);
}

GM_HOT static double single_estep_2(int m, int k, const float *x0, const float *x1,
                                    const gm_fpar *F, float *lz, float *mx, float *sc,
                                    double *abs)
{
  return single_block_estep(2, m, k, x0, x1, F, lz, mx, sc, abs);
}

/* The block's M-step sums about the means in F, in float, added to acc (laid out as a
 * chunk's: n_k, s_k, W0_k's lower triangle). */
GM_HOT_SUMS static void single_block_stats(int d, int m, int k, const float *x0,
                                           const float *x1, const gm_fpar *F,
                                           const float *lz, const float *sc, double *acc)
{
  double *nk = acc + 1, *s1 = nk + k, *W0 = s1 + (size_t) k * d;
  for (int c = 0; c < k; c++) {
    const float m0 = F[c].m0, m1 = F[c].m1;
    const float *zc = lz + (size_t) c * GM_BLOCK;
    double *Wc = W0 + (size_t) c * d * d;
    float sg = 0.0f, f0 = 0.0f, f1 = 0.0f, w00 = 0.0f, w10 = 0.0f, w11 = 0.0f;
    if (d == 1) {
      GM_SUMS_SIMD(sg, f0, w00)
      for (int b = 0; b < m; b++) {
        const float g = zc[b] * sc[b], r0 = x0[b] - m0, g0 = g * r0;
        sg += g;
        f0 += g0;
        w00 += g0 * r0;
      }
    } else {
      GM_SUMS_SIMD(sg, f0, f1, w00, w10, w11)
      for (int b = 0; b < m; b++) {
        const float g = zc[b] * sc[b], r0 = x0[b] - m0, r1 = x1[b] - m1;
        const float g0 = g * r0, g1 = g * r1;
        sg += g;
        f0 += g0;
        f1 += g1;
        w00 += g0 * r0;
        w10 += g1 * r0;
        w11 += g1 * r1;
      }
    }
    nk[c] += sg;
    s1[(size_t) c * d] += f0;
    Wc[0] += w00;
    if (d == 2) {
      s1[1 + (size_t) c * d] += f1;
      Wc[1] += w10;
      Wc[3] += w11;
    }
  }
}

/* A chunk of a pass in float (chunk_task's, when X->F is set): its blocks in order,
 * into its own sums, with the scratch of the thread that runs it.  There is no
 * entropy: the chunk's entropy slot carries the sum of its rows' |log p(x_i)|. */
static void single_chunk(const chunk_ctx *X, int ch, int thread)
{
  const gm_data *D = X->D;
  gm_pass_work *pw = X->pw;
  const int n = D->n, d = D->d, k = X->P->k;
  float *lz = (float *) (pw->scratch + (size_t) thread * scratch_size(d, k));
  float *mx = lz + (size_t) GM_BLOCK * k, *sc = mx + GM_BLOCK;
  double *acc = pw->chunk + ch * chunk_stride(d, k);
  memset(acc, 0, chunk_size(d, k) * sizeof(double));
  const float *xf = pw->single->xf;
  int b0, b1, status = GM_OK;
  double abs = 0.0;
  gm_chunk_blocks(X->nblocks, pw->nchunk, ch, &b0, &b1);
  for (int blk = b0; blk < b1; blk++) {
    const R_xlen_t i0 = (R_xlen_t) blk * GM_BLOCK;
    const int m = (n - i0 < GM_BLOCK) ? (int) (n - i0) : GM_BLOCK;
    const float *x0 = xf + i0, *x1 = d == 2 ? x0 + n : x0;
    const double ll = d == 1 ? single_estep_1(m, k, x0, X->F, lz, mx, sc, &abs)
                             : single_estep_2(m, k, x0, x1, X->F, lz, mx, sc, &abs);
    if (!isfinite(ll)) {
      status = GM_NONFINITE;
      break;
    }
    acc[0] += ll;
    single_block_stats(d, m, k, x0, x1, X->F, lz, sc, acc);
  }
  pw->status[ch] = status;
  pw->ent[ch] = abs;
  pw->noise_nk[ch] = 0.0;
}


/* One chunk of a pass (a task of gm_parallel): its blocks in order, into its own sums,
 * with the scratch of the thread that runs it. */
static void chunk_task(void *arg, int ch, int thread)
{
  const chunk_ctx *X = (const chunk_ctx *) arg;
  if (X->F) {
    single_chunk(X, ch, thread);
    return;
  }
  const gm_data *D = X->D;
  const gm_par *P = X->P;
  gm_pass_work *pw = X->pw;
  const int n = D->n, d = D->d, k = P->k, kz = k + P->noise;   /* kz columns of z */
  double *scr = pw->scratch + (size_t) thread * scratch_size(d, kz);
  double *xb = scr, *r = xb + (size_t) GM_BLOCK * d, *gr = r + (size_t) GM_BLOCK * d, *lz = gr + (size_t) GM_BLOCK * d;
  double *zs = lz + (size_t) GM_BLOCK * kz, *g = zs + (size_t) GM_BLOCK * kz;
  double *mx = g + GM_BLOCK, *sm = mx + GM_BLOCK, *u = sm + GM_BLOCK, *tc = u + GM_BLOCK;
  double *kp = tc + GM_BLOCK;
  double *acc = pw->chunk + ch * chunk_stride(d, k);
  double *nrow = acc + chunk_size(d, k) - k;
  memset(acc, 0, chunk_size(d, k) * sizeof(double));
  const gm_hess *hs = pw->hs.on ? &pw->hs : NULL;   /* Newton's sums too */
  double *hacc = hs ? hs->chunk + ch * hs->stride : NULL;
  double *mono = hs ? hs->scr + (size_t) thread * (hs->nm + 1) * GM_BLOCK : NULL;
  if (hs) memset(hacc, 0, gm_newton_nsums(d, k) * sizeof(double));
  /* The chunk's entropy, noise size and status are summed here and stored once at
   * the end: the per-chunk arrays share cache lines between threads, and a store to
   * them per block kept moving those lines between cores. */
  double ent = 0.0, noise_nk = 0.0;
  int status = GM_OK;
  if (!X->estep)   /* z is given: the sums scale it by 1 and write it to scratch */
    for (int b = 0; b < GM_BLOCK; b++) sm[b] = 1.0;
  /* An E-step writes the block's responsibilities into z, or into scratch when z is
   * not kept (EM needs only the sums); given ones are read from z. */
  const size_t zst = X->z ? (size_t) n : GM_BLOCK;
  int b0, b1;
  gm_chunk_blocks(X->nblocks, pw->nchunk, ch, &b0, &b1);
  for (int blk = b0; blk < b1; blk++) {
    const R_xlen_t i0 = (R_xlen_t) blk * GM_BLOCK;
    const int m = (n - i0 < GM_BLOCK) ? (int) (n - i0) : GM_BLOCK;
    double *zb = X->z ? X->z + i0 : zs;
    const double *wb = D->unit ? gm_ones : D->w + i0;
    for (int j = 0; j < d; j++)
      memcpy(xb + (size_t) j * GM_BLOCK, D->x + (size_t) j * n + i0, m * sizeof(double));
    if (blk + 1 < b1) {   /* the next block's rows, on their way while this one runs */
      const R_xlen_t i1 = i0 + GM_BLOCK, m1 = n - i1 < GM_BLOCK ? n - i1 : GM_BLOCK;
      for (int j = 0; j < d; j++)
        for (R_xlen_t i = 0; i < m1; i += 8) __builtin_prefetch(D->x + (size_t) j * n + i1 + i);
      if (!D->unit)
        for (R_xlen_t i = 0; i < m1; i += 8) __builtin_prefetch(D->w + i1 + i);
    }
    if (X->estep) {
      block_logdens(D, P, X->cst, xb, m, lz, mx, r, pw->diag);
      status = block_normalise(m, kz, zst, D->unit ? NULL : wb, D->lab ? D->lab + i0 : NULL,
                               lz, zb, X->rowll ? X->rowll + i0 : NULL, acc, &ent, mx, sm,
                               u, tc, kp, X->stats == NULL);
      if (status) break;
    }
    if (X->stats)
      block_stats(D, P, xb, wb, m, zb, zst, sm, X->estep && (X->z || X->nrow || hs) ? zb : NULL,
                  zst, acc, gr, g, pw->diag && !pw->full);
    if (hs && X->stats && X->estep) gm_hess_block(m, hs, xb, wb, zb, zst, mono, hacc);
    if (P->noise && X->estep) {   /* the noise column: normalised, and its size */
      double *zn = zb + (size_t) k * zst;
      double sn = 0.0;
      for (int b = 0; b < m; b++) {
        if (X->stats) zn[b] *= sm[b];   /* block_stats scaled only the Gaussians' */
        sn += wb[b] * zn[b];
      }
      noise_nk += sn;
    }
    if (X->nrow) {   /* after block_stats, zb holds the scaled responsibilities */
      for (int c = 0; c < k; c++) {
        const double *zc = zb + c * zst;
        double s = 0.0;
        for (int b = 0; b < m; b++) s += wb[b] > 0.0 ? zc[b] : 0.0;
        nrow[c] += s;
      }
    }
  }
  pw->status[ch] = status;
  pw->ent[ch] = ent;
  pw->noise_nk[ch] = noise_nk;
}

/* The chunk loop shared by gm_pass and gm_zstats.  With estep, each block gets its
 * log densities and responsibilities (written to z unless it is NULL), its
 * log-likelihood and entropy, and, when stats is not NULL, its M-step sums; without, z
 * is given and only the sums are taken.  nrow (k, may be NULL; needs estep, stats and
 * weights) receives the responsibilities summed over the rows of positive weight.
 * Rows are split into nchunk chunks whatever the number of threads, and the chunks'
 * sums are added in order, so the result does not depend on it.  Returns GM_OK or
 * GM_NONFINITE. */
static int chunk_pass(const gm_data *D, const gm_par *P, double *z, int estep,
                      double *rowll, double *ll, double *ent, double *stats, double *nrow,
                      gm_pass_work *pw, const gm_fpar *F)
{
  if (D->ext) {
    if (z || rowll || nrow || !estep || P->noise)
      error("internal: a pass over rows out of memory gives only the sums");
    return gm_ext_pass(D, P, ll, ent, stats, pw);
  }
  const int d = D->d, k = P->k, nchunk = pw->nchunk;
  const size_t csz = chunk_size(d, k), nst = csz - k;
  if (estep && !F) logdens_constants(P, pw->cst);
  chunk_ctx X = {D, P, pw->cst, z, rowll, estep, nrow != NULL, stats, pw, gm_nblocks(D->n), F};
  gm_parallel(pw->nthreads, nchunk, chunk_task, &X, NULL);
  for (int ch = 0; ch < nchunk; ch++)
    if (pw->status[ch]) return pw->status[ch];
  double total = 0.0, h = 0.0, sn = 0.0;
  if (stats) memset(stats, 0, nst * sizeof(double));
  if (nrow) memset(nrow, 0, k * sizeof(double));
  for (int ch = 0; ch < nchunk; ch++) {
    const double *acc = pw->chunk + ch * chunk_stride(d, k);
    total += acc[0];
    h += pw->ent[ch];
    sn += pw->noise_nk[ch];
    if (stats)
      for (size_t e = 1; e < nst; e++) stats[e] += acc[e];
    if (nrow)
      for (int c = 0; c < k; c++) nrow[c] += acc[nst + c];
  }
  if (pw->hs.on && stats && estep) {   /* Newton's sums, in the same fixed order */
    const size_t len = gm_newton_nsums(d, k);
    memset(pw->hs.sum, 0, len * sizeof(double));
    for (int ch = 0; ch < nchunk; ch++) {
      const double *hacc = pw->hs.chunk + ch * pw->hs.stride;
      for (size_t e = 0; e < len; e++) pw->hs.sum[e] += hacc[e];
    }
  }
  if (!estep) return GM_OK;
  pw->noise_sum = sn;
  if (!isfinite(total)) return GM_NONFINITE;
  *ll = total;
  if (ent) *ent = h;
  return GM_OK;
}

/* The length of a pass's sums (stats): a slot for the log-likelihood (0), n_k, s_k
 * and W0_k. */
size_t gm_stats_len(int d, int k)
{
  return chunk_size(d, k) - k;
}

/* One pass: responsibilities z (n x k; NULL when only the sums are wanted),
 * log-likelihood and entropy (ent, may be NULL) of the parameters P, the log density of
 * each row in rowll (may be NULL), and, when stats is not NULL, the M-step sums (n_k,
 * s_k, W0_k, laid out as in a chunk) summed over all rows, and nrow as chunk_pass says.
 * Returns GM_OK or GM_NONFINITE. */
int gm_pass(const gm_data *D, const gm_par *P, double *z, double *rowll, double *ll,
            double *ent, double *stats, double *nrow, gm_pass_work *pw)
{
  return chunk_pass(D, P, z, 1, rowll, ll, ent, stats, stats ? nrow : NULL, pw, NULL);
}

/* The M-step sums of given responsibilities z about the means in P (n_k, s_k and W0_k,
 * laid out as gm_pass leaves them, with 0 for the log-likelihood), without an E-step:
 * for the first M-step from a partition.  z is only read. */
void gm_zstats(const gm_data *D, const gm_par *P, const double *z, double *stats,
               gm_pass_work *pw)
{
  chunk_pass(D, P, (double *) z, 0, NULL, NULL, NULL, stats, NULL, pw, NULL);
}

/* Sets sg up for the rows of D (d <= 2, in memory): each column's mid-range and half
 * range, and the rows centred and rounded to float, unless a column's half range is
 * beyond 2^50 or (not 0) below 2^-50, which float's range would not hold with room
 * for the squares of a block's sums (xf is then NULL: every pass in double). */
void gm_single_setup(gm_single *sg, const gm_data *D)
{
  const int n = D->n, d = D->d;
  sg->xf = NULL;
  for (int j = 0; j < d; j++) {
    const double *xj = D->x + (size_t) j * n;
    double lo = xj[0], hi = xj[0];
    for (int i = 1; i < n; i++) {
      lo = xj[i] < lo ? xj[i] : lo;
      hi = xj[i] > hi ? xj[i] : hi;
    }
    sg->xc[j] = 0.5 * lo + 0.5 * hi;
    sg->span[j] = 0.5 * hi - 0.5 * lo;
    if (sg->span[j] > 0x1p50 || (sg->span[j] > 0.0 && sg->span[j] < 0x1p-50)) return;
  }
  float *xf = (float *) R_alloc((size_t) n * d, sizeof(float));
  for (int j = 0; j < d; j++) {
    const double *xj = D->x + (size_t) j * n, c = sg->xc[j];
    float *fj = xf + (size_t) j * n;
    for (int i = 0; i < n; i++) fj[i] = (float) (xj[i] - c);
  }
  sg->xf = xf;
}

/* Whether a pass at P may run in float: data of one or two columns in memory, every
 * weight 1, no labels, no noise component and no Newton's sums, and no component so narrow against the
 * data's span that float's rounding of the rows would show (GM_SINGLE_SPAN), for the
 * first coordinate and for the second given the first. */
int gm_single_ok(const gm_data *D, const gm_par *P, const gm_pass_work *pw)
{
  const int d = D->d;
  if (!pw->single || !pw->single->xf || pw->hs.on || d > 2 || !D->x || !D->unit || D->lab || P->noise) return 0;
  const double *span = pw->single->span;
  for (int c = 0; c < P->k; c++) {
    const double *L = P->chol + (size_t) c * d * d;
    const double a = span[0] / L[0];
    if (!(a <= GM_SINGLE_SPAN)) return 0;
    if (d == 2 && !((span[1] + fabs(L[1]) * a) / L[3] <= GM_SINGLE_SPAN)) return 0;
  }
  return 1;
}

/* One EM pass in float (see above; the caller checks gm_single_ok): the
 * log-likelihood and the M-step sums as gm_pass gives them, without the entropy, and
 * in *abs the sum of the rows' |log p(x_i)|, the scale of the log-likelihood's
 * rounding (the caller judges with it whether a change of the log-likelihood can be
 * told from that rounding).  The rows' responsibilities, normalised in float, sum to
 * 1 only to float's precision: the sums are scaled by one factor so that the n_k add
 * up to the weight of the rows, as in double, and the proportions of the next M-step
 * to 1.  Returns GM_OK, or GM_NONFINITE when a row's log density or a sum is not
 * finite in float (the caller then takes the pass in double). */
int gm_pass_single(const gm_data *D, const gm_par *P, double *ll, double *abs,
                   double *stats, gm_pass_work *pw)
{
  const int d = D->d, k = P->k;
  const double *xc = pw->single->xc;
  gm_fpar *F = (gm_fpar *) pw->fwork;   /* (room: gm_pass_alloc) */
  double *delta = pw->fwork + (size_t) 3 * k;
  logdens_constants(P, pw->cst);
  for (int c = 0; c < k; c++) {
    const double *L = P->chol + (size_t) c * d * d, *mu = P->mean + (size_t) c * d;
    gm_fpar f;
    f.m0 = (float) (mu[0] - xc[0]);
    f.i0 = (float) (1.0 / L[0]);
    f.m1 = d == 2 ? (float) (mu[1] - xc[1]) : 0.0f;
    f.l10 = d == 2 ? (float) L[1] : 0.0f;
    f.i1 = d == 2 ? (float) (1.0 / L[3]) : 0.0f;
    f.cst = (float) pw->cst[c];
    delta[2 * c] = (mu[0] - xc[0]) - (double) f.m0;
    delta[2 * c + 1] = d == 2 ? (mu[1] - xc[1]) - (double) f.m1 : 0.0;
    memcpy(F + c, &f, sizeof f);
  }
  const int status = chunk_pass(D, P, NULL, 1, NULL, ll, abs, stats, NULL, pw, F);
  if (status) return status;
  double *nk = stats + 1, *s1 = nk + k, *W0 = s1 + (size_t) k * d;
  const size_t nst = gm_stats_len(d, k);
  double tot = 0.0;
  for (int c = 0; c < k; c++) tot += nk[c];
  for (size_t e = 1; e < nst; e++) stats[e] *= D->wsum / tot;
  if (!gm_all_finite(stats + 1, nst - 1, 0)) return GM_NONFINITE;
  /* The sums were about the means rounded to float, m_c - delta_c: about m_c,
   * s = s' - n_k delta and W0 = W0' - delta s'^T - s' delta^T + n_k delta delta^T. */
  for (int c = 0; c < k; c++) {
    const double *dl = delta + 2 * c;
    double *sc = s1 + (size_t) c * d, *Wc = W0 + (size_t) c * d * d;
    for (int j = 0; j < d; j++)
      for (int l = 0; l <= j; l++)
        Wc[j + (size_t) l * d] += -dl[j] * sc[l] - sc[j] * dl[l] + nk[c] * dl[j] * dl[l];
    for (int j = 0; j < d; j++) sc[j] -= nk[c] * dl[j];
  }
  return GM_OK;
}
