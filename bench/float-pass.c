/* What single-precision screening passes could save (bench/README.md, "A route that
 * keeps every start"): one EM pass's three kernels for d = 2 (log densities, exp()
 * with the rows' sums, M-step sums), over 10,000 rows in blocks of 256, in double
 * with eight lanes (the package's operations, written out here, not its code) and in
 * float with sixteen, each run 2,000 times.  A stand-alone program, not part of the
 * package (bench/ is not built):
 *   gcc -O2 -fopenmp -o /tmp/float-pass bench/float-pass.c -lm
 *   taskset -c 1 /tmp/float-pass 5        # K = 5 components
 * It needs a processor with AVX-512.  The per-row logarithm is left out of both
 * versions, which would pay it alike. */
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define B 256
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

static const double T16[16] __attribute__((aligned(64))) = {
  0x1p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
  0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
  0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
  0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0};

typedef struct { int k; double m0[16], m1[16], inv0[16], l10[16], inv1[16], cst[16]; } par;

__attribute__((target("arch=x86-64-v4"), noinline))
static double pass_double(int n, const double *x0, const double *x1, const par *P, double *sums)
{
  const int k = P->k;
  double lz[16 * B] __attribute__((aligned(64))), z[16 * B] __attribute__((aligned(64)));
  double mx[B] __attribute__((aligned(64))), s[B] __attribute__((aligned(64))), u[B] __attribute__((aligned(64)));
  double ll = 0;
  memset(sums, 0, sizeof(double) * 6 * k);
  const __m512d tlo = _mm512_load_pd(T16), thi = _mm512_load_pd(T16 + 8), negv = _mm512_set1_pd(-50);
  for (int i0 = 0; i0 < n; i0 += B) {
    const int m = n - i0 < B ? n - i0 : B;
    const double *a = x0 + i0, *b = x1 + i0;
    for (int r = 0; r < m; r++) mx[r] = -1e300;
    for (int c = 0; c < k; c++) {
      const double m0 = P->m0[c], m1 = P->m1[c], i0c = P->inv0[c], l10 = P->l10[c], i1c = P->inv1[c], cs = P->cst[c];
      double *o = lz + c * B;
      for (int r = 0; r < m; r++) {
        const double r0 = (a[r] - m0) * i0c, r1 = ((b[r] - m1) - l10 * r0) * i1c;
        const double v = cs - 0.5 * (r0 * r0 + r1 * r1);
        o[r] = v;
        mx[r] = v > mx[r] ? v : mx[r];
      }
    }
    for (int r = 0; r < m; r += 8) {
      const __m512d mm = _mm512_load_pd(mx + r);
      __m512d ss = _mm512_setzero_pd(), uu = ss;
      for (int c = 0; c < k; c++) {
        const __m512d t = _mm512_load_pd(lz + c * B + r) - mm;
        const __mmask8 keep = _mm512_cmp_pd_mask(t, negv, _CMP_NLT_UQ);
        const __m512d tc = _mm512_max_pd(negv, t);
        __m512d kd = tc * (16 * 0x1.71547652b82fep0) + 0x1.8p52;
        const __m512i j = _mm512_castpd_si512(kd);
        kd -= 0x1.8p52;
        const __m512d rr = (tc - kd * 0x1.62e42fefa3800p-5) - kd * 0x1.ef35793c7673p-49, r2 = rr * rr;
        const __m512d q = 1.0 / 2 + rr * (1.0 / 6 + rr * (1.0 / 24 + rr * (1.0 / 120 + rr * (1.0 / 720 + rr * (1.0 / 5040)))));
        const __m512d tb = _mm512_permutex2var_pd(tlo, j, thi);
        const __m512d p = tb + tb * (rr + r2 * q);
        const __m512d e = _mm512_maskz_scalef_pd(keep, p, kd * (1.0 / 16));
        _mm512_store_pd(z + c * B + r, e);
        ss += e;
        uu += e * tc;
      }
      _mm512_store_pd(s + r, ss);
      _mm512_store_pd(u + r, uu);
    }
    for (int r = 0; r < m; r++) {
      const double ls = s[r] - 1.0;   /* (log left out of both: the same per-row cost) */
      ll += mx[r] + ls;
      s[r] = 1.0 / s[r];
      u[r] = ls - u[r] * s[r];
    }
    for (int c = 0; c < k; c++) {
      const double m0 = P->m0[c], m1 = P->m1[c];
      const double *zc = z + c * B;
      double sg = 0, f0 = 0, f1 = 0, w00 = 0, w10 = 0, w11 = 0;
#pragma omp simd reduction(+:sg, f0, f1, w00, w10, w11)
      for (int r = 0; r < m; r++) {
        const double g = zc[r] * s[r], r0 = a[r] - m0, r1 = b[r] - m1, g0 = g * r0, g1 = g * r1;
        sg += g; f0 += g0; f1 += g1; w00 += g0 * r0; w10 += g1 * r0; w11 += g1 * r1;
      }
      double *S = sums + 6 * c;
      S[0] += sg; S[1] += f0; S[2] += f1; S[3] += w00; S[4] += w10; S[5] += w11;
    }
  }
  return ll;
}

