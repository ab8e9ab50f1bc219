/* Newton's method for the last stretch of EM, for the models whose parameters are
 * free (V in one dimension, VVV in more), with few columns.
 *
 * EM converges linearly, at the rate of the largest fraction of missing information
 * (Dempster, Laird and Rubin 1977); on overlapping components that rate is close to
 * 1 and EM, even with SQUAREM, takes tens or hundreds of passes over the rows to
 * settle, while Newton's method converges quadratically once near the maximum.  The
 * hybrid of EM and Newton steps goes back to Aitkin and Aitkin (1996, "A hybrid
 * EM/Gauss-Newton algorithm for maximum likelihood in mixture distributions",
 * Statistics and Computing 6:127-130); here the steps are taken in the natural
 * parameters of each Gaussian, eta_k = (Sigma_k^{-1} mu_k, -Sigma_k^{-1} / 2) on the
 * statistics T(y) = (y, y y'), and the logits alpha_k = log(pi_k / pi_K), where the
 * Hessian of the log-likelihood has a closed form (Louis 1982, "Finding the observed
 * information matrix when using the EM algorithm", JRSS B 44:226-233):
 *
 *   H = -I_c + sum_i sum_{k,l} B_ikl u_ik u_il',  B_ikl = w_i (z_ik [k = l] - z_ik z_il),
 *
 * with I_c the complete-data information (n_k Cov_k T for each eta_k, N (diag pi - pi
 * pi') for the logits) and u_ik the gradient of the log of component k's term, (e_k,
 * T(y_i) - E_k T) in component k's block.  The sums over the rows need, for each pair
 * k < l, sum_i w_i z_ik z_il y^r for the monomials y^r of degree at most 4 (the pairs
 * k = l follow, since sum_l B_ikl = 0); a pass takes them beside the EM sums
 * (gm_hess_block).  The gradient comes from the EM sums themselves.
 *
 * Far from the maximum H need not be negative definite, so each step solves
 * (-H + lambda I_c) step = g (Levenberg 1944, Marquardt 1963, with EM's own metric
 * I_c), lambda growing fourfold from 1/4 while the system is not positive definite or
 * a step lowers the log-likelihood, and shrinking fourfold after each step kept, to 0
 * below 1e-3.  Every step kept raises the log-likelihood.  The columns are centred and
 * scaled (y = (x - c) s) by the mixture's own mean and spread, so that the sums of
 * fourth powers stay well conditioned; Newton's step does not depend on that choice.
 */
#include <math.h>
#include <string.h>
#include "gaussmix.h"

/* The monomials' codes below hold each exponent (at most 4) in a base-5 digit, one
 * digit a column: 5^3 = 125 codes for GM_NEWTON_D = 3. */
#define GM_NEWTON_CODES 125
_Static_assert(GM_NEWTON_D <= 3, "GM_NEWTON_CODES holds 5^GM_NEWTON_D codes");
_Static_assert(GM_NEWTON_NMAX == (GM_NEWTON_D + 1) * (GM_NEWTON_D + 2) * (GM_NEWTON_D + 3) *
                                 (GM_NEWTON_D + 4) / 24,
               "GM_NEWTON_NMAX is choose(GM_NEWTON_D + 4, 4)");

/* The number of monomials of degree at most 4 in d variables: choose(d + 4, 4). */
int gm_newton_nm(int d)
{
  return (d + 1) * (d + 2) * (d + 3) * (d + 4) / 24;
}

/* The number of Newton's sums a pass takes for d columns and k components: k (k - 1)
 * / 2 pairs times the monomials. */
size_t gm_newton_nsums(int d, int k)
{
  return (size_t) k * (k - 1) / 2 * gm_newton_nm(d);
}

/* Whether Newton's sums for d columns and k components are affordable: at most
 * GM_NEWTON_W sums a row. */
int gm_newton_fits(int d, int k)
{
  return d >= 1 && d <= GM_NEWTON_D && k >= 2 && gm_newton_nsums(d, k) <= GM_NEWTON_W;
}

/* The statistics T = (y_1, ..., y_d, then y_a y_b for b = 1..d, a = 1..b): q of them. */
static int nstat(int d)
{
  return d + d * (d + 1) / 2;
}

static int npar(int d, int k)
{
  return k - 1 + k * nstat(d);
}

/* Newton's workspace: theta, g, step (p each), H, I_c, A (p x p each), and the
 * components' E_k T (q x k). */
