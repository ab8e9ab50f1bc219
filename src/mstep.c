/* M-step: weighted sufficient statistics, then one covariance update per model.
 *
 * The fourteen models of Celeux and Govaert (1995) parametrise a component covariance
 * as Sigma_k = lambda_k D_k A_k D_k' (volume, orientation, shape).  Each update below
 * minimises
 *     f = sum_k  m_k log det Sigma_k + tr(Sigma_k^{-1} S_k)
 * under its model's constraints, from the effective sizes m_k and scatter matrices S_k
 * alone (see gm_cov in gaussmix.h), so adding a model is adding one function and one
 * row of the table at the bottom of this file.  Closed forms are those of Celeux and
 * Govaert; VEI, VEE and VEV alternate between volumes and the shared part; EVE and VVE
 * update the common orientation by the majorise-minimise step of Browne and McNicholas
 * (2014).  Inner loops start from the previous M-step's values, so every M-step lowers
 * f and EM stays monotone.
 */
#include <math.h>
#include <string.h>
#include "gaussmix.h"

/* ---- sufficient statistics -------------------------------------------- */

/* Component sizes nk[c] = sum_i w_i z_ic and means mean_c = sum_i w_i z_ic x_i / nk[c];
 * the means are left unset when a size is zero, which the caller rejects. */
GM_HOT static void sizes_means(const gm_data *D, const double *z, int k, double *nk, double *mean)
{
  const int n = D->n, d = D->d;
  for (int c = 0; c < k; c++) {
    const double *zc = z + (size_t) c * n;
    double s = 0.0;
    GM_SIMD_SUM(s)
    for (int i = 0; i < n; i++) s += D->w[i] * zc[i];
    nk[c] = s;
    if (!(s > 0.0)) continue;
    for (int j = 0; j < d; j++) {
      const double *xj = D->x + (size_t) j * n;
      double sx = 0.0;
      GM_SIMD_SUM(sx)
      for (int i = 0; i < n; i++) sx += D->w[i] * zc[i] * xj[i];
      mean[j + (size_t) c * d] = sx / s;
    }
  }
}

/* The conjugate prior's MAP terms (Fraley and Raftery 2007): shrink each mean towards
 * the prior mean, and add the prior scale and the shrinkage term to each scatter. */
static void apply_prior(const gm_prior *pr, int d, int k, const double *nk, double *mean,
                        double *W, double *m)
{
  for (int c = 0; c < k; c++) {
    double *mu = mean + (size_t) c * d, *Wc = W + (size_t) c * d * d;
    const double a = pr->kappa * nk[c] / (nk[c] + pr->kappa);
    for (int j = 0; j < d; j++)
      for (int l = 0; l < d; l++)
        Wc[j + (size_t) l * d] += pr->scale[j + (size_t) l * d] +
                                  a * (mu[j] - pr->mean[j]) * (mu[l] - pr->mean[l]);
    for (int j = 0; j < d; j++)
      mu[j] = (nk[c] * mu[j] + pr->kappa * pr->mean[j]) / (nk[c] + pr->kappa);
    m[c] = nk[c] + pr->nu + d + 2;
  }
}

/* ---- small matrix helpers ---------------------------------------------- */

#define AT(A, i, j, d) ((A)[(i) + (size_t) (j) * (d)])

static double total(const double *v, int k)
{
  double s = 0.0;
  for (int c = 0; c < k; c++) s += v[c];
  return s;
}

/* Mean of log v_j over d values: log of the geometric mean; -Inf if some v_j <= 0. */
static double log_geo(const double *v, int d, int stride)
{
  double s = 0.0;
  for (int j = 0; j < d; j++) {
    const double x = v[(size_t) j * stride];
    if (!(x > 0.0) || !isfinite(x)) return R_NegInf;
    s += log(x);
  }
  return s / d;
}

static double trace_of(int d, const double *A)
{
  double t = 0.0;
  for (int j = 0; j < d; j++) t += AT(A, j, j, d);
  return t;
}

