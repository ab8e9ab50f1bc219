/* The hierarchical start for the VVV model: agglomeration by the classification
 * likelihood of Gaussian clusters with unconstrained covariances (Banfield and
 * Raftery 1993), regularised as in Fraley (1998), and computed the way mclust's
 * hc(modelName = "VVV") computes it, so that the trees agree.
 *
 * The criterion.  A cluster k of size n_k (the sum of its frequency weights) with
 * scatter matrix W_k (weighted, about its mean) scores
 *     C_k = n_k log( det(W_k / n_k) + beta (tr W_k + alpha') / n_k ),
 * alpha' = alpha tr(W) / (N p) (W, N: scatter and size of all the data, p columns),
 * alpha = beta = 1, with det counted as 0 while n_k - 1 < p.  For large clusters this
 * is Banfield and Raftery's n_k log det(W_k / n_k); the trace term keeps singletons
 * (C = log alpha') and rank-deficient clusters finite.  Merging i and j costs
 * C_ij - C_i - C_j, with Ward's updates
 *     n_ij = n_i + n_j,  h = n_i n_j / n_ij,  d = mean_i - mean_j,
 *     W_ij = W_i + W_j + h d d',  tr W_ij = tr W_i + tr W_j + h |d|^2,
 * and the cheapest pair merges at each stage.  The criterion is not reducible (costs
 * can fall as clusters grow), so the nearest-neighbour chain of hc.c does not apply.
 *
 * What mclust 6.0.0 computes (read off its merge costs, .Fortran("hcvvv"), not its
 * source) departs from this in the determinant.  Each cost is computed once, when the
 * later of the two clusters is formed, from a matrix F_new standing for W of the new
 * cluster and, for the older cluster k, the stand-in
 *     B_k[a, b] = r_a r_b min(a, b, m_k)   (1-based),   m_k = min(n_k - 1, p),
 * the sum of the rows (0, .., 0, r_i, .., r_p), i = 1 .. m_k, made from one row r of
 * k's factor: r = F_k[j, ] / sqrt(F_k[j, j]) for the first j with F_k[j, j] > 0
 * (F_k's first row is W_k's, so for W_k[1, 1] > 0 this is the first row of the
 * Cholesky factor of W_k).  The cost is C(n_ij, F_new + B_k + h d d', exact trace)
 * - C_new - C_k.  A merged cluster gets F_ij = F_i + B_j + h d d' if i is the cluster
 * formed last (likewise with i, j exchanged), else B_i + B_j + h d d', and C_ij =
 * C_i + C_j + cost.  Means and traces are exact.  With B_k = W_k and F = W this would
 * be the exact criterion; as it is, it reproduces mclust's merges and costs on
 * faithful, iris, diabetes, banknote, wreath and random data (tests/testthat/
 * test-hcvvv.R), where the exact criterion gives other trees (faithful from K = 5,
 * diabetes from K = 2).
 *
 * Ties (exact, as in rounded data) go to the pair last in mclust's scan: clusters sit
 * in slots 0 .. L, a merge keeps the merged cluster in the lower slot and moves the
 * one in slot L into the freed one, and of equal costs the pair (lo, hi), lo < hi,
 * with the largest hi, then the largest lo, merges.  Costs that are equal in mclust's
 * rounding but not in ours (or the reverse) can still order merges differently; on
 * iris this reorders five merges in the middle of the tree (K = 36 .. 40).  Two
 * singletons cost n_ij log1p(h |d|^2 / alpha') - n_ij log n_ij + n_i log n_i +
 * n_j log n_j (p > 1), which keeps the order of nearly equal distances.
 *
 * Scale.  The criterion is not scale free: det scales as s^(2p), traces as s^2.  The
 * data are scaled by a power of two s = 2^K (exactly), and log det carries the factor
 * s^(2p - 2) (the common s^2 adds 2 n_k log s to every C_k and cancels in every cost),
 * so data multiplied by 1e150 or 1e-150 give finite costs.  A matrix W = U' D U (U
 * unit upper triangular) with a pivot (element of D) below 1e-13 of its diagonal
 * element counts as singular (det 0).  Weights are taken relative to the smallest,
 * which counts as one observation: a row of weight 2 then acts as two identical rows
 * when some row has weight 1 (as integer counts do), and rep(c, n) gives the tree of
 * rep(1, n); an overall factor cannot be kept, since alpha' does not scale with it.
 * Relative weights above 1e150 are cut to 1e150.
 *
 * Storage: the costs by pair of slots, packed, n (n - 1) / 2 of them; per cluster its
 * size, mean, trace, C and r, O(n p); one p x p matrix F.  Each slot q keeps its
 * cheapest partner below it, exactly, so a stage costs O(L p^3) for the new costs,
 * O(L) to find the cheapest pair, and a rescan of the columns whose cheapest partner
 * took part in the merge.  The costs are kept as floats, half the memory of doubles
 * (8 rather than 16 MB on mclust's 2,000-row subset), with each cluster's F (p x p)
 * and the stage it was formed at, from which a cost is computed again, to the bit, as
 * when it was stored (pair_cost): rounding to float keeps the order of costs (a < b
 * gives float(a) <= float(b)), so a column's cheapest partner is among the entries
 * equal to its smallest float, and only those are computed again.  When the F of all
 * clusters would take more memory than the floats save (p^2 > (n - 1) / 4), the costs
 * are kept as doubles instead.
 *
 * Speed.  The new costs of a stage (for p <= 4) and the first stage's costs of a row
 * run in loops the compiler vectorises: no branches or calls, the logarithm the
 * E-step's branch-free one (gm_log in gaussmix.h, here without contractions), the
 * determinant from an LDL' factorisation (no square roots), and the rare cases (a
 * determinant out of range) computed again, one by one, as a rescan computes them.
 * On 2,000 rows of two columns this made the tree 0.035-0.045 s on one thread against
 * 0.105-0.110 s with glibc's log() and log1p() called a cost at a time
 * (bench/README.md, eighth session of the speed issue).
 */

