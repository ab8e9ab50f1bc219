/* M-step: weighted sufficient statistics, then one covariance update per model.
 *
 * Every model of Celeux and Govaert (1995), Sigma_k = lambda_k D_k A_k D_k', has an
 * M-step that depends on the data only through the component sizes n_k and the
 * weighted scatter matrices W_k about the new means.  So the update of a model is a
 * single function from (n_k, W_k) to Sigma_k, and adding a model is adding one
 * function and one row of the table at the bottom of this file.
 */
#include <math.h>
#include <string.h>
#include "gaussmix.h"

/* ---- sufficient statistics -------------------------------------------- */

/* nk[c] = sum_i w_i z_ic. */
static void comp_sizes(const gm_data *D, const double *z, int k, double *nk)
{
  for (int c = 0; c < k; c++) {
    const double *zc = z + (size_t) c * D->n;
    double s = 0.0;
    for (int i = 0; i < D->n; i++) s += D->w[i] * zc[i];
    nk[c] = s;
  }
}

/* Weighted means, and W_c = sum_i w_i z_ic (x_i - mu_c)(x_i - mu_c)' by a second pass
 * over centred data (more accurate than sums of squares for shifted data). */
static void means_scatter(const gm_data *D, const double *z, int k, const double *nk,
                          double *mean, double *W, double *scratch)
{
  const int n = D->n, d = D->d;
  for (int c = 0; c < k; c++) {
    const double *zc = z + (size_t) c * n;
    double *mu = mean + (size_t) c * d;
    double *Wc = W + (size_t) c * d * d;
    for (int j = 0; j < d; j++) {
      const double *xj = D->x + (size_t) j * n;
      double s = 0.0;
      for (int i = 0; i < n; i++) s += D->w[i] * zc[i] * xj[i];
      mu[j] = s / nk[c];
    }
    memset(Wc, 0, (size_t) d * d * sizeof(double));
    for (R_xlen_t i0 = 0; i0 < n; i0 += GM_BLOCK) {
      const int m = (n - i0 < GM_BLOCK) ? (int) (n - i0) : GM_BLOCK;
      for (int j = 0; j < d; j++) {
        const double *xj = D->x + (size_t) j * n + i0;
        double *r = scratch + (size_t) j * m;
        for (int b = 0; b < m; b++)
          r[b] = sqrt(D->w[i0 + b] * zc[i0 + b]) * (xj[b] - mu[j]);
      }
      for (int j = 0; j < d; j++) {
        const double *rj = scratch + (size_t) j * m;
        for (int l = 0; l <= j; l++) {
          const double *rl = scratch + (size_t) l * m;
          double s = 0.0;
          for (int b = 0; b < m; b++) s += rj[b] * rl[b];
          Wc[j + (size_t) l * d] += s;
        }
      }
    }
    for (int j = 0; j < d; j++)
      for (int l = 0; l < j; l++) Wc[l + (size_t) j * d] = Wc[j + (size_t) l * d];
  }
}

/* ---- covariance updates, one per model --------------------------------- */

static void set_scaled_identity(int d, double lambda, double *S)
{
  memset(S, 0, (size_t) d * d * sizeof(double));
  for (int j = 0; j < d; j++) S[j + (size_t) j * d] = lambda;
}

static double trace_of(int d, const double *A)
{
  double t = 0.0;
  for (int j = 0; j < d; j++) t += A[j + (size_t) j * d];
  return t;
}

/* EII (and E in 1-D): Sigma_k = lambda I, lambda = sum_k tr W_k / (n d). */
static void cov_EII(int d, int k, double wsum, const double *nk, const double *W,
                    double *sigma)
{
  (void) nk;
  const size_t dd = (size_t) d * d;
  double t = 0.0;
  for (int c = 0; c < k; c++) t += trace_of(d, W + c * dd);
  for (int c = 0; c < k; c++) set_scaled_identity(d, t / (wsum * d), sigma + c * dd);
}

/* VII (and V in 1-D): Sigma_k = lambda_k I, lambda_k = tr W_k / (n_k d). */
static void cov_VII(int d, int k, double wsum, const double *nk, const double *W,
                    double *sigma)
{
  (void) wsum;
  const size_t dd = (size_t) d * d;
  for (int c = 0; c < k; c++)
    set_scaled_identity(d, trace_of(d, W + c * dd) / (nk[c] * d), sigma + c * dd);
}