/* tr(A B) for symmetric A and B. */
static double trace_prod(int d, const double *A, const double *B)
{
  double t = 0.0;
  for (size_t e = 0; e < (size_t) d * d; e++) t += A[e] * B[e];
  return t;
}

/* out = s * diag(v) (v with the given stride). */
static void set_diag(int d, const double *v, int stride, double s, double *out)
{
  memset(out, 0, (size_t) d * d * sizeof(double));
  for (int j = 0; j < d; j++) AT(out, j, j, d) = s * v[(size_t) j * stride];
}

/* out = s * Q diag(v) Q'. */
static void set_rotated(int d, const double *Q, const double *v, double s, double *out)
{
  for (int i = 0; i < d; i++)
    for (int j = 0; j <= i; j++) {
      double t = 0.0;
      for (int l = 0; l < d; l++) t += AT(Q, i, l, d) * v[l] * AT(Q, j, l, d);
      AT(out, i, j, d) = AT(out, j, i, d) = s * t;
    }
}

/* t_j = (Q' S Q)_jj. */
static void rotated_diag(int d, const double *Q, const double *S, double *t)
{
  for (int j = 0; j < d; j++) {
    double s = 0.0;
    for (int a = 0; a < d; a++) {
      double u = 0.0;
      for (int b = 0; b < d; b++) u += AT(S, a, b, d) * AT(Q, b, j, d);
      s += AT(Q, a, j, d) * u;
    }
    t[j] = s;
  }
}

static int inner_done(double f, double fold, double tol)
{
  return fabs(f - fold) <= tol * (1.0 + fabs(f));
}

static int lapack_lwork(int d) { return 64 * d + 16; }

/* Eigen-decomposition of every S_k: vectors into vec (d x d x k), values (ascending)
 * into val (d x k). */
static int eigen_all(gm_cov *c, double *vec, double *val, double *lwk)
{
  const int d = c->d;
  for (int k = 0; k < c->k; k++)
    if (gm_eigen(d, c->S + (size_t) k * d * d, vec + (size_t) k * d * d, val + (size_t) k * d,
                 lwk, lapack_lwork(d)))
      return GM_SINGULAR;
  return GM_OK;
}

/* ---- closed forms ---------------------------------------------------------- */

/* EII (and E in 1-D): Sigma_k = lambda I, lambda = sum_k tr S_k / (n d). */
static int cov_EII(gm_cov *c, double *sigma)
{
  const int d = c->d;
  const size_t dd = (size_t) d * d;
  double t = 0.0;
  for (int k = 0; k < c->k; k++) t += trace_of(d, c->S + k * dd);
  const double one = 1.0, lambda = t / (total(c->m, c->k) * d);
  for (int k = 0; k < c->k; k++) set_diag(d, &one, 0, lambda, sigma + k * dd);
  return GM_OK;
}

/* VII (and V in 1-D): Sigma_k = lambda_k I, lambda_k = tr S_k / (m_k d). */
static int cov_VII(gm_cov *c, double *sigma)
{
  const int d = c->d;
  const size_t dd = (size_t) d * d;
  const double one = 1.0;
  for (int k = 0; k < c->k; k++)
    set_diag(d, &one, 0, trace_of(d, c->S + k * dd) / (c->m[k] * d), sigma + k * dd);
  return GM_OK;
}

/* EEI: Sigma_k = diag(sum_k S_k) / n. */
static int cov_EEI(gm_cov *c, double *sigma)
{
  const int d = c->d;
  const size_t dd = (size_t) d * d;
  double *v = c->work;
  for (int j = 0; j < d; j++) {
    v[j] = 0.0;
    for (int k = 0; k < c->k; k++) v[j] += AT(c->S + k * dd, j, j, d);
  }
  const double n = total(c->m, c->k);
  for (int k = 0; k < c->k; k++) set_diag(d, v, 1, 1.0 / n, sigma + k * dd);
  return GM_OK;
}