size_t gm_newton_len(int d, int k)
{
  const size_t p = npar(d, k), q = nstat(d);
  return 3 * p + 3 * p * p + q * k;
}

/* The largest number of components, at most k, whose sums are affordable for d
 * columns (0 for none): the workspace of a sweep up to k serves its cells up to that. */
int gm_newton_kmax(int d, int k)
{
  while (k >= 2 && !gm_newton_fits(d, k)) k--;
  return k >= 2 ? k : 0;
}

/* The monomials in the order of gm_hess: degree 0 (index 0), then degree 1 (1 .. d,
 * y_j at j + 1), then each degree from the one below, a monomial times y_j for every j
 * from its largest variable on, so each appears once.  code[] holds the exponents in
 * base 5 (at most 4 each) and idx[] maps a code back to its index. */
static void monomials(int d, int *parent, int *var, int *code, int *idx)
{
  int top[GM_NEWTON_NMAX];   /* largest variable of each monomial */
  int nm = 1, from = 0;
  code[0] = 0;
  top[0] = 0;
  parent[0] = var[0] = -1;
  for (int deg = 1; deg <= 4; deg++) {
    const int to = nm;
    for (int r = from; r < to; r++)
      for (int j = (deg == 1 ? 0 : top[r]); j < d; j++) {
        int p5 = 1;
        for (int e = 0; e < j; e++) p5 *= 5;
        parent[nm] = r;
        var[nm] = j;
        top[nm] = j;
        code[nm] = code[r] + p5;
        nm++;
      }
    from = to;
  }
  for (int c = 0; c < GM_NEWTON_CODES; c++) idx[c] = -1;
  for (int r = 0; r < nm; r++) idx[code[r]] = r;
}

/* The monomial index of each statistic T_t (tm) and the base-5 code of each. */
static void stat_codes(int d, int *tcode)
{
  int t = 0, p5[GM_NEWTON_D];
  for (int j = 0; j < d; j++) p5[j] = j ? 5 * p5[j - 1] : 1;
  for (int j = 0; j < d; j++) tcode[t++] = p5[j];
  for (int b = 0; b < d; b++)
    for (int a = 0; a <= b; a++) tcode[t++] = p5[a] + p5[b];
}

int gm_newton_applies(const gm_data *D, const gm_model *M, const gm_par *P,
                      const gm_mwork *Wk, const gm_pass_work *pw)
{
  return Wk->nt && pw->hs.chunk && !D->lab && !P->noise &&
         gm_newton_fits(D->d, P->k) &&
         (strcmp(M->name, "VVV") == 0 || strcmp(M->name, "V") == 0);
}

/* Sets up the pass's sums for P's number of components, with the coordinates y =
 * (x - c) s: c the mixture's mean and 1 / s its standard deviation, column by column. */
void gm_newton_begin(const gm_par *P, gm_hess *h)
{
  const int d = P->d, k = P->k;
  double c0[GM_NEWTON_D], s0[GM_NEWTON_D];
  for (int j = 0; j < d; j++) {
    double c = 0.0, v = 0.0;
    for (int l = 0; l < k; l++) c += P->pro[l] * P->mean[j + (size_t) l * d];
    for (int l = 0; l < k; l++) {
      const double e = P->mean[j + (size_t) l * d] - c;
      v += P->pro[l] * (P->sigma[j + (size_t) j * d + (size_t) l * d * d] + e * e);
    }
    c0[j] = c;
    s0[j] = 1.0 / sqrt(v);
  }
  gm_hess_setup(d, k, c0, s0, h);
}

/* Sets up a pass's sums for k components in the coordinates y = (x - c) s (the
 * pieces of rows out of memory take the coordinates of the fit). */
void gm_hess_setup(int d, int k, const double *c, const double *s, gm_hess *h)
{
  int code[GM_NEWTON_NMAX], idx[GM_NEWTON_CODES];
  monomials(d, h->parent, h->var, code, idx);
  h->d = d;
  h->k = k;
  h->nm = gm_newton_nm(d);
  for (int j = 0; j < d; j++) {
    h->c[j] = c[j];
    h->s[j] = s[j];
  }
  h->on = 1;
}

/* A block's sums: for each pair k < l, sum_b w_b z_bk z_bl y_b^r for every monomial
 * r, added to acc (pairs in the order (0,1), (0,2), ..., (1,2), ..., nm each).  zb
 * holds the block's normalised responsibilities (column c at zb + c zst); mono is
 * (nm + 1) x GM_BLOCK scratch: the monomials (row 0 the constant) and the pair's
 * weights.  Four monomials are summed at a time, four independent chains of
 * multiply-adds: one chain waits for each addition to finish. */