/* A cost computed again must round as it did the first time, wherever the compiler
 * inlines it: no fused multiply-adds (which -march flags could otherwise bring in).
 * GCC keeps to this even under -ffp-contract=fast; clang does unless that flag is
 * given, and then a cost computed again may differ in its last bit, which can only
 * change the order of costs equal to that bit (the tree stays a valid one).  Before
 * the headers, so that gm_log (gaussmix.h) is compiled so here too. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gaussmix.h"

/* The loops of merge_cost_p written out where p is a constant, before GCC vectorises
 * the loops that call it (at -O2 it would not). */
#if defined(__GNUC__) && !defined(__clang__)
#define HC_UNROLL_LOOP _Pragma("GCC unroll 8")
#else
#define HC_UNROLL_LOOP
#endif

#define HC_ALPHA 1.0
#define HC_BETA 1.0
#define HC_WMAX 1e150

typedef struct {
  int n, p;
  double alpha;     /* alpha' in the units of the scaled data */
  double logs;      /* (2p - 2) K log 2, added to log det */
  double scale2;    /* s^(2p - 2) = 2^((2p - 2) K) when |(2p - 2) K| <= 400, else 0 */
  int threads;      /* for the first stage's pair costs */
  int fl;           /* costs kept as floats (cf), else as doubles (cd) */
  float *cf;        /* packed: pair (lo, hi), lo < hi, at hi (hi - 1) / 2 + lo */
  double *cd;
  double *Fs;       /* with floats: F of the cluster in each slot (p x p, upper used), */
  int *born;        /*   and the stage that formed it (0: a row) */
  double *best;     /* best[q]: cheapest cost of slot q with a slot below it */
  int *bestlo;      /*   and that slot (the largest of equal ones) */
  double *size, *mean, *r1, *tr, *crit;   /* by slot; mean and r1 are p x n */
  int *id;          /* smallest row of the cluster in each slot */
  double *F;        /* p x p: F of the newest cluster, its stand-in for W */
  double *M;        /* p x p scratch */
  double *Mk;       /* p x p x n scratch for new_costs (p <= 4): entry e of slot k's
                     * matrix at Mk[k + e n] */
  gm_ward *ward;    /* Ward's tree to build as well, or NULL */
  int ward_async;   /* it is being built on a worker, which must be waited for */
} hc_state;

#define PAIR(lo, hi) ((size_t) (hi) * ((hi) - 1) / 2 + (lo))

/* log(exp(a) + exp(b)), a possibly -Inf. */
static double log_add(double a, double b)
{
  if (a < b) {
    const double t = a;
    a = b;
    b = t;
  }
  return b == R_NegInf ? a : a + log1p(exp(b - a));
}

/* C = n log(det(W / n) + beta (tr + alpha') / n), from log det W (-Inf: none). */
static double crit_of(const hc_state *S, double n, double logdet, double tr)
{
  const double lt = log(HC_BETA * (tr + S->alpha) / n);
  if (logdet == R_NegInf || n - 1.0 < S->p - 1e-9) return n * lt;
  return n * log_add(logdet - S->p * log(n) + S->logs, lt);
}

/* Where gm_log (gaussmix.h) holds: positive normal doubles, with room (NaN fails). */
#define HC_LOG_OK(x) (((x) >= 0x1p-1000) & ((x) <= 0x1p1000))

/* m = min(n_k - 1, p) of the stand-in B of a cluster of size nk (see the header): p
 * once nk - 1 >= p, else floor(nk) - 1, counted without floor() so that the loops over
 * clusters that call it vectorise. */
static inline __attribute__((always_inline)) double stand_in_m(double nk, int p)
{
  double fk = 0.0;
  HC_UNROLL_LOOP
  for (int t = 2; t <= p; t++) fk += nk + 1e-9 >= t ? 1.0 : 0.0;
  return nk - 1.0 >= p - 1e-9 ? (double) p : fk;
}

/* The cost of merging a cluster formed after the one in slot k (its F, size na, mean
 * ma, trace ta and C ca) with it; M is p x p scratch.  The merged cluster's C is
 * n log(det(W / n) s^(2p - 2) + beta (tr + alpha') / n), with det W the product of
 * the pivots of W = U' D U (U unit upper triangular; the pivots are the squares of
 * the Cholesky factor's diagonal), counted as 0 while n - 1 < p or when a pivot falls
 * below 1e-13 of its diagonal; det(W / n) is formed as a product of the pivots over
 * n, scaled by the exact power of two, so that C takes one logarithm.  *slow is set
 * when that product would leave the range of doubles (or scale2 is 0), or the
 * argument of the logarithm that of gm_log; then, with full, C is computed from the
 * logarithms of the pivots (crit_of), and without, the value returned is not the
 * cost and the caller computes it again with full.  Without full there are no
 * branches, so that a loop over k vectorises.  With p given as a constant, the
 * compiler writes the loops out for that p (the same operations, so the same
 * bits). */