/* VVI: Sigma_k = diag(S_k) / m_k. */
static int cov_VVI(gm_cov *c, double *sigma)
{
  const int d = c->d;
  const size_t dd = (size_t) d * d;
  for (int k = 0; k < c->k; k++)
    set_diag(d, c->S + k * dd, d + 1, 1.0 / c->m[k], sigma + k * dd);
  return GM_OK;
}

/* EVI: A_k = diag(S_k) / g_k with g_k the geometric mean of diag(S_k), and
 * lambda = sum_k g_k / n. */
static int cov_EVI(gm_cov *c, double *sigma)
{
  const int d = c->d;
  const size_t dd = (size_t) d * d;
  double *g = c->work, gsum = 0.0;
  for (int k = 0; k < c->k; k++) {
    const double lg = log_geo(c->S + k * dd, d, d + 1);
    if (!isfinite(lg)) return GM_SINGULAR;
    g[k] = exp(lg);
    gsum += g[k];
  }
  const double lambda = gsum / total(c->m, c->k);
  for (int k = 0; k < c->k; k++) set_diag(d, c->S + k * dd, d + 1, lambda / g[k], sigma + k * dd);
  return GM_OK;
}

/* EEE: Sigma_k = sum_k S_k / n. */
static int cov_EEE(gm_cov *c, double *sigma)
{
  const size_t dd = (size_t) c->d * c->d;
  const double n = total(c->m, c->k);
  for (size_t e = 0; e < dd; e++) {
    double s = 0.0;
    for (int k = 0; k < c->k; k++) s += c->S[k * dd + e];
    sigma[e] = s / n;
  }
  for (int k = 1; k < c->k; k++) memcpy(sigma + k * dd, sigma, dd * sizeof(double));
  return GM_OK;
}

/* EEV: with S_k = L_k Omega_k L_k' (eigenvalues in one order for every k),
 * Sigma_k = L_k diag(sum_k Omega_k / n) L_k', which is lambda L_k A L_k'. */
static int cov_EEV(gm_cov *c, double *sigma)
{
  const int d = c->d, K = c->k;
  const size_t dd = (size_t) d * d;
  double *vec = c->work, *val = vec + K * dd, *M = val + (size_t) K * d, *lwk = M + d;
  if (eigen_all(c, vec, val, lwk)) return GM_SINGULAR;
  const double n = total(c->m, K);
  for (int j = 0; j < d; j++) {
    M[j] = 0.0;
    for (int k = 0; k < K; k++) M[j] += val[(size_t) k * d + j];
    M[j] /= n;
  }
  for (int k = 0; k < K; k++) set_rotated(d, vec + k * dd, M, 1.0, sigma + k * dd);
  return GM_OK;
}

/* EVV: Sigma_k = lambda S_k / g_k with g_k = det(S_k)^(1/d), lambda = sum_k g_k / n. */
static int cov_EVV(gm_cov *c, double *sigma)
{
  const int d = c->d, K = c->k;
  const size_t dd = (size_t) d * d;
  double *g = c->work, *inv = g + K, gsum = 0.0;
  for (int k = 0; k < K; k++) {
    double ld;
    if (gm_chol_inverse(d, c->S + k * dd, inv, &ld)) return GM_SINGULAR;
    g[k] = exp(ld / d);
    gsum += g[k];
  }
  const double lambda = gsum / total(c->m, K);
  for (int k = 0; k < K; k++)
    for (size_t e = 0; e < dd; e++) sigma[k * dd + e] = lambda * c->S[k * dd + e] / g[k];
  return GM_OK;
}

/* VVV: Sigma_k = S_k / m_k. */
static int cov_VVV(gm_cov *c, double *sigma)
{
  const size_t dd = (size_t) c->d * c->d;
  for (int k = 0; k < c->k; k++)
    for (size_t e = 0; e < dd; e++) sigma[k * dd + e] = c->S[k * dd + e] / c->m[k];
  return GM_OK;
}

/* ---- varying volume, shared shape: alternate volumes and the shared part ---- */

