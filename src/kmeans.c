/* Seeding for EM: weighted k-means++ (Arthur and Vassilvitskii 2007) followed by a
 * few Lloyd iterations.  Random numbers come from R's generator, so set.seed()
 * reproduces the partition. */
#include <math.h>
#include <string.h>
#include "gaussmix.h"

static double sqdist(int n, int d, const double *x, int i, const double *c)
{
  double s = 0.0;
  for (int j = 0; j < d; j++) {
    const double t = x[i + (size_t) j * n] - c[j];
    s += t * t;
  }
  return s;
}

/* Index i drawn with probability p_i / sum(p); rows with p_i = 0 are never drawn. */
static int draw(int n, const double *p, double total)
{
  const double u = unif_rand() * total;
  double cum = 0.0;
  int last = -1;
  for (int i = 0; i < n; i++) {
    if (p[i] <= 0.0) continue;
    cum += p[i];
    last = i;
    if (cum > u) return i;
  }
  return last;
}

static void copy_row(int n, int d, const double *x, int i, double *c)
{
  for (int j = 0; j < d; j++) c[j] = x[i + (size_t) j * n];
}

/* Assigns each row to its nearest centre; returns how many labels changed. */
static int assign(int n, int d, int k, const double *x, const double *centres, int *cl)
{
  int changed = 0;
  for (int i = 0; i < n; i++) {
    int best = 0;
    double bd = sqdist(n, d, x, i, centres);
    for (int c = 1; c < k; c++) {
      const double dc = sqdist(n, d, x, i, centres + (size_t) c * d);
      if (dc < bd) {
        bd = dc;
        best = c;
      }
    }
    if (cl[i] != best) changed++;
    cl[i] = best;
  }
  return changed;
}

/* Draws a row by D^2 sampling: with probability proportional to w_i dist_i, or to w_i
 * when every row already sits on a centre. */
static int draw_d2(int n, const double *w, const double *dist, double pot, double total)
{
  if (!(pot > 0.0)) return draw(n, w, total);
  const double u = unif_rand() * pot;
  double cum = 0.0;
  int last = -1;
  for (int i = 0; i < n; i++) {
    const double p = w[i] * dist[i];
    if (p <= 0.0) continue;
    cum += p;
    last = i;
    if (cum > u) return i;
  }
  return last;
}

/* cl (n, 0-based labels), centres (d x k), dist (n) and work (2 n + d + k + d k) are
 * output and workspace.  Weighted: a row of weight w counts as w rows, and a row of
 * weight 0 is never a centre.  Each new centre is the best of 2 + floor(log k)
 * candidates drawn by D^2 sampling, the one that lowers the k-means cost most (the
 * greedy variant of Arthur and Vassilvitskii 2007, as in scikit-learn): a bad
 * seeding is much rarer than with a single draw. */
void gm_kmeanspp(int n, int d, int k, const double *x, const double *w,
                 int lloyd, int *cl, double *centres, double *dist, double *work)
{
  const int trials = 2 + (int) log((double) k);
  double *cand = work, *best = work + n, *row = work + 2 * (size_t) n;
  double total = 0.0;
  for (int i = 0; i < n; i++) total += w[i];
  copy_row(n, d, x, draw(n, w, total), centres);
  for (int i = 0; i < n; i++) dist[i] = sqdist(n, d, x, i, centres);
  for (int c = 1; c < k; c++) {
    double pot = 0.0;
    for (int i = 0; i < n; i++) pot += w[i] * dist[i];
    double best_pot = R_PosInf;
    for (int t = 0; t < trials; t++) {
      copy_row(n, d, x, draw_d2(n, w, dist, pot, total), row);
      double cpot = 0.0;
      for (int i = 0; i < n; i++) {
        const double dc = sqdist(n, d, x, i, row);
        cand[i] = dc < dist[i] ? dc : dist[i];
        cpot += w[i] * cand[i];
      }
      if (cpot < best_pot) {
        best_pot = cpot;
        memcpy(centres + (size_t) c * d, row, d * sizeof(double));
        double *tmp = best;
        best = cand;
        cand = tmp;
      }
    }
    memcpy(dist, best, n * sizeof(double));
  }

  for (int i = 0; i < n; i++) cl[i] = -1;
  assign(n, d, k, x, centres, cl);
  double *cnt = work + 2 * (size_t) n + d, *sum = cnt + k;
  for (int it = 0; it < lloyd; it++) {
    memset(cnt, 0, k * sizeof(double));
    memset(sum, 0, (size_t) d * k * sizeof(double));
    for (int i = 0; i < n; i++) {
      cnt[cl[i]] += w[i];
      for (int j = 0; j < d; j++) sum[j + (size_t) cl[i] * d] += w[i] * x[i + (size_t) j * n];
    }
    for (int c = 0; c < k; c++)
      if (cnt[c] > 0.0)  /* an empty cluster keeps its centre */
        for (int j = 0; j < d; j++) centres[j + (size_t) c * d] = sum[j + (size_t) c * d] / cnt[c];
    if (assign(n, d, k, x, centres, cl) == 0) break;
  }
}

/* gmm_kmeans(x, w, k, lloyd): 1-based cluster labels from weighted k-means++ seeding
 * and at most 'lloyd' Lloyd iterations. */
SEXP gmm_kmeans(SEXP x, SEXP w, SEXP k, SEXP lloyd)
{
  gm_data D;
  gm_data_arg(x, w, &D, 0);
  const int n = D.n, d = D.d;
  if (TYPEOF(k) != INTSXP || LENGTH(k) != 1 || TYPEOF(lloyd) != INTSXP || LENGTH(lloyd) != 1)
    error("'k' and 'lloyd' must be single integers");
  const int kk = INTEGER(k)[0], ll = INTEGER(lloyd)[0];
  if (kk < 1 || kk > n || ll < 0) error("need 1 <= k <= nrow(x) and lloyd >= 0");
  const double *ww = D.w, *xx = D.x;
  int npos = 0;
  for (int i = 0; i < n; i++) npos += ww[i] > 0.0;
  if (kk > npos) error("'k' must be at most the number of rows with positive weight");

  SEXP cl = PROTECT(allocVector(INTSXP, n));
  double *centres = (double *) R_alloc((size_t) d * kk, sizeof(double));
  double *dist = (double *) R_alloc(n, sizeof(double));
  double *work = (double *) R_alloc(2 * (size_t) n + d + kk + (size_t) d * kk, sizeof(double));
  GetRNGstate();
  gm_kmeanspp(n, d, kk, xx, ww, ll, INTEGER(cl), centres, dist, work);
  PutRNGstate();
  for (int i = 0; i < n; i++) INTEGER(cl)[i] += 1;
  UNPROTECT(1);
  return cl;
}