static inline __attribute__((always_inline)) double merge_cost_p(
    const hc_state *S, int p, const double *F, double na, const double *ma, double ta,
    double ca, int k, double *M, int ms, int *slow, int full)
{
  const double nk = S->size[k], nn = na + nk, h = na * nk / nn;
  const double *mk = S->mean + k * p, *r = S->r1 + k * p;   /* (int: k p < n p) */
  /* k's stand-in B[c, b] = min(c + 1, m) r_c r_b (0-based) */
  const double m = stand_in_m(nk, p);
  double dd = 0.0;
  HC_UNROLL_LOOP
  for (int b = 0; b < p; b++) {
    const double db = ma[b] - mk[b];
    dd += db * db;
    HC_UNROLL_LOOP
    for (int c = 0; c <= b; c++) {
      const double c1 = c + 1.0, cm = c1 < m ? c1 : m;
      M[(c + b * p) * ms] = F[c + b * p] + cm * r[c] * r[b] + h * (ma[c] - mk[c]) * db;
    }
  }
  const double tr = ta + S->tr[k] + h * dd;
  /* M = U' D U, U unit upper triangular (upper triangle of M), D the pivots
   * (diagonal); G = D U goes to the lower triangle as the rows are formed. */
  int ok = !(nn - 1.0 < p - 1e-9);
  double q = 1.0;
  HC_UNROLL_LOOP
  for (int j = 0; j < p; j++) {
    HC_UNROLL_LOOP
    for (int i = 0; i < j; i++) {
      double t = M[(i + j * p) * ms];
      HC_UNROLL_LOOP
      for (int l = 0; l < i; l++) t -= M[(j + l * p) * ms] * M[(l + i * p) * ms];
      M[(j + i * p) * ms] = t;
      M[(i + j * p) * ms] = t / M[(i + i * p) * ms];
    }
    const double diag = M[(j + j * p) * ms];
    double s = diag;
    HC_UNROLL_LOOP
    for (int i = 0; i < j; i++) s -= M[(j + i * p) * ms] * M[(i + j * p) * ms];
    ok &= s > 1e-13 * diag;
    q *= s / nn;
    M[(j + j * p) * ms] = s;
  }
  const int normal = (S->scale2 > 0.0) & (q > 1e-140) & (q < 1e140);
  const double qs = q * S->scale2, arg = (ok & normal ? qs : 0.0) + HC_BETA * (tr + S->alpha) / nn;
  *slow = (ok & !normal) | !HC_LOG_OK(arg);
  if (full && *slow) {   /* log det W as the sum of the pivots' logarithms */
    double ld = 0.0;
    for (int j = 0; j < p; j++) ld += log(M[(j + j * p) * ms]);
    return crit_of(S, nn, ok ? ld : R_NegInf, tr) - ca - S->crit[k];
  }
  return nn * gm_log(arg) - ca - S->crit[k];
}

/* Adds to M (upper triangle) the stand-in B of the cluster in slot k (see above). */
static void add_rows(const hc_state *S, int k, double *M)
{
  const int p = S->p;
  const double m = stand_in_m(S->size[k], p);
  const double *r = S->r1 + (size_t) k * p;
  for (int b = 0; b < p; b++)
    for (int a = 0; a <= b; a++) {
      const double a1 = a + 1.0, c = a1 < m ? a1 : m;
      M[a + (size_t) b * p] += c * r[a] * r[b];
    }
}

/* The cost of merging the cluster in slot a, formed after the one in slot k, with
 * it; F is a's F. */
static double merge_cost(hc_state *S, const double *F, int a, int k)
{
  int slow;
  return merge_cost_p(S, S->p, F, S->size[a], S->mean + (size_t) a * S->p, S->tr[a], S->crit[a],
                      k, S->M, 1, &slow, 1);
}

/* The new cluster's (slot a, F = S->F) cost with every other in slots 0 .. L1 into
 * newc (newc[a] is left meaningless): a loop that vectorises for the commonest
 * numbers of columns, each cost the bits merge_cost gives. */
#define HC_NEW_COSTS_P(P)                                                              \
  GM_HOT static void new_costs_##P(hc_state *S, int a, int L1, double *newc, int *slow) \
  {                                                                                    \
    const hc_state T = *S;   /* (a copy: nothing in the loop writes to its fields) */   \
    const double *F = S->F, na = S->size[a], ta = S->tr[a], ca = S->crit[a];           \
    const double *ma = S->mean + (size_t) a * (P);                                     \
    GM_SIMD                                                                            \
    for (int k = 0; k <= L1; k++)                                                      \
      newc[k] = merge_cost_p(&T, (P), F, na, ma, ta, ca, k, S->Mk + k, S->n, slow + k, 0); \
  }
HC_NEW_COSTS_P(2)
HC_NEW_COSTS_P(3)
HC_NEW_COSTS_P(4)
#undef HC_NEW_COSTS_P

static void new_costs(hc_state *S, int a, int L1, double *newc, int *slow)
{
  switch (S->p) {
  case 2: new_costs_2(S, a, L1, newc, slow); break;
  case 3: new_costs_3(S, a, L1, newc, slow); break;
  case 4: new_costs_4(S, a, L1, newc, slow); break;
  default:
    for (int k = 0; k <= L1; k++)
      if (k != a) newc[k] = merge_cost(S, S->F, a, k);
    return;
  }
  for (int k = 0; k <= L1; k++)
    if (slow[k] && k != a) newc[k] = merge_cost(S, S->F, a, k);
}