/* Starting volumes: the previous M-step's, or tr S_k / (d m_k). */
static void start_volumes(gm_cov *c)
{
  if (c->warm) return;
  for (int k = 0; k < c->k; k++)
    c->lambda[k] = trace_of(c->d, c->S + (size_t) k * c->d * c->d) / (c->d * c->m[k]);
}

/* Given lambda_k, the optimal shared diagonal B (det 1) of v_kj / lambda_k, where
 * v_kj is the j-th diagonal value of component k (stride between k's: kstride, between
 * j's: jstride); then the optimal lambda_k = sum_j v_kj / B_j / (d m_k).  Returns the
 * objective (up to a constant) or NaN when B is singular. */
static double volumes_and_diag(gm_cov *c, const double *v, int jstride, size_t kstride,
                               double *B)
{
  const int d = c->d;
  for (int j = 0; j < d; j++) {
    B[j] = 0.0;
    for (int k = 0; k < c->k; k++) B[j] += v[k * kstride + (size_t) j * jstride] / c->lambda[k];
  }
  const double lg = log_geo(B, d, 1);
  if (!isfinite(lg)) return R_NaN;
  for (int j = 0; j < d; j++) B[j] /= exp(lg);
  double f = 0.0;
  for (int k = 0; k < c->k; k++) {
    double s = 0.0;
    for (int j = 0; j < d; j++) s += v[k * kstride + (size_t) j * jstride] / B[j];
    c->lambda[k] = s / (d * c->m[k]);
    if (!(c->lambda[k] > 0.0)) return R_NaN;
    f += c->m[k] * d * log(c->lambda[k]);
  }
  return f;
}

/* Alternates volumes_and_diag() until the objective settles or max_iter is reached. */
static int alternate_volumes(gm_cov *c, const double *v, int jstride, size_t kstride,
                             double *B)
{
  double fold = R_PosInf;
  start_volumes(c);
  c->inner_ok = 0;
  for (int it = 0; it < c->max_iter; it++) {
    const double f = volumes_and_diag(c, v, jstride, kstride, B);
    if (ISNAN(f)) return GM_SINGULAR;
    if (inner_done(f, fold, c->tol)) {
      c->inner_ok = 1;
      break;
    }
    fold = f;
  }
  return GM_OK;
}

/* VEI: Sigma_k = lambda_k B, B diagonal with det 1 (Celeux and Govaert 1995). */
static int cov_VEI(gm_cov *c, double *sigma)
{
  const int d = c->d;
  const size_t dd = (size_t) d * d;
  double *B = c->work;
  if (alternate_volumes(c, c->S, d + 1, dd, B)) return GM_SINGULAR;
  for (int k = 0; k < c->k; k++) set_diag(d, B, 1, c->lambda[k], sigma + k * dd);
  return GM_OK;
}

/* VEV: Sigma_k = lambda_k L_k A L_k' with L_k the eigenvectors of S_k, A diagonal with
 * det 1 shared (Celeux and Govaert 1995). */
static int cov_VEV(gm_cov *c, double *sigma)
{
  const int d = c->d, K = c->k;
  const size_t dd = (size_t) d * d;
  double *vec = c->work, *val = vec + K * dd, *A = val + (size_t) K * d, *lwk = A + d;
  if (eigen_all(c, vec, val, lwk)) return GM_SINGULAR;
  if (alternate_volumes(c, val, 1, d, A)) return GM_SINGULAR;
  for (int k = 0; k < K; k++) set_rotated(d, vec + k * dd, A, c->lambda[k], sigma + k * dd);
  return GM_OK;
}

/* VEE: Sigma_k = lambda_k C, C full with det 1 shared.  Given the volumes,
 * C is sum_k S_k / lambda_k scaled to det 1; given C, lambda_k = tr(C^{-1} S_k) / (d m_k). */