/* EEI: Sigma_k = diag(sum_k W_k) / n. */
static void cov_EEI(int d, int k, double wsum, const double *nk, const double *W,
                    double *sigma)
{
  (void) nk;
  const size_t dd = (size_t) d * d;
  memset(sigma, 0, dd * sizeof(double));
  for (int c = 0; c < k; c++)
    for (int j = 0; j < d; j++) sigma[j + (size_t) j * d] += W[c * dd + j + (size_t) j * d];
  for (int j = 0; j < d; j++) sigma[j + (size_t) j * d] /= wsum;
  for (int c = 1; c < k; c++) memcpy(sigma + c * dd, sigma, dd * sizeof(double));
}

/* VVI: Sigma_k = diag(W_k) / n_k. */
static void cov_VVI(int d, int k, double wsum, const double *nk, const double *W,
                    double *sigma)
{
  (void) wsum;
  const size_t dd = (size_t) d * d;
  memset(sigma, 0, k * dd * sizeof(double));
  for (int c = 0; c < k; c++)
    for (int j = 0; j < d; j++)
      sigma[c * dd + j + (size_t) j * d] = W[c * dd + j + (size_t) j * d] / nk[c];
}

/* EEE: Sigma_k = sum_k W_k / n. */
static void cov_EEE(int d, int k, double wsum, const double *nk, const double *W,
                    double *sigma)
{
  (void) nk;
  const size_t dd = (size_t) d * d;
  for (size_t e = 0; e < dd; e++) {
    double s = 0.0;
    for (int c = 0; c < k; c++) s += W[c * dd + e];
    sigma[e] = s / wsum;
  }
  for (int c = 1; c < k; c++) memcpy(sigma + c * dd, sigma, dd * sizeof(double));
}

/* VVV: Sigma_k = W_k / n_k. */
static void cov_VVV(int d, int k, double wsum, const double *nk, const double *W,
                    double *sigma)
{
  (void) wsum;
  const size_t dd = (size_t) d * d;
  for (int c = 0; c < k; c++)
    for (size_t e = 0; e < dd; e++) sigma[c * dd + e] = W[c * dd + e] / nk[c];
}

/* ---- numbers of free covariance parameters (DESIGN.md) ---------------- */

/* In double: k d (d + 1) / 2 overflows an int long before memory runs out. */
static double ncov_one(double d, double k)  { (void) d; (void) k; return 1; }
static double ncov_k(double d, double k)    { (void) d; return k; }
static double ncov_d(double d, double k)    { (void) k; return d; }
static double ncov_kd(double d, double k)   { return k * d; }
static double ncov_tri(double d, double k)  { (void) k; return d * (d + 1) / 2; }
static double ncov_ktri(double d, double k) { return k * d * (d + 1) / 2; }

/* ---- the model table ------------------------------------------------------ */

static const gm_model models[] = {
  {"E",   0, cov_EII, ncov_one},
  {"V",   0, cov_VII, ncov_k},
  {"EII", 1, cov_EII, ncov_one},
  {"VII", 1, cov_VII, ncov_k},
  {"EEI", 1, cov_EEI, ncov_d},
  {"VVI", 1, cov_VVI, ncov_kd},
  {"EEE", 1, cov_EEE, ncov_tri},
  {"VVV", 1, cov_VVV, ncov_ktri},
};

int gm_model_count(void) { return (int) (sizeof(models) / sizeof(models[0])); }

const gm_model *gm_model_at(int i) { return &models[i]; }

const gm_model *gm_find_model(const char *name)
{
  for (int i = 0; i < gm_model_count(); i++)
    if (strcmp(models[i].name, name) == 0) return &models[i];
  return NULL;
}

/* ---- the M-step ------------------------------------------------------------ */

/* Updates P (pro, mean, sigma, and the Cholesky factors) from responsibilities z.
 * nk (k), W (d x d x k) and scratch (GM_BLOCK * d) are workspace.  Returns GM_OK,
 * GM_COLLAPSE when a component's size is at most eps * sum(w), or GM_SINGULAR when
 * a covariance is not usable; the component is written to *bad. */
int gm_mstep(const gm_data *D, const double *z, const gm_model *M, gm_par *P,
             double reg, double eps, double *nk, double *W, double *scratch,
             int *bad)
{
  const int d = D->d, k = P->k;
  comp_sizes(D, z, k, nk);
  for (int c = 0; c < k; c++) {
    if (!(nk[c] > eps * D->wsum) || !isfinite(nk[c])) {
      *bad = c;
      return GM_COLLAPSE;
    }
    P->pro[c] = nk[c] / D->wsum;
  }
  means_scatter(D, z, k, nk, P->mean, W, scratch);
  M->cov(d, k, D->wsum, nk, W, P->sigma);
  if (reg > 0.0)
    for (int c = 0; c < k; c++)
      for (int j = 0; j < d; j++) P->sigma[(size_t) c * d * d + j + (size_t) j * d] += reg;
  return gm_chol(d, k, P->sigma, P->chol, P->logdet, D->colvar, eps, bad);
}
