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
 * move the common orientation by plane rotations (Flury 1984).  Inner loops start from
 * the current parameters (the previous M-step's values, or those EM started from), and
 * no inner step raises f, so no M-step raises f and EM stays monotone.  The checks of
 * spurious fits (gm_degenerate) are here too, as they depend on the model.
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

/* Starting volumes: the previous M-step's, or the current parameters'
 * det(Sigma_k)^(1/d) when the fit started from parameters, or tr S_k / (d m_k).
 * Alternating from the current volumes never raises f. */
static void start_volumes(gm_cov *c)
{
  if (c->warm) return;
  for (int k = 0; k < c->k; k++)
    c->lambda[k] = c->logdet0 ? exp(c->logdet0[k] / c->d)
                              : trace_of(c->d, c->S + (size_t) k * c->d * c->d) / (c->d * c->m[k]);
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

/* Given the common orientation D, the rest is closed form, as EVI or VVI in the
 * rotated frame: with t_kj = (D' S_k D)_jj, VVE has Delta_kj = t_kj / m_k and EVE has
 * A_k = t_k / g_k, g_k = (prod_j t_kj)^(1/d), lambda = sum_k g_k / sum_k m_k.  What is
 * left to minimise over orthogonal D is, up to constants,
 *     VVE:  sum_k m_k sum_j log t_kj            EVE:  sum_k g_k.
 * D moves by plane (Jacobi) rotations, as in Flury and Gautschi's algorithm for
 * common principal components (Flury 1984, JASA 79, 892-898): a rotation by theta in
 * the plane of axes p and q changes only t_kp and t_kq,
 *     t_kp = a cos^2 + c sin^2 + 2 e sin cos,   t_kq = a sin^2 + c cos^2 - 2 e sin cos,
 * a = t_kp(0), c = t_kq(0), e = (D' S_k D)_pq, which are evaluated as they stand (not
 * as a difference of large numbers, which loses every digit when a >> c).  The best
 * theta on a grid is refined by safeguarded Newton steps, and the rotation is taken
 * only when it lowers the objective, so every M-step starts from the current D and
 * never raises f.  A sweep visits every plane once; sweeps stop when one lowers f by
 * at most tol. */

typedef struct {
  int K, vve;
  double invd;
  const double *a, *c, *e, *wt;  /* wt: m_k (VVE) or exp(L_k - max L) (EVE) */
} plane_fn;

/* The plane objective at theta, with its first two derivatives when h1 is not NULL;
 * +Inf (and zero derivatives) where a t would not be positive. */
static double plane_eval(const plane_fn *F, double th, double *h1, double *h2)
{
  const double cs = cos(th), sn = sin(th), c2 = cos(2 * th), s2 = sin(2 * th);
  double h = 0.0, d1 = 0.0, d2 = 0.0;
  for (int k = 0; k < F->K; k++) {
    const double a = F->a[k], c = F->c[k], e = F->e[k];
    const double tp = a * cs * cs + c * sn * sn + 2 * e * sn * cs;
    const double tq = a * sn * sn + c * cs * cs - 2 * e * sn * cs;
    if (!(tp > 0.0) || !(tq > 0.0)) {
      if (h1) *h1 = *h2 = 0.0;
      return R_PosInf;
    }
    const double g = (c - a) * s2 + 2 * e * c2;         /* d tp / d theta = -d tq */
    const double g1 = 2 * (c - a) * c2 - 4 * e * s2;    /* its derivative */
    const double u = g / tp - g / tq;                   /* d log(tp tq) / d theta */
    const double u1 = g1 / tp - g * g / (tp * tp) - g1 / tq - g * g / (tq * tq);
    if (F->vve) {
      h += F->wt[k] * (log(tp) + log(tq));
      d1 += F->wt[k] * u;
      d2 += F->wt[k] * u1;
    } else {
      const double G = F->wt[k] * exp(F->invd * (log(tp) + log(tq)));
      h += G;
      d1 += G * F->invd * u;
      d2 += G * (F->invd * F->invd * u * u + F->invd * u1);
    }
  }
  if (h1) {
    *h1 = d1;
    *h2 = d2;
  }
  return h;
}

/* The theta in (-pi/4, pi/4] that minimises the plane objective, or 0 when nothing
 * lowers it.  With grid, the search starts from the best of 8 points (a cold start may
 * be far from the minimum); otherwise from 0, where a warm start usually is. */
static double plane_min(const plane_fn *F, int grid)
{
  double h1, h2;
  const double h0 = plane_eval(F, 0.0, &h1, &h2);
  if (!isfinite(h0)) return 0.0;
  /* A Newton step that would lower h by less than rounding is not worth taking. */
#define GM_FLAT(h, h1, h2) ((h2) > 0.0 && (h1) * (h1) <= 1e-14 * (h2) * (fabs(h) + 1.0))
  if (!grid && GM_FLAT(h0, h1, h2)) return 0.0;  /* at a minimum already */
  double th = 0.0, h = h0;
  for (int g = -3; grid && g <= 4; g++) {
    const double tg = g * M_PI / 16, hg = g ? plane_eval(F, tg, NULL, NULL) : h0;
    if (hg < h) {
      th = tg;
      h = hg;
    }
  }
  if (th != 0.0) h = plane_eval(F, th, &h1, &h2);
  /* Newton steps (towards lower h where h is not convex), halved until h falls. */
  for (int it = 0; it < 30 && !GM_FLAT(h, h1, h2); it++) {
    double step = h2 > 0.0 ? -h1 / h2 : (h1 > 0.0 ? -M_PI / 64 : M_PI / 64);
    if (fabs(step) > M_PI / 32) step = step > 0.0 ? M_PI / 32 : -M_PI / 32;
    int moved = 0;
    for (int half = 0; half < 20; half++, step /= 2) {
      double g1, g2;
      const double hn = plane_eval(F, th + step, &g1, &g2);
      if (hn < h) {
        th += step;
        h = hn;
        h1 = g1;
        h2 = g2;
        moved = 1;
        break;
      }
    }
    if (!moved) break;
  }
#undef GM_FLAT
  return h < h0 ? th : 0.0;
}

/* R_k = D' S_k D for every k (d x d x K). */
static void rotate_all(gm_cov *c, const double *D, double *R, double *tmp)
{
  const int d = c->d;
  const size_t dd = (size_t) d * d;
  for (int k = 0; k < c->k; k++) {
    const double *S = c->S + k * dd;
    double *Rk = R + k * dd;
    for (int i = 0; i < d; i++)      /* tmp = S D */
      for (int j = 0; j < d; j++) {
        double s = 0.0;
        for (int l = 0; l < d; l++) s += AT(S, i, l, d) * AT(D, l, j, d);
        AT(tmp, i, j, d) = s;
      }
    for (int i = 0; i < d; i++)
      for (int j = 0; j <= i; j++) {
        double s = 0.0;
        for (int l = 0; l < d; l++) s += AT(D, l, i, d) * AT(tmp, l, j, d);
        AT(Rk, i, j, d) = AT(Rk, j, i, d) = s;
      }
  }
}

/* The profile objective f (as the M-step objective minus constants) of the diagonals
 * t_kj = R_k[j, j]; NaN when some t is not positive. */
static double orientation_objective(const gm_cov *c, const double *R, int vve)
{
  const int d = c->d;
  const size_t dd = (size_t) d * d;
  double f = 0.0, gsum = 0.0;
  for (int k = 0; k < c->k; k++) {
    const double lg = log_geo(R + k * dd, d, d + 1);
    if (!isfinite(lg)) return R_NaN;
    if (vve) f += c->m[k] * d * (lg - log(c->m[k]));
    else gsum += exp(lg);
  }
  return vve ? f : total(c->m, c->k) * d * log(gsum / total(c->m, c->k));
}

/* One sweep of plane rotations over every pair of axes; D and R are updated. */
static void rotation_sweep(gm_cov *c, double *D, double *R, double *coef, int vve, int grid)
{
  const int d = c->d, K = c->k;
  const size_t dd = (size_t) d * d;
  double *pa = coef, *pc = pa + K, *pe = pc + K, *wt = pe + K, *lg = wt + K;
  double *logt = lg + K;   /* log t_kj (K x d), for EVE's weights */
  plane_fn F = {K, vve, 1.0 / d, pa, pc, pe, wt};
  if (!vve)
    for (int k = 0; k < K; k++)
      for (int j = 0; j < d; j++) logt[k + (size_t) j * K] = log(AT(R + k * dd, j, j, d));
  for (int p = 0; p < d - 1; p++)
    for (int q = p + 1; q < d; q++) {
      double lmax = R_NegInf, spread = 0.0;
      for (int k = 0; k < K; k++) {
        const double *Rk = R + k * dd, a = AT(Rk, p, p, d), cc = AT(Rk, q, q, d);
        const double e = AT(Rk, p, q, d), delta = (a - cc) / 2, s = (a + cc) / 2;
        pa[k] = a;
        pc[k] = cc;
        pe[k] = e;
        if (!vve) {  /* log g_k without the plane's two axes */
          lg[k] = 0.0;
          for (int j = 0; j < d; j++)
            if (j != p && j != q) lg[k] += logt[k + (size_t) j * K];
          lg[k] /= d;
          if (lg[k] > lmax) lmax = lg[k];
        }
        const double r = (delta * delta + e * e) / (s * s);
        if (r > spread) spread = r;
      }
      if (!(spread > 1e-30)) continue;   /* the plane is isotropic for every k */
      for (int k = 0; k < K; k++) wt[k] = vve ? c->m[k] : exp(lg[k] - lmax);
      const double th = plane_min(&F, grid);
      if (th == 0.0) continue;
      const double cs = cos(th), sn = sin(th);
      for (int i = 0; i < d; i++) {
        const double dp = AT(D, i, p, d), dq = AT(D, i, q, d);
        AT(D, i, p, d) = cs * dp + sn * dq;
        AT(D, i, q, d) = -sn * dp + cs * dq;
      }
      for (int k = 0; k < K; k++) {
        double *Rk = R + k * dd;
        const double a = AT(Rk, p, p, d), cc = AT(Rk, q, q, d), e = AT(Rk, p, q, d);
        for (int j = 0; j < d; j++) {
          if (j == p || j == q) continue;
          const double rp = AT(Rk, p, j, d), rq = AT(Rk, q, j, d);
          AT(Rk, p, j, d) = AT(Rk, j, p, d) = cs * rp + sn * rq;
          AT(Rk, q, j, d) = AT(Rk, j, q, d) = -sn * rp + cs * rq;
        }
        AT(Rk, p, p, d) = cs * cs * a + sn * sn * cc + 2 * sn * cs * e;
        AT(Rk, q, q, d) = sn * sn * a + cs * cs * cc - 2 * sn * cs * e;
        AT(Rk, p, q, d) = AT(Rk, q, p, d) = sn * cs * (cc - a) + (cs * cs - sn * sn) * e;
        if (!vve) {
          logt[k + (size_t) p * K] = log(AT(Rk, p, p, d));
          logt[k + (size_t) q * K] = log(AT(Rk, q, q, d));
        }
      }
    }
}

/* The starting orientation when no previous M-step left one: of the eigenvectors of
 * sum_k S_k, of each S_k and, when c->sigma0 holds the current parameters, of each
 * current Sigma_k, the one with the smallest objective.  Starting from the current
 * parameters' D (any of its covariances' eigenvectors, when they obey the model) is
 * what keeps the first M-step from raising f. */
static int orientation_start(gm_cov *c, double *R, double *tmp, int vve)
{
  const int d = c->d, K = c->k;
  const size_t dd = (size_t) d * d;
  double *vec = tmp, *pooled = vec + dd, *val = pooled + dd, *lwk = val + d;
  double best = R_PosInf;
  const int ncand = 1 + K + (c->sigma0 ? K : 0);
  for (int i = 0; i < ncand; i++) {
    const double *M = pooled;
    if (i == 0) {
      memset(pooled, 0, dd * sizeof(double));
      for (int k = 0; k < K; k++)
        for (size_t e = 0; e < dd; e++) pooled[e] += c->S[k * dd + e];
    } else {
      M = i <= K ? c->S + (i - 1) * dd : c->sigma0 + (i - 1 - K) * dd;
    }
    if (gm_eigen(d, M, vec, val, lwk, lapack_lwork(d))) continue;
    rotate_all(c, vec, R, lwk + lapack_lwork(d));
    const double f = orientation_objective(c, R, vve);
    if (f < best) {
      best = f;
      memcpy(c->orient, vec, dd * sizeof(double));
    }
  }
  return isfinite(best) ? GM_OK : GM_SINGULAR;
}

/* EVE (vve = 0): Sigma_k = lambda D A_k D'; VVE (vve = 1): Sigma_k = D Delta_k D'. */
static int cov_common_orientation(gm_cov *c, double *sigma, int vve)
{
  const int d = c->d, K = c->k;
  const size_t dd = (size_t) d * d;
  double *R = c->work, *coef = R + K * dd, *tmp = coef + 6 * (size_t) K + (size_t) K * d;
  /* A singular S_k makes the optimum singular too (some t_kj can be driven to 0):
   * fail at once rather than after inner_max_iter sweeps. */
  for (int k = 0; k < K; k++) {   /* a conditional variance below 1e-13 of its own */
    double *sdiag = tmp + dd, ld;
    int bad;
    for (int j = 0; j < d; j++) sdiag[j] = AT(c->S + k * dd, j, j, d);
    if (gm_chol(d, 1, c->S + k * dd, tmp, &ld, sdiag, 1e-13, &bad)) return GM_SINGULAR;
  }
  const int cold = !c->warm;
  if (cold && orientation_start(c, R, tmp, vve)) return GM_SINGULAR;
  double fold = R_PosInf, f = R_PosInf;
  c->inner_ok = 0;
  for (int it = 0;; it++) {
    rotate_all(c, c->orient, R, tmp);   /* afresh each sweep: no drift from updates */
    f = orientation_objective(c, R, vve);
    if (!isfinite(f)) return GM_SINGULAR;
    if (inner_done(f, fold, c->tol)) {
      c->inner_ok = 1;
      break;
    }
    if (it >= c->max_iter) break;
    fold = f;
    rotation_sweep(c, c->orient, R, coef, vve, cold && it == 0);
  }
  double *T = tmp, lambda = 1.0, gsum = 0.0;
  for (int k = 0; k < K; k++) {
    double *t = T + (size_t) k * d;
    for (int j = 0; j < d; j++) t[j] = AT(R + k * dd, j, j, d);
    const double g = exp(log_geo(t, d, 1));
    for (int j = 0; j < d; j++) t[j] /= vve ? c->m[k] : g;
    gsum += g;
  }
  if (!vve) lambda = gsum / total(c->m, K);
  for (int k = 0; k < K; k++)
    set_rotated(d, c->orient, T + (size_t) k * d, lambda, sigma + k * dd);
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
  {"E",   0, cov_EII, ncov_EII, GM_ROWS_MEAN, 1},
  {"V",   0, cov_VII, ncov_VII, GM_ROWS_SPREAD, 1},
  {"EII", 1, cov_EII, ncov_EII, GM_ROWS_MEAN, 1},
  {"VII", 1, cov_VII, ncov_VII, GM_ROWS_SPREAD, 1},
  {"EEI", 1, cov_EEI, ncov_EEI, GM_ROWS_MEAN, 1},
  {"VEI", 1, cov_VEI, ncov_VEI, GM_ROWS_SPREAD, 1},
  {"EVI", 1, cov_EVI, ncov_EVI, GM_ROWS_SPREAD, 1},
  {"VVI", 1, cov_VVI, ncov_VVI, GM_ROWS_SPREAD, 1},
  {"EEE", 1, cov_EEE, ncov_EEE, GM_ROWS_MEAN, 0},
  {"VEE", 1, cov_VEE, ncov_VEE, GM_ROWS_SPREAD, 0},
  {"EVE", 1, cov_EVE, ncov_EVE, GM_ROWS_SPREAD, 0},
  {"VVE", 1, cov_VVE, ncov_VVE, GM_ROWS_FULL, 0},
  {"EEV", 1, cov_EEV, ncov_EEV, GM_ROWS_FULL, 0},
  {"VEV", 1, cov_VEV, ncov_VEV, GM_ROWS_FULL, 0},
  {"EVV", 1, cov_EVV, ncov_EVV, GM_ROWS_FULL, 0},
  {"VVV", 1, cov_VVV, ncov_VVV, GM_ROWS_FULL, 0},
};

int gm_model_count(void) { return (int) (sizeof(models) / sizeof(models[0])); }

const gm_model *gm_model_at(int i) { return &models[i]; }

const gm_model *gm_find_model(const char *name)
{
  for (int i = 0; i < gm_model_count(); i++)
    if (strcmp(models[i].name, name) == 0) return &models[i];
  return NULL;
}

/* ---- spurious maximisers ------------------------------------------------------ */

/* Whether converged parameters are a spurious local maximiser of the likelihood
 * (McLachlan and Peel 2000, section 3.10): a component with fewer effective rows nk
 * (its responsibilities summed over the rows, each row once) than its model needs (see
 * GM_ROWS_*), GM_FEWROWS with nk in *value; or components whose covariances are far
 * out of proportion: with Sbar = sum_k pro_k Sigma_k, the smallest eigenvalue of any
 * Sbar^(-1) Sigma_k over the largest of any is below rcond, GM_ILLCOND with that ratio
 * in *value.  The ratio is 1 for the models with one covariance for all, and does not
 * change with the units or an affine transformation of the data, so collinear columns
 * or far-apart clusters do not trip it; a component collapsing onto a few points does.
 * The component goes to *bad (for GM_ILLCOND, the one with the smallest eigenvalue). */
int gm_degenerate(const gm_model *M, const gm_par *P, const double *nk, double rcond,
                  int *bad, double *value, double *work)
{
  const int d = P->d, K = P->k;
  const double need = M->rows == GM_ROWS_MEAN ? 1.0 : M->rows == GM_ROWS_SPREAD ? 2.0 : d + 1.0;
  for (int c = 0; c < K; c++)
    if (nk[c] < need * (1.0 - 1e-12)) {
      *bad = c;
      *value = nk[c];
      return GM_FEWROWS;
    }
  if (!(rcond > 0.0) || K == 1) return GM_OK;
  const size_t dd = (size_t) d * d;
  const int lwork = lapack_lwork(d);
  double *L = work;   /* 3 d^2 + d + lapack_lwork(d), within GM_COV_WORK(d, k) - k */
  double *A = L + dd, *vec = A + dd, *val = vec + dd, *lwk = val + d;
  memset(L, 0, dd * sizeof(double));
  for (int c = 0; c < K; c++)
    for (size_t e = 0; e < dd; e++) L[e] += P->pro[c] * P->sigma[c * dd + e];
  int info = 0;
  F77_CALL(dpotrf)("L", &d, L, &d, &info FCONE);
  if (info != 0) return GM_OK;   /* judged by the Cholesky factors of the components */
  double lo = R_PosInf, hi = 0.0;
  const double one = 1.0;
  for (int c = 0; c < K; c++) {   /* A = L^-1 Sigma_c L^-T */
    memcpy(A, P->sigma + c * dd, dd * sizeof(double));
    F77_CALL(dtrsm)("L", "L", "N", "N", &d, &d, &one, L, &d, A, &d FCONE FCONE FCONE FCONE);
    F77_CALL(dtrsm)("R", "L", "T", "N", &d, &d, &one, L, &d, A, &d FCONE FCONE FCONE FCONE);
    if (gm_eigen(d, A, vec, val, lwk, lwork)) return GM_OK;
    if (val[0] < lo) {
      lo = val[0];
      *bad = c;
    }
    if (val[d - 1] > hi) hi = val[d - 1];
  }
  const double rc = lo / hi;
  if (!(rc >= rcond)) {
    *value = rc;
    return GM_ILLCOND;
  }
  *bad = -1;
  return GM_OK;
}

/* ---- the M-step ------------------------------------------------------------ */

void gm_mwork_alloc(gm_mwork *Wk, int d, int k, const gm_ctrl *C)
{
  Wk->nk = (double *) R_alloc(k, sizeof(double));
  Wk->m = (double *) R_alloc(k, sizeof(double));
  Wk->W = (double *) R_alloc((size_t) d * d * k, sizeof(double));
  Wk->stats = (double *) R_alloc(1 + (size_t) k * (1 + d + (size_t) d * d), sizeof(double));
  Wk->noise_nk = 0.0;
  Wk->sq = (double *) R_alloc(GM_SQ_WORK(d, k), sizeof(double));
  const int kn = gm_newton_kmax(d, k);   /* (fits of more components take no Newton steps) */
  Wk->nt = kn ? (double *) R_alloc(gm_newton_len(d, kn), sizeof(double)) : NULL;
  gm_cov *c = &Wk->cov;
  c->d = d;
  c->k = k;
  c->m = Wk->m;
  c->S = Wk->W;
  c->lambda = (double *) R_alloc(k, sizeof(double));
  c->orient = (double *) R_alloc((size_t) d * d, sizeof(double));
  c->warm = 0;
  c->have_par = 0;
  c->sigma0 = c->logdet0 = NULL;
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
  const int from_par = Wk->cov.have_par && !Wk->cov.warm;
  Wk->cov.sigma0 = from_par ? P->sigma : NULL;
  Wk->cov.logdet0 = from_par ? P->logdet : NULL;
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
  if (P->noise) P->pro[P->k] = Wk->noise_nk / D->wsum;   /* the Gaussians' and the
                                                          * noise's sizes sum to wsum */
  return mstep_finish(D, M, P, C, Wk, bad);
}