static int cov_VEE(gm_cov *c, double *sigma)
{
  const int d = c->d, K = c->k;
  const size_t dd = (size_t) d * d;
  double *M = c->work, *inv = M + dd, fold = R_PosInf, ld = 0.0;
  start_volumes(c);
  c->inner_ok = 0;
  for (int it = 0; it < c->max_iter; it++) {
    memset(M, 0, dd * sizeof(double));
    for (int k = 0; k < K; k++)
      for (size_t e = 0; e < dd; e++) M[e] += c->S[k * dd + e] / c->lambda[k];
    if (gm_chol_inverse(d, M, inv, &ld)) return GM_SINGULAR;
    const double scale = exp(ld / d);  /* C = M / scale, C^{-1} = inv * scale */
    double f = 0.0;
    for (int k = 0; k < K; k++) {
      c->lambda[k] = scale * trace_prod(d, inv, c->S + k * dd) / (d * c->m[k]);
      if (!(c->lambda[k] > 0.0)) return GM_SINGULAR;
      f += c->m[k] * d * log(c->lambda[k]);
    }
    if (inner_done(f, fold, c->tol)) {
      c->inner_ok = 1;
      break;
    }
    fold = f;
  }
  const double scale = exp(ld / d);
  for (int k = 0; k < K; k++)
    for (size_t e = 0; e < dd; e++) sigma[k * dd + e] = c->lambda[k] * M[e] / scale;
  return GM_OK;
}

/* ---- common orientation: EVE and VVE ---------------------------------------- */

/* One majorise-minimise step for the orientation D shared by all components
 * (Browne and McNicholas 2014): with B_k = diag(b_k) the inverse diagonal of
 * component k in the rotated frame and alpha_k >= the largest eigenvalue of S_k,
 * D <- U V' from the SVD of G = sum_k (alpha_k I - S_k) D B_k.  Each step lowers
 * sum_k tr(S_k D B_k D'). */
static int orientation_step(gm_cov *c, const double *alpha, const double *b, double *tmp)
{
  const int d = c->d;
  const size_t dd = (size_t) d * d;
  double *G = tmp, *U = G + dd, *VT = U + dd, *sv = VT + dd, *lwk = sv + d;
  double *D = c->orient;
  memset(G, 0, dd * sizeof(double));
  for (int k = 0; k < c->k; k++) {
    const double *S = c->S + k * dd;
    for (int i = 0; i < d; i++)
      for (int j = 0; j < d; j++) {
        double sd = 0.0;
        for (int l = 0; l < d; l++) sd += AT(S, i, l, d) * AT(D, l, j, d);
        AT(G, i, j, d) += (alpha[k] * AT(D, i, j, d) - sd) * b[(size_t) k * d + j];
      }
  }
  if (gm_svd(d, G, U, sv, VT, lwk, lapack_lwork(d))) return GM_SINGULAR;
  for (int i = 0; i < d; i++)
    for (int j = 0; j < d; j++) {
      double s = 0.0;
      for (int l = 0; l < d; l++) s += AT(U, i, l, d) * AT(VT, l, j, d);
      AT(D, i, j, d) = s;
    }
  return GM_OK;
}

/* Shared setup of EVE and VVE: alpha_k (largest eigenvalue of S_k) and, on a cold
 * start, D from the eigenvectors of sum_k S_k. */
static int orientation_setup(gm_cov *c, double *alpha, double *tmp)
{
  const int d = c->d;
  const size_t dd = (size_t) d * d;
  double *vec = tmp, *val = vec + dd, *lwk = val + d;
  for (int k = 0; k < c->k; k++) {
    if (gm_eigen(d, c->S + k * dd, vec, val, lwk, lapack_lwork(d))) return GM_SINGULAR;
    alpha[k] = val[d - 1];
  }
  if (!c->warm) {
    double *pooled = lwk + lapack_lwork(d);
    memset(pooled, 0, dd * sizeof(double));
    for (int k = 0; k < c->k; k++)
      for (size_t e = 0; e < dd; e++) pooled[e] += c->S[k * dd + e];
    if (gm_eigen(d, pooled, c->orient, val, lwk, lapack_lwork(d))) return GM_SINGULAR;
  }
  return GM_OK;
}