GM_HOT_SUMS void gm_hess_block(int m, const gm_hess *h, const double *xb, const double *wb,
                               const double *zb, size_t zst, double *mono, double *acc)
{
  const int d = h->d, k = h->k, nm = h->nm;
  for (int b = 0; b < m; b++) mono[b] = 1.0;
  for (int j = 0; j < d; j++) {
    const double *xj = xb + (size_t) j * GM_BLOCK;
    double *y = mono + (size_t) (j + 1) * GM_BLOCK;
    const double c = h->c[j], s = h->s[j];
    for (int b = 0; b < m; b++) y[b] = (xj[b] - c) * s;
  }
  for (int r = d + 1; r < nm; r++) {
    const double *a = mono + (size_t) h->parent[r] * GM_BLOCK;
    const double *y = mono + (size_t) (h->var[r] + 1) * GM_BLOCK;
    double *o = mono + (size_t) r * GM_BLOCK;
    for (int b = 0; b < m; b++) o[b] = a[b] * y[b];
  }
  double *bw = mono + (size_t) nm * GM_BLOCK;   /* the pair's weights */
  for (int c = 0; c < k; c++) {
    const double *zc = zb + (size_t) c * zst;
    for (int l = c + 1; l < k; l++, acc += nm) {
      const double *zl = zb + (size_t) l * zst;
      for (int b = 0; b < m; b++) bw[b] = wb[b] * zc[b] * zl[b];
      int r = 0;
      for (; r + 4 <= nm; r += 4) {
        const double *o0 = mono + (size_t) r * GM_BLOCK, *o1 = o0 + GM_BLOCK;
        const double *o2 = o1 + GM_BLOCK, *o3 = o2 + GM_BLOCK;
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        for (int b = 0; b < m; b++) {
          s0 += bw[b] * o0[b];
          s1 += bw[b] * o1[b];
          s2 += bw[b] * o2[b];
          s3 += bw[b] * o3[b];
        }
        acc[r] += s0;
        acc[r + 1] += s1;
        acc[r + 2] += s2;
        acc[r + 3] += s3;
      }
      for (; r < nm; r++) {
        const double *o = mono + (size_t) r * GM_BLOCK;
        double s0 = 0.0;
        for (int b = 0; b < m; b++) s0 += bw[b] * o[b];
        acc[r] += s0;
      }
    }
  }
}

/* The sums of B_ikl y^r over the rows: -P_kl for k != l, sum_{l' != k} P_kl' for k = l,
 * with P the pass's sums for the pairs. */
static double bsum(const double *sum, int k, int nm, int a, int b, int r)
{
  if (a != b) {
    const int lo = a < b ? a : b, hi = a < b ? b : a;
    const int pair = lo * k - lo * (lo + 1) / 2 + (hi - lo - 1);
    return -sum[(size_t) pair * nm + r];
  }
  double s = 0.0;
  for (int l = 0; l < k; l++)
    if (l != a) s -= bsum(sum, k, nm, a, l, r);
  return s;
}

/* From P (x's units), its pass's EM sums (stats: ll, n_k, s_k about P's means, W0_k)
 * and Newton's sums (h->sum): theta, the gradient g, the Hessian H and I_c, all in the
 * coordinates y, into nt. */