/* log1p(y) for y >= 0 where gm_log holds for u = 1 + y (rounded): log u plus the
 * first-order correction (y - (u - 1)) / u for the rounding of u (u - 1 is exact). */
static inline __attribute__((always_inline)) double hc_log1p(double y)
{
  const double u = 1.0 + y;
  return gm_log(u) + (y - (u - 1.0)) / u;
}

/* The cost of merging two rows of weights vl and vh (vl log vl = ll, vh log vh = lh,
 * and nlogn = n log n for their sum n) at squared distance dd, for p > 1: W_ij = h d d'
 * has rank one, so det counts as 0 and the cost is
 * n_ij log1p(h |d|^2 / alpha') - n_ij log n_ij + n_i log n_i + n_j log n_j, which keeps
 * the order of nearly equal |d| (as in rounded data).  *slow is set where gm_log
 * does not hold for 1 + h |d|^2 / alpha'; then, with full, log1p() serves, and
 * without, the value is not the cost (as in merge_cost_p). */
static inline __attribute__((always_inline)) double two_row_cost(
    const hc_state *S, double vl, double vh, double dd, double nlogn, double ll, double lh,
    int *slow, int full)
{
  const double nn = vl + vh, h = vl * vh / nn, y = h * dd / S->alpha;
  *slow = !HC_LOG_OK(1.0 + y);
  const double l = full && *slow ? log1p(y) : hc_log1p(y);
  return nn * l - nlogn + ll + lh;
}

/* The cost of merging the rows in slots lo and hi (lo the smaller row). */
static double row_pair_cost(const hc_state *S, int lo, int hi)
{
  const int p = S->p;
  const double *mh = S->mean + (size_t) hi * p, *ml = S->mean + (size_t) lo * p;
  const double vl = S->size[lo], vh = S->size[hi], nn = vl + vh;
  double dd = 0.0;
  for (int b = 0; b < p; b++) dd += (mh[b] - ml[b]) * (mh[b] - ml[b]);
  if (p > 1) {
    int slow;
    return two_row_cost(S, vl, vh, dd, nn * gm_log(nn), vl * log(vl), vh * log(vh), &slow, 1);
  }
  const double h = vl * vh / nn, ld = h * dd > 0.0 ? log(h * dd) : R_NegInf;
  return crit_of(S, nn, ld, h * dd) - S->crit[lo] - S->crit[hi];
}

/* The cost of the clusters in slots x and y, to the bit as it was computed when the
 * later of them was formed (only with float storage, which keeps each F). */
static double pair_cost(hc_state *S, int x, int y)
{
  if (S->born[x] == 0 && S->born[y] == 0) {
    const int lo = S->id[x] < S->id[y] ? x : y, hi = lo == x ? y : x;
    return row_pair_cost(S, lo, hi);
  }
  const int a = S->born[x] > S->born[y] ? x : y, k = a == x ? y : x;
  return merge_cost(S, S->Fs + (size_t) a * S->p * S->p, a, k);
}

/* r: the first row of F with a positive diagonal, divided by its root. */
static void first_row(int p, const double *F, double *r)
{
  memset(r, 0, p * sizeof(double));
  for (int j = 0; j < p; j++) {
    const double fjj = F[j + (size_t) j * p];
    if (fjj > 0.0) {
      const double s = sqrt(fjj);
      for (int b = j; b < p; b++) r[b] = F[j + (size_t) b * p] / s;
      return;
    }
  }
}

/* Whether (c, lo) beats column q's current cheapest partner. */
static int beats(const hc_state *S, int q, double c, int lo)
{
  return c < S->best[q] || (c == S->best[q] && lo > S->bestlo[q]);
}

/* The smallest of col[0 .. q - 1] (NaN never is), how many entries equal it, and the
 * last of them, in vector registers (exact operations, so any instruction set gives
 * the same answer).  The second loop's hint is for GCC, which without it leaves the
 * loop scalar at -O2 (a sixth of the tree's time); clang warns that it cannot follow
 * it. */
#if defined(_OPENMP) && !defined(__clang__)
#define HC_SIMD_COUNT GM_PRAGMA(omp simd reduction(+:c) reduction(max:l))
#define HC_SIMD_MAX(v) GM_PRAGMA(omp simd reduction(max:v))
#else
#define HC_SIMD_COUNT
#define HC_SIMD_MAX(v)
#endif
GM_HOT static float float_min(const float *col, int q, int *cnt, int *last)
{
  float fb = (float) R_PosInf;
  GM_SIMD_MIN(fb)
  for (int k = 0; k < q; k++) fb = col[k] < fb ? col[k] : fb;
  int c = 0, l = -1;
  HC_SIMD_COUNT
  for (int k = 0; k < q; k++) {
    c += col[k] == fb;
    l = col[k] == fb ? k : l;
  }
  *cnt = c;
  *last = l;
  return fb;
}

/* The smallest of c[0 .. m - 1] (NaN never is) and the last slot holding it (-1 when
 * none does). */
GM_HOT static double min_last(const double *c, int m, int *last)
{
  double b = R_PosInf;
  GM_SIMD_MIN(b)
  for (int k = 0; k < m; k++) b = c[k] < b ? c[k] : b;
  int l = -1;
  HC_SIMD_MAX(l)
  for (int k = 0; k < m; k++) l = c[k] == b ? k : l;
  *last = l;
  return b;
}

/* The smallest of the costs col[0 .. q - 1] into best[q], and of equal ones the last
 * slot into bestlo[q] (0 when all are NaN, which validated data cannot give). */