/* EVE (vve = 0): Sigma_k = lambda D A_k D'; VVE (vve = 1): Sigma_k = D Delta_k D'.
 * Given D the rest is closed form (as EVI or VVI in the rotated frame); D is then
 * moved by one majorise-minimise step, until the objective settles. */
static int cov_common_orientation(gm_cov *c, double *sigma, int vve)
{
  const int d = c->d, K = c->k;
  const size_t dd = (size_t) d * d;
  double *alpha = c->work, *T = alpha + K, *b = T + (size_t) K * d, *tmp = b + (size_t) K * d;
  if (orientation_setup(c, alpha, tmp)) return GM_SINGULAR;
  const double n = total(c->m, K);
  double fold = R_PosInf, lambda = 0.0;
  c->inner_ok = 0;
  for (int it = 0;; it++) {
    /* Diagonals given D: T_kj = (D' S_k D)_jj. */
    double f = 0.0, gsum = 0.0;
    for (int k = 0; k < K; k++) {
      double *t = T + (size_t) k * d;
      rotated_diag(d, c->orient, c->S + k * dd, t);
      const double lg = log_geo(t, d, 1);
      if (!isfinite(lg)) return GM_SINGULAR;
      if (vve) {
        for (int j = 0; j < d; j++) t[j] /= c->m[k];
        f += c->m[k] * d * (lg - log(c->m[k]));
      } else {
        const double g = exp(lg);
        for (int j = 0; j < d; j++) t[j] /= g;  /* A_k */
        gsum += g;
      }
    }
    if (!vve) {
      lambda = gsum / n;
      f = n * d * log(lambda);
    }
    if (inner_done(f, fold, c->tol)) {
      c->inner_ok = 1;
      break;
    }
    if (it >= c->max_iter) break;
    fold = f;
    for (size_t e = 0; e < (size_t) K * d; e++) b[e] = 1.0 / T[e];
    if (orientation_step(c, alpha, b, tmp)) return GM_SINGULAR;
  }
  for (int k = 0; k < K; k++)
    set_rotated(d, c->orient, T + (size_t) k * d, vve ? 1.0 : lambda, sigma + k * dd);
  return GM_OK;
}

static int cov_EVE(gm_cov *c, double *sigma) { return cov_common_orientation(c, sigma, 0); }
static int cov_VVE(gm_cov *c, double *sigma) { return cov_common_orientation(c, sigma, 1); }

/* ---- numbers of free covariance parameters ------------------------------ */
/* As listed by gmm_models(); the tests check them against an independent table. */

/* In double: k d (d + 1) / 2 overflows an int long before memory runs out. */
static double ncov_EII(double d, double k) { (void) d; (void) k; return 1; }
static double ncov_VII(double d, double k) { (void) d; return k; }
static double ncov_EEI(double d, double k) { (void) k; return d; }
static double ncov_VEI(double d, double k) { return k + d - 1; }
static double ncov_EVI(double d, double k) { return 1 + k * (d - 1); }
static double ncov_VVI(double d, double k) { return k * d; }
static double ncov_EEE(double d, double k) { (void) k; return d * (d + 1) / 2; }
static double ncov_VEE(double d, double k) { return k + d * (d + 1) / 2 - 1; }
static double ncov_EVE(double d, double k) { return 1 + k * (d - 1) + d * (d - 1) / 2; }
static double ncov_VVE(double d, double k) { return k * d + d * (d - 1) / 2; }
static double ncov_EEV(double d, double k) { return 1 + (d - 1) + k * d * (d - 1) / 2; }
static double ncov_VEV(double d, double k) { return k + (d - 1) + k * d * (d - 1) / 2; }
static double ncov_EVV(double d, double k) { return 1 + k * (d * (d + 1) / 2 - 1); }
static double ncov_VVV(double d, double k) { return k * d * (d + 1) / 2; }

/* ---- the model table, in mclust's order ------------------------------------ */

