/* E-step in log space.
 *
 * log N(x | mu, Sigma) = -(d log(2 pi) + log det Sigma + |L^{-1}(x - mu)|^2) / 2 with
 * Sigma = L L'.  The whitened residual L^{-1}(x - mu) is found by forward substitution
 * over a block of rows at a time, so every inner loop runs along contiguous rows.
 * Responsibilities come from log-sum-exp over components with the maximum shifted out.
 */
#include <math.h>
#include "gaussmix.h"

#define LOG_2PI 1.837877066409345483560659472811

/* Writes log(pi_k) + log N(x_i | mu_k, Sigma_k) into lz (n x k) for rows i0..i0+m-1.
 * scratch holds m * d doubles. */
static void log_comp_block(const gm_data *D, const gm_par *P, R_xlen_t i0, int m,
                           double *lz, double *scratch)
{
  const int n = D->n, d = D->d;
  for (int c = 0; c < P->k; c++) {
    const double *L = P->chol + (size_t) c * d * d;
    const double *mu = P->mean + (size_t) c * d;
    const double cst = log(P->pro[c]) - 0.5 * (d * LOG_2PI + P->logdet[c]);
    double *out = lz + (size_t) c * n + i0;
    for (int b = 0; b < m; b++) out[b] = 0.0;
    for (int j = 0; j < d; j++) {
      double *r = scratch + (size_t) j * m;
      const double *xj = D->x + (size_t) j * n + i0;
      for (int b = 0; b < m; b++) r[b] = xj[b] - mu[j];
      for (int l = 0; l < j; l++) {
        const double a = L[j + (size_t) l * d];
        const double *rl = scratch + (size_t) l * m;
        for (int b = 0; b < m; b++) r[b] -= a * rl[b];
      }
      const double inv = 1.0 / L[j + (size_t) j * d];
      for (int b = 0; b < m; b++) {
        r[b] *= inv;
        out[b] += r[b] * r[b];
      }
    }
    for (int b = 0; b < m; b++) out[b] = cst - 0.5 * out[b];
  }
}

/* Given parameters with their Cholesky factors, overwrite z with responsibilities,
 * rowll (may be NULL) with the log mixture density of each row and *loglik with
 * sum_i w_i rowll_i.  scratch holds GM_BLOCK * d doubles.  Returns GM_NONFINITE if
 * some row's log density is not finite (data or parameters too extreme). */
int gm_estep(const gm_data *D, const gm_par *P, double *z, double *rowll,
             double *loglik, double *scratch)
{
  const int n = D->n, k = P->k;
  double ll = 0.0;
  for (R_xlen_t i0 = 0; i0 < n; i0 += GM_BLOCK) {
    const int m = (n - i0 < GM_BLOCK) ? (int) (n - i0) : GM_BLOCK;
    log_comp_block(D, P, i0, m, z, scratch);
    for (R_xlen_t i = i0; i < i0 + m; i++) {
      double mx = z[i];
      for (int c = 1; c < k; c++)
        if (z[i + (size_t) c * n] > mx) mx = z[i + (size_t) c * n];
      if (!isfinite(mx)) return GM_NONFINITE;
      double s = 0.0;
      for (int c = 0; c < k; c++) {
        double *zic = z + i + (size_t) c * n;
        *zic = exp(*zic - mx);
        s += *zic;
      }
      const double lse = mx + log(s), inv = 1.0 / s;
      for (int c = 0; c < k; c++) z[i + (size_t) c * n] *= inv;
      if (rowll) rowll[i] = lse;
      ll += (D->w ? D->w[i] : 1.0) * lse;
    }
  }
  if (!isfinite(ll)) return GM_NONFINITE;
  *loglik = ll;
  return GM_OK;
}