void gm_newton_system(const gm_par *P, const double *stats, const gm_hess *h, double *nt)
{
  const int d = P->d, k = P->k, q = nstat(d), p = npar(d, k), nm = h->nm;
  double *th = nt, *g = th + p, *H = g + 2 * p, *Ic = H + (size_t) p * p;
  double *mT = Ic + 2 * (size_t) p * p;
  int code[GM_NEWTON_NMAX], idx[GM_NEWTON_CODES], parent[GM_NEWTON_NMAX], var[GM_NEWTON_NMAX];
  int tcode[GM_NEWTON_D + GM_NEWTON_D * (GM_NEWTON_D + 1) / 2];
  monomials(d, parent, var, code, idx);
  stat_codes(d, tcode);
  const double *nk = stats + 1, *s1 = nk + k, *W0 = s1 + (size_t) k * d;
  double N = 0.0;
  for (int c = 0; c < k; c++) N += nk[c];
  memset(g, 0, p * sizeof(double));
  memset(H, 0, (size_t) p * p * sizeof(double));
  memset(Ic, 0, (size_t) p * p * sizeof(double));
  const double *pro = P->pro;
  for (int j = 0; j < k - 1; j++) {
    th[j] = log(pro[j] / pro[k - 1]);
    g[j] = nk[j] - N * pro[j];
    for (int l = 0; l < k - 1; l++) {
      const double v = N * ((j == l ? pro[j] : 0.0) - pro[j] * pro[l]);
      Ic[j + (size_t) l * p] = v;
      H[j + (size_t) l * p] = -v + bsum(h->sum, k, nm, j, l, 0);
    }
  }
  for (int c = 0; c < k; c++) {
    /* the component in y: mean mu, covariance S, precision Pm; s and W0 likewise */
    double mu[GM_NEWTON_D], S[GM_NEWTON_D * GM_NEWTON_D], Pm[GM_NEWTON_D * GM_NEWTON_D];
    double dl[GM_NEWTON_D], G[GM_NEWTON_D * GM_NEWTON_D], ld;
    for (int a = 0; a < d; a++) {
      mu[a] = (P->mean[a + (size_t) c * d] - h->c[a]) * h->s[a];
      dl[a] = s1[a + (size_t) c * d] * h->s[a];
      for (int b = 0; b < d; b++) {
        const double f = h->s[a] * h->s[b];
        S[a + b * d] = P->sigma[a + (size_t) b * d + (size_t) c * d * d] * f;
        const int lo = a < b ? a : b, hi = a < b ? b : a;   /* (W0's lower triangle) */
        G[a + b * d] = W0[hi + (size_t) lo * d + (size_t) c * d * d] * f;
      }
    }
    gm_chol_inverse(d, S, Pm, &ld);   /* (P's covariances factor) */
    for (int a = 0; a < d; a++)
      for (int b = 0; b < d; b++)
        G[a + b * d] += mu[a] * dl[b] + dl[a] * mu[b] - nk[c] * S[a + b * d];
    /* theta and g in the component's block: eta_1 = Pm mu, then the coefficients of
     * y_a y_b (-Pm_aa / 2 on the diagonal, -Pm_ab off it) */
    const int o = k - 1 + c * q;
    double *m = mT + (size_t) c * q;
    int t = 0;
    for (int a = 0; a < d; a++, t++) {
      double e = 0.0;
      for (int b = 0; b < d; b++) e += Pm[a + b * d] * mu[b];
      th[o + t] = e;
      g[o + t] = dl[a];
      m[t] = mu[a];
    }
    int ia[GM_NEWTON_D + GM_NEWTON_D * (GM_NEWTON_D + 1) / 2], ib[GM_NEWTON_D + GM_NEWTON_D * (GM_NEWTON_D + 1) / 2];
    for (int b = 0; b < d; b++)
      for (int a = 0; a <= b; a++, t++) {
        th[o + t] = a == b ? -0.5 * Pm[a + a * d] : -Pm[a + b * d];
        g[o + t] = G[a + b * d];
        m[t] = S[a + b * d] + mu[a] * mu[b];
        ia[t] = a;
        ib[t] = b;
      }
    /* Cov_k T: Cov(y_a, y_b) = S_ab; Cov(y_a, y_b y_e) = mu_b S_ae + mu_e S_ab;
     * Cov(y_a y_b, y_e y_f) = S_ae S_bf + S_af S_be + mu_a mu_e S_bf + mu_a mu_f S_be
     * + mu_b mu_e S_af + mu_b mu_f S_ae */
    for (int u = 0; u < q; u++)
      for (int v = 0; v < q; v++) {
        double cv;
        if (u < d && v < d) {
          cv = S[u + v * d];
        } else if (u < d || v < d) {
          const int a = u < d ? u : v, w = u < d ? v : u, b = ia[w], e = ib[w];
          cv = mu[b] * S[a + e * d] + mu[e] * S[a + b * d];
        } else {
          const int a = ia[u], b = ib[u], e = ia[v], f = ib[v];
          cv = S[a + e * d] * S[b + f * d] + S[a + f * d] * S[b + e * d] +
               mu[a] * mu[e] * S[b + f * d] + mu[a] * mu[f] * S[b + e * d] +
               mu[b] * mu[e] * S[a + f * d] + mu[b] * mu[f] * S[a + e * d];
        }
        Ic[o + u + (size_t) (o + v) * p] = nk[c] * cv;
      }
  }
  /* the data's part of H, block by block: sum_i B_ikl (T_i - m_k)(T_i - m_l)' and,
   * against the logits, sum_i B_ikl (T_i - m_l) */
  for (int c = 0; c < k; c++)
    for (int l = 0; l < k; l++) {
      const double *mc = mT + (size_t) c * q, *ml = mT + (size_t) l * q;
      const double b0 = bsum(h->sum, k, nm, c, l, 0);
      double b1[GM_NEWTON_D + GM_NEWTON_D * (GM_NEWTON_D + 1) / 2];
      for (int t = 0; t < q; t++) b1[t] = bsum(h->sum, k, nm, c, l, idx[tcode[t]]);
      const int oc = k - 1 + c * q, ol = k - 1 + l * q;
      for (int t = 0; t < q; t++)
        for (int u = 0; u < q; u++) {
          const double b2 = bsum(h->sum, k, nm, c, l, idx[tcode[t] + tcode[u]]);
          H[oc + t + (size_t) (ol + u) * p] =
            b2 - b1[t] * ml[u] - mc[t] * b1[u] + b0 * mc[t] * ml[u] -
            Ic[oc + t + (size_t) (ol + u) * p];
        }
      if (c < k - 1)
        for (int u = 0; u < q; u++) {
          const double v = b1[u] - b0 * ml[u];
          H[c + (size_t) (ol + u) * p] = v;
          H[ol + u + (size_t) c * p] = v;
        }
    }
}