static const gm_model models[] = {
  {"E",   0, cov_EII, ncov_EII},
  {"V",   0, cov_VII, ncov_VII},
  {"EII", 1, cov_EII, ncov_EII},
  {"VII", 1, cov_VII, ncov_VII},
  {"EEI", 1, cov_EEI, ncov_EEI},
  {"VEI", 1, cov_VEI, ncov_VEI},
  {"EVI", 1, cov_EVI, ncov_EVI},
  {"VVI", 1, cov_VVI, ncov_VVI},
  {"EEE", 1, cov_EEE, ncov_EEE},
  {"VEE", 1, cov_VEE, ncov_VEE},
  {"EVE", 1, cov_EVE, ncov_EVE},
  {"VVE", 1, cov_VVE, ncov_VVE},
  {"EEV", 1, cov_EEV, ncov_EEV},
  {"VEV", 1, cov_VEV, ncov_VEV},
  {"EVV", 1, cov_EVV, ncov_EVV},
  {"VVV", 1, cov_VVV, ncov_VVV},
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

void gm_mwork_alloc(gm_mwork *Wk, int d, int k, const gm_ctrl *C)
{
  Wk->nk = (double *) R_alloc(k, sizeof(double));
  Wk->m = (double *) R_alloc(k, sizeof(double));
  Wk->W = (double *) R_alloc((size_t) d * d * k, sizeof(double));
  Wk->stats = (double *) R_alloc(1 + (size_t) k * (1 + d + (size_t) d * d), sizeof(double));
  gm_cov *c = &Wk->cov;
  c->d = d;
  c->k = k;
  c->m = Wk->m;
  c->S = Wk->W;
  c->lambda = (double *) R_alloc(k, sizeof(double));
  c->orient = (double *) R_alloc((size_t) d * d, sizeof(double));
  c->warm = 0;
  c->tol = C->inner_tol;
  c->max_iter = C->inner_max_iter;
  c->work = (double *) R_alloc(GM_COV_WORK(d, k), sizeof(double));
  c->inner_ok = 1;
}

/* From the sizes Wk->nk, maximum-likelihood means P->mean and scatter matrices Wk->W:
 * proportions, the prior's terms, the model's covariance update, the ridge and the
 * Cholesky factors.  Returns as gm_mstep(). */
static int mstep_finish(const gm_data *D, const gm_model *M, gm_par *P, const gm_ctrl *C,
                        gm_mwork *Wk, int *bad)
{
  const int d = D->d, k = P->k;
  if (C->prior) apply_prior(C->prior, d, k, Wk->nk, P->mean, Wk->W, Wk->m);
  else memcpy(Wk->m, Wk->nk, k * sizeof(double));
  Wk->cov.inner_ok = 1;
  if (M->cov(&Wk->cov, P->sigma)) {
    *bad = -1;
    return GM_SINGULAR;
  }
  Wk->cov.warm = 1;
  if (C->reg > 0.0)
    for (int c = 0; c < k; c++)
      for (int j = 0; j < d; j++) P->sigma[(size_t) c * d * d + j + (size_t) j * d] += C->reg;
  return gm_chol(d, k, P->sigma, P->chol, P->logdet, D->colvar, C->eps, bad);
}

/* Proportions from the sizes Wk->nk; GM_COLLAPSE when one is at most eps * sum(w). */
static int proportions(const gm_data *D, gm_par *P, const gm_ctrl *C, const double *nk,
                       int *bad)
{
  for (int c = 0; c < P->k; c++) {
    if (!(nk[c] > C->eps * D->wsum) || !isfinite(nk[c])) {
      *bad = c;
      return GM_COLLAPSE;
    }
    P->pro[c] = nk[c] / D->wsum;
  }
  return GM_OK;
}

/* Updates P (pro, mean, sigma, and the Cholesky factors) from responsibilities z, by
 * two passes over the data (sizes and means, then the sums about those means, as a
 * pass of the EM loop would give them): used for the first M-step from a partition.
 * Returns GM_OK, GM_COLLAPSE when a component's size is at most eps * sum(w), or
 * GM_SINGULAR when a covariance is not usable; the component (or -1 when the model's
 * update itself broke down) is written to *bad.  Wk->cov.inner_ok tells whether an
 * inner loop reached its tolerance. */
int gm_mstep(const gm_data *D, const double *z, const gm_model *M, gm_par *P,
             const gm_ctrl *C, gm_mwork *Wk, gm_pass_work *pw, int *bad)
{
  sizes_means(D, z, P->k, Wk->nk, P->mean);
  if (proportions(D, P, C, Wk->nk, bad)) return GM_COLLAPSE;
  gm_zstats(D, P, z, Wk->stats, pw);
  return gm_mstep_sums(D, Wk->stats, M, P, C, Wk, bad);
}

/* The sufficient statistics of responsibilities z (n x k): sizes nk, means mean
 * (d x k; 0 for a component of size 0) and scatter matrices W (d x d x k) about them.
 * stats is scratch of a pass's sums. */
void gm_suff_from_z(const gm_data *D, const double *z, int k, double *nk, double *mean,
                    double *W, double *stats, gm_pass_work *pw)
{
  sizes_means(D, z, k, nk, mean);
  for (int c = 0; c < k; c++)
    if (!(nk[c] > 0.0))
      for (int j = 0; j < D->d; j++) mean[j + (size_t) c * D->d] = 0.0;
  gm_par P = {D->d, k, NULL, mean, NULL, NULL, NULL};
  gm_zstats(D, &P, z, stats, pw);
  gm_suff_from_sums(D->d, k, stats, nk, mean, W);
}

/* Sizes, means and scatter matrices (nk, mean, W: the sufficient statistics of the
 * M-step) from the sums of a pass (gm_pass): n_k, s_k = sum w z (x - m_k) and
 * W0_k = sum w z (x - m_k)(x - m_k)' (lower triangle) about the means m_k in mean.
 * The new mean is m_k + s_k / n_k and the scatter about it W0_k - s_k s_k' / n_k; the
 * correction is small because the means move little from one iteration to the next.
 * A component of size 0 keeps its mean and gets a zero scatter. */
void gm_suff_from_sums(int d, int k, const double *stats, double *nk, double *mean,
                       double *W)
{
  const double *n1 = stats + 1, *s1 = n1 + k, *W0 = s1 + (size_t) k * d;
  memcpy(nk, n1, k * sizeof(double));
  for (int c = 0; c < k; c++) {
    const double *s = s1 + (size_t) c * d, *W0c = W0 + (size_t) c * d * d;
    double *Wc = W + (size_t) c * d * d, *mu = mean + (size_t) c * d;
    const double inv = nk[c] > 0.0 ? 1.0 / nk[c] : 0.0;
    for (int j = 0; j < d; j++)
      for (int l = 0; l <= j; l++) {
        const double v = nk[c] > 0.0 ? W0c[j + (size_t) l * d] - s[j] * s[l] * inv : 0.0;
        Wc[j + (size_t) l * d] = Wc[l + (size_t) j * d] = v;
      }
    for (int j = 0; j < d; j++) mu[j] += s[j] * inv;
  }
}

/* The M-step from the sums of a pass (see gm_suff_from_sums). */
int gm_mstep_sums(const gm_data *D, const double *stats, const gm_model *M, gm_par *P,
                  const gm_ctrl *C, gm_mwork *Wk, int *bad)
{
  gm_suff_from_sums(D->d, P->k, stats, Wk->nk, P->mean, Wk->W);
  return gm_mstep_suff(D, M, P, C, Wk, bad);
}

/* The M-step from sufficient statistics already in Wk->nk, P->mean and Wk->W. */
int gm_mstep_suff(const gm_data *D, const gm_model *M, gm_par *P, const gm_ctrl *C,
                  gm_mwork *Wk, int *bad)
{
  if (proportions(D, P, C, Wk->nk, bad)) return GM_COLLAPSE;
  return mstep_finish(D, M, P, C, Wk, bad);
}