__attribute__((target("arch=x86-64-v4"), noinline))
static double pass_float(int n, const float *x0, const float *x1, const par *P, double *sums)
{
  const int k = P->k;
  float lz[16 * B] __attribute__((aligned(64))), z[16 * B] __attribute__((aligned(64)));
  float mx[B] __attribute__((aligned(64))), s[B] __attribute__((aligned(64))), u[B] __attribute__((aligned(64)));
  double ll = 0;
  memset(sums, 0, sizeof(double) * 6 * k);
  float t16[16] __attribute__((aligned(64)));
  for (int j = 0; j < 16; j++) t16[j] = (float) T16[j];
  const __m512 tab = _mm512_load_ps(t16), negv = _mm512_set1_ps(-50.0f);
  for (int i0 = 0; i0 < n; i0 += B) {
    const int m = n - i0 < B ? n - i0 : B;
    const float *a = x0 + i0, *b = x1 + i0;
    for (int r = 0; r < m; r++) mx[r] = -1e30f;
    for (int c = 0; c < k; c++) {
      const float m0 = P->m0[c], m1 = P->m1[c], i0c = P->inv0[c], l10 = P->l10[c], i1c = P->inv1[c], cs = P->cst[c];
      float *o = lz + c * B;
      for (int r = 0; r < m; r++) {
        const float r0 = (a[r] - m0) * i0c, r1 = ((b[r] - m1) - l10 * r0) * i1c;
        const float v = cs - 0.5f * (r0 * r0 + r1 * r1);
        o[r] = v;
        mx[r] = v > mx[r] ? v : mx[r];
      }
    }
    for (int r = 0; r < m; r += 16) {
      const __m512 mm = _mm512_load_ps(mx + r);
      __m512 ss = _mm512_setzero_ps(), uu = ss;
      for (int c = 0; c < k; c++) {
        const __m512 t = _mm512_load_ps(lz + c * B + r) - mm;
        const __mmask16 keep = _mm512_cmp_ps_mask(t, negv, _CMP_NLT_UQ);
        const __m512 tc = _mm512_max_ps(negv, t);
        __m512 kd = tc * (16 * 1.44269504f) + 0x1.8p23f;
        const __m512i j = _mm512_castps_si512(kd);
        kd -= 0x1.8p23f;
        const __m512 rr = tc - kd * 0.0433216987f;
        const __m512 q = 1.0f + rr * (1.0f + rr * (0.5f + rr * (1.0f / 6)));
        const __m512 tb = _mm512_permutexvar_ps(j, tab);
        const __m512 e = _mm512_maskz_scalef_ps(keep, tb * q, kd * (1.0f / 16));
        _mm512_store_ps(z + c * B + r, e);
        ss += e;
        uu += e * tc;
      }
      _mm512_store_ps(s + r, ss);
      _mm512_store_ps(u + r, uu);
    }
    for (int r = 0; r < m; r++) {
      const float ls = s[r] - 1.0f;
      ll += (double) mx[r] + ls;
      s[r] = 1.0f / s[r];
      u[r] = ls - u[r] * s[r];
    }
    for (int c = 0; c < k; c++) {
      const float m0 = P->m0[c], m1 = P->m1[c];
      const float *zc = z + c * B;
      float sg = 0, f0 = 0, f1 = 0, w00 = 0, w10 = 0, w11 = 0;
#pragma omp simd reduction(+:sg, f0, f1, w00, w10, w11)
      for (int r = 0; r < m; r++) {
        const float g = zc[r] * s[r], r0 = a[r] - m0, r1 = b[r] - m1, g0 = g * r0, g1 = g * r1;
        sg += g; f0 += g0; f1 += g1; w00 += g0 * r0; w10 += g1 * r0; w11 += g1 * r1;
      }
      double *S = sums + 6 * c;
      S[0] += sg; S[1] += f0; S[2] += f1; S[3] += w00; S[4] += w10; S[5] += w11;
    }
  }
  return ll;
}

int main(int argc, char **argv)
{
  const int n = 10000, k = argc > 1 ? atoi(argv[1]) : 5, reps = 2000;
  double *x0 = aligned_alloc(64, n * 8), *x1 = aligned_alloc(64, n * 8);
  float *f0 = aligned_alloc(64, n * 4), *f1 = aligned_alloc(64, n * 4);
  srand(1);
  for (int i = 0; i < n; i++) {
    const int c = rand() % 4;
    x0[i] = 1.5 * c + (rand() / (double) RAND_MAX - 0.5) * 3;
    x1[i] = -1.0 * c + (rand() / (double) RAND_MAX - 0.5) * 3;
    f0[i] = (float) x0[i]; f1[i] = (float) x1[i];
  }
  par P; P.k = k;
  for (int c = 0; c < k; c++) {
    P.m0[c] = 1.5 * c * 4.0 / k; P.m1[c] = -1.0 * c * 4.0 / k;
    P.inv0[c] = 1 / 1.1; P.l10[c] = 0.2; P.inv1[c] = 1 / 0.9; P.cst[c] = log(1.0 / k) - 1.8379 - log(0.99);
  }
  double sd[96], sf[96], lld = 0, llf = 0;
  for (int rep = 0; rep < 3; rep++) {
    double t = now();
    for (int r = 0; r < reps; r++) lld = pass_double(n, x0, x1, &P, sd);
    const double td = (now() - t) / reps;
    t = now();
    for (int r = 0; r < reps; r++) llf = pass_float(n, f0, f1, &P, sf);
    const double tf = (now() - t) / reps;
    printf("K = %d: double %.1f us, float %.1f us per pass (ratio %.2f); loglik %.6f vs %.6f (rel diff %.1e); nk[0] %.6f vs %.6f\n",
           k, 1e6 * td, 1e6 * tf, tf / td, lld, llf, fabs(llf / lld - 1), sd[0], sf[0]);
  }
  return 0;
}