/* Solves (-H + lambda I_c) step = g into nt's step, with *dec = g' step / 2, the
 * increase the quadratic model predicts.  Returns 1 when the matrix is not positive
 * definite. */
int gm_newton_solve(int d, int k, double lambda, double *nt, double *dec)
{
  const int p = npar(d, k), one = 1;
  double *g = nt + p, *step = g + p, *H = step + p, *Ic = H + (size_t) p * p;
  double *A = Ic + (size_t) p * p;
  for (size_t e = 0; e < (size_t) p * p; e++) A[e] = lambda * Ic[e] - H[e];
  int info = 0;
  F77_CALL(dpotrf)("L", &p, A, &p, &info FCONE);
  if (info != 0) return 1;
  memcpy(step, g, p * sizeof(double));
  F77_CALL(dpotrs)("L", &p, &one, A, &p, step, &p, &info FCONE);
  if (info != 0) return 1;
  double s = 0.0;
  for (int j = 0; j < p; j++) s += g[j] * step[j];
  if (!isfinite(s)) return 1;
  *dec = 0.5 * s;
  return 0;
}

/* P from theta + step, back in x's units, with its Cholesky factors.  Returns 1 when
 * that is not a valid mixture: a proportion at or below C->eps, a precision that is not
 * positive definite, or a covariance gm_chol() rejects. */
int gm_newton_apply(const gm_data *D, const gm_ctrl *C, const gm_hess *h, gm_par *P,
                    double *nt)
{
  const int d = P->d, k = P->k, q = nstat(d), p = npar(d, k);
  const double *th = nt, *step = nt + 2 * p;
  double amax = 0.0, tot = 0.0;
  for (int j = 0; j < k - 1; j++) amax = fmax(amax, th[j] + step[j]);
  for (int j = 0; j < k; j++) {
    const double a = j < k - 1 ? th[j] + step[j] : 0.0;
    P->pro[j] = exp(a - amax);
    tot += P->pro[j];
  }
  for (int j = 0; j < k; j++) {
    P->pro[j] /= tot;
    if (!(P->pro[j] > C->eps)) return 1;
  }
  for (int c = 0; c < k; c++) {
    const int o = k - 1 + c * q;
    double Pm[GM_NEWTON_D * GM_NEWTON_D], S[GM_NEWTON_D * GM_NEWTON_D], ld;
    int t = d;
    for (int b = 0; b < d; b++)
      for (int a = 0; a <= b; a++, t++) {
        const double e = th[o + t] + step[o + t];
        Pm[a + b * d] = Pm[b + a * d] = a == b ? -2.0 * e : -e;
      }
    if (gm_chol_inverse(d, Pm, S, &ld)) return 1;
    for (int a = 0; a < d; a++) {
      double mu = 0.0;
      for (int b = 0; b < d; b++) mu += S[a + b * d] * (th[o + b] + step[o + b]);
      P->mean[a + (size_t) c * d] = h->c[a] + mu / h->s[a];
      for (int b = 0; b < d; b++)
        P->sigma[a + (size_t) b * d + (size_t) c * d * d] = S[a + b * d] / (h->s[a] * h->s[b]);
    }
  }
  int bad;
  return gm_chol(d, k, P->sigma, P->chol, P->logdet, D->colvar, C->eps, &bad) != GM_OK;
}