static void set_best(hc_state *S, int q, const double *col)
{
  int lo;
  S->best[q] = min_last(col, q, &lo);
  S->bestlo[q] = lo >= 0 ? lo : 0;
}

/* Column q's cheapest partner: the smallest cost, and of equal ones the last slot. */
static void rescan(hc_state *S, int q)
{
  if (!S->fl) {
    set_best(S, q, S->cd + PAIR(0, q));
    return;
  }
  /* floats: the exact costs of the entries equal to the smallest */
  const float *col = S->cf + PAIR(0, q);
  int cnt, last;
  const float fb = float_min(col, q, &cnt, &last);
  double b = R_PosInf;
  int lo = -1;
  if (cnt == 1) {
    b = pair_cost(S, last, q);
    lo = last;
  } else if (cnt > 1) {
    for (int k = last; k >= 0; k--)
      if (col[k] == fb) {
        const double c = pair_cost(S, k, q);
        if (c < b || lo < 0) {
          b = c;
          lo = k;
        }
      }
  }
  S->best[q] = b;
  S->bestlo[q] = lo >= 0 ? lo : 0;   /* all NaN cannot come from validated data */
}

/* Whether the pair (lo, q), whose cost was stored before this stage, beats column q's
 * cheapest partner; if so it becomes that partner. */
static void offer(hc_state *S, int q, int lo)
{
  double c;
  if (!S->fl) {
    c = S->cd[PAIR(lo, q)];
  } else {   /* computed again only when its float does not settle it */
    const float f = S->cf[PAIR(lo, q)], fb = (float) S->best[q];
    if (f > fb) return;
    c = pair_cost(S, lo, q);
  }
  if (beats(S, q, c, lo)) {
    S->best[q] = c;
    S->bestlo[q] = lo;
  }
}

/* Moves the cluster in slot from into slot to (to < from), with its costs with the
 * slots 0 .. L other than to and from. */
static void move_slot(hc_state *S, int from, int to, int L)
{
  const int p = S->p;
  S->size[to] = S->size[from];
  S->tr[to] = S->tr[from];
  S->crit[to] = S->crit[from];
  S->id[to] = S->id[from];
  memcpy(S->mean + (size_t) to * p, S->mean + (size_t) from * p, p * sizeof(double));
  memcpy(S->r1 + (size_t) to * p, S->r1 + (size_t) from * p, p * sizeof(double));
  if (S->fl) {
    S->born[to] = S->born[from];
    memcpy(S->Fs + (size_t) to * p * p, S->Fs + (size_t) from * p * p,
           (size_t) p * p * sizeof(double));
    for (int k = 0; k < to; k++) S->cf[PAIR(k, to)] = S->cf[PAIR(k, from)];
    for (int k = to + 1; k <= L; k++)
      if (k != from) S->cf[PAIR(to, k)] = S->cf[PAIR(k, from)];
  } else {
    for (int k = 0; k < to; k++) S->cd[PAIR(k, to)] = S->cd[PAIR(k, from)];
    for (int k = to + 1; k <= L; k++)
      if (k != from) S->cd[PAIR(to, k)] = S->cd[PAIR(k, from)];
  }
}

/* The first stage's costs of row hi with each row lo < hi into c[lo], for p > 1, in
 * loops that vectorise (each cost the bits row_pair_cost gives, except where slow[lo]
 * is set); y: the rows (n x p), v their weights and vlogv their v log v; nlogn: n log n
 * of the sum of two weights when all are equal (eq), which saves a logarithm a pair. */
GM_HOT static void first_costs(const hc_state *S, const double *y, const double *v,
                               const double *vlogv, int eq, double nlogn, int hi, double *c,
                               int *slow)
{
  const int n = S->n, p = S->p;
  for (int lo = 0; lo < hi; lo++) c[lo] = 0.0;
  for (int b = 0; b < p; b++) {   /* squared distances, summed over columns in order */
    const double *yb = y + (size_t) b * n, yh = yb[hi];
    GM_SIMD
    for (int lo = 0; lo < hi; lo++) c[lo] += (yh - yb[lo]) * (yh - yb[lo]);
  }
  const double vh = v[hi], lh = vlogv[hi];
  if (eq) {
    GM_SIMD
    for (int lo = 0; lo < hi; lo++)
      c[lo] = two_row_cost(S, v[lo], vh, c[lo], nlogn, vlogv[lo], lh, slow + lo, 0);
  } else {
    GM_SIMD
    for (int lo = 0; lo < hi; lo++) {
      const double nn = v[lo] + vh;
      c[lo] = two_row_cost(S, v[lo], vh, c[lo], nn * gm_log(nn), vlogv[lo], lh, slow + lo, 0);
    }
  }
}

/* The first stage's costs of every pair (lo, hi) with h0 <= hi < h1, and each such
 * row's cheapest partner below it (the last of equal ones); y, v, vlogv, eq and nlogn
 * as first_costs takes them, c and slow n-long scratch. */
static void first_rows(hc_state *S, const double *y, const double *v, const double *vlogv,
                       int eq, double nlogn, double *c, int *slow, int h0, int h1)
{
  for (int hi = h0; hi < h1; hi++) {
    if (S->p > 1) {
      first_costs(S, y, v, vlogv, eq, nlogn, hi, c, slow);
      for (int lo = 0; lo < hi; lo++)
        if (slow[lo]) c[lo] = row_pair_cost(S, lo, hi);
    } else {
      for (int lo = 0; lo < hi; lo++) c[lo] = row_pair_cost(S, lo, hi);
    }
    if (S->fl) {
      float *col = S->cf + PAIR(0, hi);
      for (int lo = 0; lo < hi; lo++) col[lo] = (float) c[lo];
    } else {
      memcpy(S->cd + PAIR(0, hi), c, (size_t) hi * sizeof(double));
    }
    set_best(S, hi, c);
  }
}

typedef struct {
  hc_state *S;
  const double *y, *v, *vlogv;
  int eq;
  double nlogn;
  double *c;           /* n-long scratch per thread */
  int *slow;
  const int *bounds;   /* task t: rows bounds[t] .. bounds[t + 1] - 1 */
  int t0;              /* the batch's first task */
} first_job;

static void first_task(void *arg, int t, int thread)
{
  const first_job *J = (const first_job *) arg;
  const size_t off = (size_t) thread * J->S->n;
  first_rows(J->S, J->y, J->v, J->vlogv, J->eq, J->nlogn, J->c + off, J->slow + off,
             J->bounds[J->t0 + t], J->bounds[J->t0 + t + 1]);
}

/* About this many pairs per task of the first stage. */
#define HC_TASK_PAIRS 262144.0

/* Ward's tree (hc.c), a task run on a worker: it does not call R. */
static void ward_task(void *arg, int t, int thread)
{
  (void) t;
  (void) thread;
  gm_ward_run((gm_ward *) arg, 0);
}

/* The n - 1 merges of rows y (n x p, scaled) with relative weights v, in order, as
 * pairs of rows (the smallest row of each cluster) in ma, mb; with S->ward, Ward's
 * tree as well (on a worker while the merges run, when there are threads). */
static void hcvvv_merges(hc_state *S, const double *y, const double *v, int *ma, int *mb)
{
  const int n = S->n, p = S->p;
  for (int i = 0; i < n; i++) {
    S->size[i] = v[i];
    for (int b = 0; b < p; b++) S->mean[b + (size_t) i * p] = y[i + (size_t) b * n];
    S->tr[i] = 0.0;
    S->crit[i] = crit_of(S, v[i], R_NegInf, 0.0);
    S->id[i] = i;
    if (S->fl) S->born[i] = 0;
  }
  memset(S->r1, 0, (size_t) n * p * sizeof(double));
  /* Each row's v log v, computed once instead of once per pair. */
  double *vlogv = (double *) R_alloc(n, sizeof(double));
  for (int i = 0; i < n; i++) vlogv[i] = v[i] * log(v[i]);
  /* The first stage, every pair's cost, in tasks of consecutive rows with about
   * HC_TASK_PAIRS pairs each (rows below hi hold hi (hi - 1) / 2 pairs), on the
   * threads: each cost is the same whichever thread computes it.  Batches of a few
   * tasks per thread, with a check for interrupts between them. */
  const double npair = (double) n * (n - 1) / 2.0;
  const double nt = ceil(npair / HC_TASK_PAIRS);   /* at most n tasks (no int overflow) */
  const int ntask = npair > HC_TASK_PAIRS ? (nt < n ? (int) nt : n) : 1;
  int *bounds = (int *) R_alloc(ntask + 1, sizeof(int));
  bounds[0] = 1;
  for (int t = 1; t < ntask; t++) {
    const int h = (int) (n * sqrt((double) t / ntask));
    bounds[t] = h < bounds[t - 1] ? bounds[t - 1] : h > n ? n : h;
  }
  bounds[ntask] = n > 1 ? n : 1;
  int eq = 1;
  for (int i = 1; i < n; i++) eq = eq && v[i] == v[0];
  const double n2 = n > 0 ? v[0] + v[0] : 1.0;
  double *cbuf = (double *) R_alloc((size_t) S->threads * n, sizeof(double));
  int *sbuf = (int *) R_alloc((size_t) S->threads * n, sizeof(int));
  first_job J = {S, y, v, vlogv, eq, n2 * gm_log(n2), cbuf, sbuf, bounds, 0};
  const int batch = 4 * S->threads;
  for (int t0 = 0; t0 < ntask; t0 += batch) {
    J.t0 = t0;
    gm_parallel(S->threads, ntask - t0 < batch ? ntask - t0 : batch, first_task, &J, NULL);
    R_CheckUserInterrupt();
  }
  /* Ward's tree on a worker meanwhile, when there is one: the merges below run on
   * this thread alone. */
  if (S->ward && S->threads > 1 && gm_ward_columns(S->ward) > 1)
    S->ward_async = gm_pool_start(1, ward_task, S->ward);
  double *newc = (double *) R_alloc(n, sizeof(double));   /* this stage's costs */
  int *slow = (int *) R_alloc(n, sizeof(int));            /* and their rare cases */
  memset(S->F, 0, (size_t) p * p * sizeof(double));
  int newest = -1;
  for (int L = n - 1, s = 0; L > 0; L--, s++) {
    int hi = 1;
    for (int q = 2; q <= L; q++)
      if (S->best[q] <= S->best[hi]) hi = q;
    const int a = S->bestlo[hi], b = hi;
    const double c = S->best[hi];
    ma[s] = S->id[a];
    mb[s] = S->id[b];
    /* The merged cluster goes to slot a; its F first, from the parts' F or B. */
    const double na = S->size[a], nb = S->size[b], nn = na + nb, h = na * nb / nn;
    double *mu_a = S->mean + (size_t) a * p, *mu_b = S->mean + (size_t) b * p;
    double *M = S->M, dd = 0.0;
    if (a == newest || b == newest) memcpy(M, S->F, (size_t) p * p * sizeof(double));
    else memset(M, 0, (size_t) p * p * sizeof(double));
    if (a != newest) add_rows(S, a, M);
    if (b != newest) add_rows(S, b, M);
    for (int j = 0; j < p; j++) {
      const double dj = mu_a[j] - mu_b[j];
      dd += dj * dj;
      for (int i = 0; i <= j; i++) M[i + (size_t) j * p] += h * (mu_a[i] - mu_b[i]) * dj;
    }
    memcpy(S->F, M, (size_t) p * p * sizeof(double));
    first_row(p, S->F, S->r1 + (size_t) a * p);
    for (int j = 0; j < p; j++) mu_a[j] = (na * mu_a[j] + nb * mu_b[j]) / nn;
    S->size[a] = nn;
    S->tr[a] += S->tr[b] + h * dd;
    S->crit[a] += S->crit[b] + c;
    if (S->id[b] < S->id[a]) S->id[a] = S->id[b];
    if (S->fl) {
      memcpy(S->Fs + (size_t) a * p * p, S->F, (size_t) p * p * sizeof(double));
      S->born[a] = s + 1;
    }
    newest = a;
    /* Slot b is freed: the last cluster moves in. */
    if (b != L) move_slot(S, L, b, L);
    const int L1 = L - 1;
    /* The new cluster's cost with every other. */
    new_costs(S, a, L1, newc, slow);
    if (S->fl) {
      for (int k = 0; k < a; k++) S->cf[PAIR(k, a)] = (float) newc[k];
      for (int k = a + 1; k <= L1; k++) S->cf[PAIR(a, k)] = (float) newc[k];
    } else {
      for (int k = 0; k < a; k++) S->cd[PAIR(k, a)] = newc[k];
      for (int k = a + 1; k <= L1; k++) S->cd[PAIR(a, k)] = newc[k];
    }
    /* The cheapest partner of each column touched by the merge: a's are all new. */
    if (a > 0) set_best(S, a, newc);
    if (b <= L1) rescan(S, b);
    for (int q = a + 1; q <= L1; q++) {
      if (q == b) continue;
      if (S->bestlo[q] == a || (q > b && S->bestlo[q] == b)) {
        rescan(S, q);
        continue;
      }
      if (beats(S, q, newc[q], a)) {
        S->best[q] = newc[q];
        S->bestlo[q] = a;
      }
      if (q > b) offer(S, q, b);
    }
    if (s % 32 == 31) R_CheckUserInterrupt();
  }
}

typedef struct {
  hc_state *S;
  const double *y, *v;
  int *ma, *mb;
} hc_job;

static SEXP hc_body(void *arg)
{
  hc_job *J = (hc_job *) arg;
  hcvvv_merges(J->S, J->y, J->v, J->ma, J->mb);
  if (J->S->ward && !J->S->ward_async) gm_ward_run(J->S->ward, 1);   /* (else hc_free waits) */
  return R_NilValue;
}

static void hc_free(void *arg, Rboolean jump)
{
  (void) jump;
  hc_state *S = (hc_state *) arg;
  if (S->ward_async) {   /* Ward's tree on a worker: it ends before anything goes */
    gm_pool_wait();
    S->ward_async = 0;
  }
  free(S->cf);
  free(S->cd);
  free(S->Fs);
  S->cf = NULL;
  S->cd = NULL;
  S->Fs = NULL;
}

/* The partitions of the VVV tree of x into 1 .. kmax groups (see gm_tree_cut in hc.c),
 * its first stage on `threads` threads; with W, Ward's tree is built too, on a worker
 * while this thread merges when threads > 1. */
static SEXP hcvvv_tree(SEXP x, SEXP w, SEXP kmax, SEXP threads, gm_ward *W)
{
  gm_data D;
  const int km = gm_tree_args(x, w, kmax, &D), n = D.n, p = D.d;
  if (TYPEOF(threads) != INTSXP || LENGTH(threads) != 1 || INTEGER(threads)[0] == NA_INTEGER ||
      INTEGER(threads)[0] < 1 || INTEGER(threads)[0] > GM_MAX_THREADS)
    error("'threads' must be a whole number from 1 to %d", GM_MAX_THREADS);
  double wmin = R_PosInf, xmax = 0.0;
  for (int i = 0; i < n; i++)
    if (D.w[i] < wmin) wmin = D.w[i];
  for (R_xlen_t e = 0; e < (R_xlen_t) n * p; e++)
    if (fabs(D.x[e]) > xmax) xmax = fabs(D.x[e]);

  /* Relative weights and data scaled by 2^-K, so that max |y| is in [0.5, 1). */
  double *v = (double *) R_alloc(n, sizeof(double));
  double *y = (double *) R_alloc((size_t) n * p, sizeof(double));
  for (int i = 0; i < n; i++) v[i] = fmin(D.w[i] / wmin, HC_WMAX);
  int K = 0;
  if (xmax > 0.0) frexp(xmax, &K);
  for (R_xlen_t e = 0; e < (R_xlen_t) n * p; e++) y[e] = ldexp(D.x[e], -K);
  /* alpha' = alpha tr(W) / (N p), W about the weighted mean; constant data get 1. */
  double N = 0.0, trw = 0.0;
  for (int i = 0; i < n; i++) N += v[i];
  for (int j = 0; j < p; j++) {
    const double *yj = y + (size_t) j * n;
    double m = 0.0;
    for (int i = 0; i < n; i++) m += v[i] * yj[i];
    m /= N;
    for (int i = 0; i < n; i++) trw += v[i] * (yj[i] - m) * (yj[i] - m);
  }
  hc_state S;
  S.ward = W;
  S.ward_async = 0;
  S.n = n;
  S.p = p;
  S.threads = INTEGER(threads)[0];
  S.alpha = HC_ALPHA * trw / (N * p);
  if (!(S.alpha > 0.0 && isfinite(S.alpha))) S.alpha = 1.0;
  const double pow2 = (2.0 * p - 2.0) * K;
  S.logs = pow2 * log(2.0);
  S.scale2 = fabs(pow2) <= 400.0 ? ldexp(1.0, (int) pow2) : 0.0;
  S.born = (int *) R_alloc(n, sizeof(int));
  S.best = (double *) R_alloc(n, sizeof(double));
  S.bestlo = (int *) R_alloc(n, sizeof(int));
  S.size = (double *) R_alloc(n, sizeof(double));
  S.tr = (double *) R_alloc(n, sizeof(double));
  S.crit = (double *) R_alloc(n, sizeof(double));
  S.id = (int *) R_alloc(n, sizeof(int));
  S.mean = (double *) R_alloc((size_t) n * p, sizeof(double));
  S.r1 = (double *) R_alloc((size_t) n * p, sizeof(double));
  S.F = (double *) R_alloc((size_t) p * p, sizeof(double));
  S.M = (double *) R_alloc((size_t) p * p, sizeof(double));
  S.Mk = p >= 2 && p <= 4 ? (double *) R_alloc((size_t) p * p * n, sizeof(double)) : NULL;
  int *ma = (int *) R_alloc(n, sizeof(int)), *mb = (int *) R_alloc(n, sizeof(int));
  hc_job J = {&S, y, v, ma, mb};
  SEXP cont = PROTECT(R_MakeUnwindCont());
  /* The costs (and with floats each cluster's F) come from malloc, last, and go back
   * as soon as the tree is built, however it ends: memory from R_alloc would stay
   * until R's next garbage collection, under what the fit allocates next.  Floats
   * only while every cost fits in one: a cost is at most a few thousand times the
   * total relative weight N, and above 1e30 most would round to infinity, all tie,
   * and be computed again at every rescan. */
  const size_t npair = (size_t) n * (n - 1) / 2;
  S.fl = (double) p * p <= (n - 1) / 4.0 && N <= 1e30;
  S.cf = NULL;
  S.cd = NULL;
  S.Fs = NULL;
  if (S.fl) {
    S.cf = (float *) malloc((npair > 0 ? npair : 1) * sizeof(float));
    S.Fs = (double *) malloc((size_t) n * p * p * sizeof(double));
  } else {
    S.cd = (double *) malloc((npair > 0 ? npair : 1) * sizeof(double));
  }
  if (S.fl ? !S.cf || !S.Fs : !S.cd) {
    hc_free(&S, FALSE);
    error("cannot allocate the %.0f pair costs of the hierarchical start on %d rows",
          (double) npair, n);
  }
  /* (fresh from the system at every tree: 8 MB on 2,000 rows took 2,000 faults) */
  if (S.fl) gm_advise_huge(S.cf, npair * sizeof(float));
  else gm_advise_huge(S.cd, npair * sizeof(double));
  R_UnwindProtect(hc_body, &J, hc_free, &S, cont);
  UNPROTECT(1);
  return gm_tree_cut(n, km, ma, mb);
}

/* gmm_hcvvv(x, w, kmax, threads): the VVV tree's partitions (hcvvv_tree). */
SEXP gmm_hcvvv(SEXP x, SEXP w, SEXP kmax, SEXP threads)
{
  return hcvvv_tree(x, w, kmax, threads, NULL);
}

/* gmm_hc_trees(x, xw, w, kmax, threads): list(the VVV tree's partitions of x, Ward's
 * of xw), the same rows differently transformed (hc_trees() in R/init.R), as
 * gmm_hcvvv and gmm_ward give them; Ward's tree is built beside the VVV tree's
 * merges, which take one thread. */
SEXP gmm_hc_trees(SEXP x, SEXP xw, SEXP w, SEXP kmax, SEXP threads)
{
  gm_ward *W = gm_ward_setup(xw, w, kmax);
  SEXP out = PROTECT(allocVector(VECSXP, 2));
  SET_VECTOR_ELT(out, 0, hcvvv_tree(x, w, kmax, threads, W));
  SET_VECTOR_ELT(out, 1, gm_ward_cut(W));
  UNPROTECT(1);
  return out;
}

/* gmm_hc_log(x): gm_log and hc_log1p of each element of x, for the tests (each
 * where it holds: x and 1 + x positive normal up to 2^1000; NA elsewhere). */
SEXP gmm_hc_log(SEXP x)
{
  const double *xv = gm_real_arg(x, "x", -1);
  const R_xlen_t n = XLENGTH(x);
  SEXP out = PROTECT(allocMatrix(REALSXP, n, 2));
  double *o = REAL(out);
  for (R_xlen_t i = 0; i < n; i++) {
    o[i] = HC_LOG_OK(xv[i]) ? gm_log(xv[i]) : NA_REAL;
    o[i + n] = xv[i] >= 0.0 && HC_LOG_OK(1.0 + xv[i]) ? hc_log1p(xv[i]) : NA_REAL;
  }
  UNPROTECT(1);
  return out;
}
