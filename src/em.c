/* The EM loop, and the .Call adaptors that unpack R objects for the kernels. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include "gaussmix.h"

/* ---- the EM loop -------------------------------------------------------- */

/* The log-likelihood after each iteration, in a buffer of the caller's with room for
 * every iteration a fit can take (max_iter + 1), so that a worker thread never
 * allocates. */
static void trace_push(gm_trace *t, double ll)
{
  if (t->len < t->cap) t->v[t->len++] = ll;
}

/* Records the inner-loop outcome of the M-step just taken. */
static void note_inner(const gm_mwork *Wk, gm_result *res)
{
  res->inner_last = Wk->cov.inner_ok;
  if (!Wk->cov.inner_ok) res->inner_fail++;
}

/* Between iterations: thread 0 lets R handle an interrupt (which may jump out; the
 * sweep's cleanup then stops the other threads), and every thread stops once the sweep
 * has been told to. */
static int stop_now(const gm_run *run)
{
  if (run->thread == 0) R_CheckUserInterrupt();
  return run->abort && __atomic_load_n(run->abort, __ATOMIC_RELAXED);
}

/* The parameters as one vector (pro, mean, sigma), and back. */
static void par_get(const gm_par *P, double *v)
{
  const size_t dk = (size_t) P->d * P->k;
  memcpy(v, P->pro, P->k * sizeof(double));
  memcpy(v + P->k, P->mean, dk * sizeof(double));
  memcpy(v + P->k + dk, P->sigma, dk * P->d * sizeof(double));
}

static void par_set(gm_par *P, const double *v)
{
  const size_t dk = (size_t) P->d * P->k;
  memcpy(P->pro, v, P->k * sizeof(double));
  memcpy(P->mean, v + P->k, dk * sizeof(double));
  memcpy(P->sigma, v + P->k + dk, dk * P->d * sizeof(double));
}

/* Squared norms of r = t1 - t0 and v = t2 - 2 t1 + t0 for parameter vectors t0, t1,
 * t2, with means in units of the column standard deviations and covariances in units
 * of their products, so that the step does not depend on the data's units. */
static void step_norms(const gm_data *D, int k, const double *t0, const double *t1,
                       const double *t2, double *r2, double *v2)
{
  const int d = D->d;
  double rs = 0.0, vs = 0.0;
  size_t e = 0;
  for (int c = 0; c < k; c++, e++) {
    const double r = t1[e] - t0[e], v = t2[e] - 2.0 * t1[e] + t0[e];
    rs += r * r;
    vs += v * v;
  }
  for (int c = 0; c < k; c++)
    for (int j = 0; j < d; j++, e++) {
      const double s = D->colvar ? 1.0 / D->colvar[j] : 1.0;
      const double r = t1[e] - t0[e], v = t2[e] - 2.0 * t1[e] + t0[e];
      rs += s * r * r;
      vs += s * v * v;
    }
  for (int c = 0; c < k; c++)
    for (int l = 0; l < d; l++)
      for (int j = 0; j < d; j++, e++) {
        const double s = D->colvar ? 1.0 / (D->colvar[j] * D->colvar[l]) : 1.0;
        const double r = t1[e] - t0[e], v = t2[e] - 2.0 * t1[e] + t0[e];
        rs += s * r * r;
        vs += s * v * v;
      }
  *r2 = rs;
  *v2 = vs;
}

/* One cycle of SQUAREM (Varadhan and Roland 2008, "Simple and globally convergent
 * methods for accelerating the convergence of any EM algorithm", Scand. J. Statist.
 * 35:335-353, scheme S3).  From t0 (in Wk->sq) and t1 = M(t0) (P, its pass done: *ll,
 * *ent, Wk->stats): t2 = M(t1) and the point
 *   t' = t0 - 2 a r + a^2 v,  r = t1 - t0,  v = t2 - 2 t1 + t0,  a = -|r| / |v|,
 * then one EM step from t', which brings it back into the model's parameter space (t'
 * itself may leave it, as sums of constrained covariances do).  a is moved halfway
 * towards -1 (where t' = t2) until t' has proportions above eps and covariances that
 * factor.  The result is kept when its log-likelihood is at least t1's, so the
 * log-likelihood never falls; else P becomes t2, with its pass (a plain EM step,
 * *plain_step = 1).  t2 needs no pass of its own when the result is kept, so a cycle
 * that succeeds takes three passes for three M-steps.  Returns the number of M-steps
 * taken (1 or 2), each noted in res's inner-loop counts; res->status is the failure
 * of the M-step to t2 or of t2's pass, if any, with the M-step's res->bad. */
static int squarem_cycle(const gm_data *D, const gm_model *M, gm_par *P, const gm_ctrl *C,
                         gm_mwork *Wk, gm_pass_work *pw, double *ll, double *ent,
                         int *plain_step, gm_result *res)
{
  const int d = D->d, k = P->k;
  const size_t len = GM_PAR_LEN(d, k);
  double *t0 = Wk->sq, *t1 = t0 + len, *t2 = t1 + len, *tp = t2 + len;
  *plain_step = 0;
  par_get(P, t1);
  res->status = gm_mstep_sums(D, Wk->stats, M, P, C, Wk, &res->bad);
  note_inner(Wk, res);
  if (res->status) return 1;
  const int inner2 = Wk->cov.inner_ok;   /* t2's, should P go back to it */
  par_get(P, t2);
  int steps = 1;
  double r2, v2;
  step_norms(D, k, t0, t1, t2, &r2, &v2);
  double a = -sqrt(r2 / v2);
  int valid = 0, nbad;
  if (a < -1.0 && isfinite(a))   /* else t' would be t2, or undefined */
    for (int tries = 0; tries < 20 && a < -1.0 && !valid; tries++) {
      for (size_t e = 0; e < len; e++) {
        const double r = t1[e] - t0[e], v = t2[e] - 2.0 * t1[e] + t0[e];
        tp[e] = t0[e] - 2.0 * a * r + a * a * v;
      }
      valid = 1;
      for (int c = 0; c < k; c++) valid &= tp[c] > C->eps;
      if (valid) {
        par_set(P, tp);
        valid = !gm_chol(d, k, P->sigma, P->chol, P->logdet, D->colvar, C->eps, &nbad);
      }
      if (!valid) a = 0.5 * (a - 1.0);
    }
  if (valid) {
    double lp, ep;
    if (!gm_pass(D, P, NULL, NULL, &lp, &ep, Wk->stats, NULL, pw)) {
      steps++;
      const int mfail = gm_mstep_sums(D, Wk->stats, M, P, C, Wk, &nbad);
      note_inner(Wk, res);
      if (!mfail && !gm_pass(D, P, NULL, NULL, &lp, &ep, Wk->stats, NULL, pw) && lp >= *ll) {
        *ll = lp;
        *ent = ep;
        return steps;
      }
    }
  }
  /* t2, with its pass (and its M-step's inner convergence as the last) */
  par_set(P, t2);
  gm_chol(d, k, P->sigma, P->chol, P->logdet, D->colvar, C->eps, &nbad);
  Wk->cov.inner_ok = inner2;
  res->inner_last = inner2;
  res->status = gm_pass(D, P, NULL, NULL, ll, ent, Wk->stats, NULL, pw);
  *plain_step = 1;
  return steps;
}

/* Newton's steps (newton.c) from P, whose pass is done (*ll, *ent, Wk->stats), until
 * the quadratic model predicts an increase of at most C->tol relative, a last step
 * that is then taken (converged: returns 1); or until the steps fail to make
 * progress (lambda beyond 1e8, eight steps in a row rejected, a damped step kept that
 * gained at most C->tol relative, or GM_NEWTON_DAMPED damped steps in a row: EM's
 * own ground, such as a saddle or a ridge, where the Hessian stays indefinite) or the
 * iterations run out (returns 0; EM carries on from P).  lambda grows fourfold while
 * the system is not positive definite or a step is rejected, from the last damping
 * that served (1/4 at first), and shrinks fourfold after each step kept, to 0 below
 * 1e-3.  Each pass at a trial point counts as an iteration; each point kept goes on
 * the trace.  On return P holds the last point kept and Wk->stats the sums of its
 * pass. */
#define GM_NEWTON_DAMPED 20
static int newton_run(const gm_data *D, gm_par *P, const gm_ctrl *C, const gm_run *run,
                      gm_trace *trace, gm_mwork *Wk, gm_pass_work *pw, double *ll,
                      double *ent, int *steps, gm_result *res, int have_sums)
{
  const int d = D->d, k = P->k;
  double *keep = Wk->sq;   /* the point kept, while a trial point is tried */
  double lp, ep, lambda = 0.0, served = 0.25, dec;
  int nbad;
  /* fresh: Wk->stats are P's; sys: Wk->nt holds P's system */
  int done = 0, fresh = 0, sys = 0, rejected = 0, damped = 0;
  if (!have_sums) {   /* (else P's pass took Newton's sums: gm_newton_begin came first) */
    gm_newton_begin(P, &pw->hs);
    if (gm_pass(D, P, NULL, NULL, &lp, &ep, Wk->stats, NULL, pw)) goto out;
  }
  fresh = 1;
  while (*steps < C->max_iter && lambda <= 1e8 && rejected < 8 && damped < GM_NEWTON_DAMPED) {
    if (stop_now(run)) {
      res->status = GM_ABORT;
      break;
    }
    if (!sys) gm_newton_system(P, Wk->stats, &pw->hs, Wk->nt);
    sys = 1;
    if (gm_newton_solve(d, k, lambda, Wk->nt, &dec)) {   /* not positive definite */
      lambda = lambda > 0.0 ? 4.0 * lambda : served;
      continue;
    }
    /* Converged when the step would gain at most tol; it is still taken (a pass
     * without Newton's sums), which leaves P within about dec^2 of the maximum */
    done = lambda == 0.0 && dec <= C->tol * (1.0 + fabs(*ll));
    if (done) pw->hs.on = 0;
    par_get(P, keep);
    int ok = !gm_newton_apply(D, C, &pw->hs, P, Wk->nt);
    if (ok) {
      ++*steps;
      fresh = 0;
      ok = !gm_pass(D, P, NULL, NULL, &lp, &ep, Wk->stats, NULL, pw) && lp >= *ll;
    }
    if (ok) {
      const double gain = lp - *ll;
      *ll = lp;
      *ent = ep;
      fresh = 1;
      rejected = 0;
      trace_push(trace, lp);
      sys = 0;
      if (done || (lambda > 0.0 && gain <= C->tol * (1.0 + fabs(lp))))
        break;   /* (damped steps that gain nothing: EM judges convergence) */
      if (lambda > 0.0) {
        served = lambda;
        damped++;
      } else {
        damped = 0;
      }
      lambda = lambda < 1e-3 ? 0.0 : lambda / 4.0;
      continue;
    }
    /* back to the point kept (its factors again, as squarem_cycle's return to t2),
     * whose system is still in Wk->nt */
    par_set(P, keep);
    gm_chol(d, k, P->sigma, P->chol, P->logdet, D->colvar, C->eps, &nbad);
    if (done) break;   /* the last step lost to rounding: P is the fit */
    rejected++;
    lambda = lambda > 0.0 ? 4.0 * lambda : served;
  }
out:
  pw->hs.on = 0;
  if (!fresh && !res->status &&   /* EM goes on from P, with its own sums */
      (res->status = gm_pass(D, P, NULL, NULL, ll, ent, Wk->stats, NULL, pw)))
    return 0;
  return done;
}

/* A pass in float rounds its log-likelihood by about 2^-24 times the sum of its rows'
 * |log p(x_i)|, and by up to a few times that: a fit whose convergence test, a change
 * of at most tol (1 + |logLik|), is within this factor of that scale continues in
 * double, so that rounding does not decide where it stops (a log-likelihood near 0
 * from rows that cancel, or a tolerance near float's precision). */
#define GM_SINGLE_NOISE (16.0 * 0x1p-24)

/* A plain EM step's pass: in single precision when *may_single and pw allows it at P
 * (gm_single_ok; the sweep's screening fits), else in double; *single says which.  A
 * pass that is not finite in float, or whose rounding could decide a convergence test
 * to tol, is taken again in double, and in the second case so is the rest of the fit
 * (*may_single is cleared). */
static int em_pass(const gm_data *D, const gm_par *P, double tol, int *may_single,
                   double *ll, double *ent, double *stats, gm_pass_work *pw, int *single)
{
  *single = *may_single && gm_single_ok(D, P, pw);
  if (*single) {
    double abs;
    if (gm_pass_single(D, P, ll, &abs, stats, pw) == GM_OK) {
      if (tol * (1.0 + fabs(*ll)) >= GM_SINGLE_NOISE * abs) return GM_OK;
      *may_single = 0;
    }
  }
  *single = 0;
  return gm_pass(D, P, NULL, NULL, ll, ent, stats, NULL, pw);
}

/* Runs EM from the parameters in P (start = GM_FROM_PAR, Cholesky factors already
 * set), from responsibilities z0 (GM_FROM_Z: an M-step comes first), or from
 * sufficient statistics in Wk->nk, P->mean and Wk->W (GM_FROM_SUFF: likewise).  Each
 * EM step is one M-step from the sums of a pass and one pass over the data at the new
 * parameters (their E-step and the next M-step's sums); the passes keep only the sums,
 * not the responsibilities, so that no n x k matrix goes through memory at each step.
 * Once an EM step changes the log-likelihood by at most C->accel relative (EM has
 * settled in its basin), Newton's steps take over where they run (newton_run; EM
 * follows if they stall), and otherwise each EM step is followed by another and
 * SQUAREM's extrapolation (squarem_cycle); neither with a prior, whose objective is
 * not the log-likelihood the steps are judged by.  The fit has converged when a plain
 * EM step changes the log-likelihood by at most tol relative, or when Newton's steps
 * converge (newton_run); an extrapolation is never judged so.  A settled start (a
 * screened fit continued) goes to Newton's steps at once.  The trace receives the
 * log-likelihood of the start and of every point kept; res->iterations counts the
 * M-steps and Newton's trial steps taken, at most max_iter.  A screening fit's plain
 * passes may run in float (em_pass), its trace entries then too; its last pass is
 * taken again in double.  On return P holds the last parameters and Wk->stats the
 * sums of their pass, in double. */
static void em_run(const gm_data *D, const gm_model *M, gm_par *P, const double *z0,
                   int start, int settled, const gm_ctrl *C, const gm_run *run,
                   gm_trace *trace, gm_mwork *Wk, gm_pass_work *pw, gm_result *res)
{
  double ll = 0.0, old = 0.0, ent = 0.0;
  Wk->cov.warm = 0;
  Wk->cov.have_par = start == GM_FROM_PAR;
  if (start != GM_FROM_PAR) {
    res->status = start == GM_FROM_Z ? gm_mstep(D, z0, M, P, C, Wk, pw, &res->bad)
                                     : gm_mstep_suff(D, M, P, C, Wk, &res->bad);
    note_inner(Wk, res);
    if (res->status) return;
  }
  /* (no extrapolation with noise: its proportion is not among the parameters
   * extrapolated) */
  const int can_accel = C->accel > 0.0 && !C->prior && P->k > 1 && !P->noise;
  /* (nor Newton's steps with a ridge: EM's fixed points are then not the maximum) */
  const int can_newton = can_accel && C->reg == 0.0 && gm_newton_applies(D, M, P, Wk, pw);
  /* a settled start goes to Newton's steps at once, its pass taking their sums */
  const int newton_now = settled && start == GM_FROM_PAR && can_newton;
  if (newton_now) gm_newton_begin(P, &pw->hs);
  /* Passes in float are for fits that stop before any acceleration starts, so that
   * SQUAREM and Newton's steps compare log-likelihoods of passes in double. */
  int may_single = !(can_accel && C->tol < C->accel);
  int single = 0;   /* the last pass was in float */
  res->status = newton_now
                    ? gm_pass(D, P, NULL, NULL, &ll, &ent, Wk->stats, NULL, pw)
                    : em_pass(D, P, C->tol, &may_single, &ll, &ent, Wk->stats, pw, &single);
  if (res->status) {
    pw->hs.on = 0;
    return;
  }
  Wk->noise_nk = pw->noise_sum;
  trace_push(trace, ll);
  int accel = newton_now;
  int steps = 0, plain = 0;
  if (newton_now)
    res->converged = newton_run(D, P, C, run, trace, Wk, pw, &ll, &ent, &steps, res, 1);
  while (!res->converged && !res->status && steps < C->max_iter) {
    if (stop_now(run)) {
      res->status = GM_ABORT;
      return;
    }
    if (accel && plain == 1 && steps + 2 <= C->max_iter) {   /* (a cycle may take two) */
      int plain_step;
      old = ll;
      steps += squarem_cycle(D, M, P, C, Wk, pw, &ll, &ent, &plain_step, res);
      if (res->status) break;
      trace_push(trace, ll);
      plain = 0;
      if (plain_step && fabs(ll - old) <= C->tol * (1.0 + fabs(ll))) {
        res->converged = 1;
        break;
      }
      continue;
    }
    if (accel) par_get(P, Wk->sq);
    old = ll;
    res->status = gm_mstep_sums(D, Wk->stats, M, P, C, Wk, &res->bad);
    note_inner(Wk, res);
    steps++;
    if (res->status) break;
    res->status = em_pass(D, P, C->tol, &may_single, &ll, &ent, Wk->stats, pw, &single);
    if (res->status) break;
    Wk->noise_nk = pw->noise_sum;
    trace_push(trace, ll);
    plain++;
    if (fabs(ll - old) <= C->tol * (1.0 + fabs(ll))) {
      res->converged = 1;
      break;
    }
    if (can_accel && !accel && fabs(ll - old) <= C->accel * (1.0 + fabs(ll))) {
      accel = 1;
      plain = 0;
      if (can_newton) {   /* Newton's steps; SQUAREM only if they stall */
        const int conv = newton_run(D, P, C, run, trace, Wk, pw, &ll, &ent, &steps, res, 0);
        if (res->status) break;
        if (conv) {
          res->converged = 1;
          break;
        }
      }
    }
  }
  res->iterations = steps;
  if (res->status) return;
  if (single) {   /* what the fit reports comes from a pass in double */
    res->status = gm_pass(D, P, NULL, NULL, &ll, &ent, Wk->stats, NULL, pw);
    if (res->status) return;
    trace->v[trace->len - 1] = ll;
  }
  res->loglik = ll;
  res->entropy = ent;
}

/* One fit of a model with P->k components from a start, on data D, into P (and
 * Wk->stats, the sums of its last pass, and z when it is not NULL): EM, then, for a
 * fit that converged without a prior, the test for a spurious maximiser
 * (gm_degenerate, on the effective rows: responsibilities summed over the rows of
 * positive weight), which with C->degenerate fails the fit.  A start from sufficient
 * statistics of a subset of the rows (S->sub) takes one M-step on the subset and runs
 * EM on all rows from its parameters.  The result is a function of its arguments
 * alone, whatever thread runs it, so fits can run side by side. */
void gm_fit_core(const gm_data *D, const gm_model *M, const gm_start *S, const gm_ctrl *C,
                 const gm_run *run, gm_par *P, double *z, gm_mwork *Wk, gm_pass_work *pw,
                 gm_trace *trace, gm_result *res)
{
  const int d = D->d, k = P->k;
  const gm_result fresh = {0, 0, GM_OK, -1, 0, 1, NA_REAL, NA_REAL, GM_OK, -1, NA_REAL};
  *res = fresh;
  trace->len = 0;
  Wk->cov.k = k;
  pw->diag = M->diag;
  int start = S->kind;
  if (S->kind == GM_FROM_SUFF) {
    memcpy(Wk->nk, S->nk, k * sizeof(double));
    Wk->noise_nk = S->noise_nk;
    memcpy(P->mean, S->mean, (size_t) d * k * sizeof(double));
    memcpy(Wk->W, S->W, (size_t) d * d * k * sizeof(double));
    if (S->sub) {   /* carried from the subset by its M-step */
      Wk->cov.warm = 0;
      Wk->cov.have_par = 0;
      res->status = gm_mstep_suff(S->sub, M, P, C, Wk, &res->bad);
      note_inner(Wk, res);
      if (res->status) return;
      start = GM_FROM_PAR;
    }
  } else if (S->kind == GM_FROM_PAR) {
    memmove(P->pro, S->pro, (k + P->noise) * sizeof(double));   /* gmm_fit passes P's own */
    memmove(P->mean, S->mean, (size_t) d * k * sizeof(double));
    memmove(P->sigma, S->sigma, (size_t) d * d * k * sizeof(double));
  }
  if (start == GM_FROM_PAR &&
      gm_chol(d, k, P->sigma, P->chol, P->logdet, D->colvar, C->eps, &res->bad)) {
    res->status = GM_SINGULAR;
    return;
  }
  em_run(D, M, P, S->z, start, S->settled, C, run, trace, Wk, pw, res);
  if (res->status) return;
  /* One more pass at the final parameters (the same E-step, to the bit) when the
   * caller wants the responsibilities; when a diagonal model's passes summed only the
   * diagonals, for the whole scatter matrices, which other models start from; and when
   * the test below needs the responsibilities summed over the rows of positive weight,
   * which are n_k only when every weight is 1. */
  const int check = C->prior == NULL;   /* a prior's MAP estimates are regularised */
  const int by_rows = check && !D->unit;
  double *nrow = Wk->cov.work;   /* free once the fit is done */
  if (z || (M->diag && d > 2) || by_rows) {
    double ll, ent;
    pw->full = 1;
    res->status = gm_pass(D, P, z, NULL, &ll, &ent, Wk->stats, by_rows ? nrow : NULL, pw);
    pw->full = 0;
    if (res->status) return;
    Wk->noise_nk = pw->noise_sum;
  }
  if (!check) return;
  if (!by_rows) memcpy(nrow, Wk->stats + 1, k * sizeof(double));
  res->deg = gm_degenerate(M, P, nrow, C->rcond, &res->deg_bad, &res->deg_value,
                           Wk->cov.work + k);
  if (res->deg && C->degenerate) {
    res->status = res->deg;
    res->bad = res->deg_bad;
  }
}

double gm_model_df(const gm_model *M, int d, int k)
{
  return M->ncov(d, k) + (double) k * d + k - 1;
}

/* ---- argument checks: a wrong .Call is an R error, never a crash ---------- */

const double *gm_real_arg(SEXP v, const char *what, R_xlen_t len)
{
  if (TYPEOF(v) != REALSXP) error("'%s' must be a double vector", what);
  if (len >= 0 && XLENGTH(v) != len)
    error("'%s' must have length %lld, not %lld", what, (long long) len,
          (long long) XLENGTH(v));
  return REAL(v);
}

/* Whether p[0 .. len) are all finite (when nonneg, also >= 0), in loops without a
 * branch per element so that they vectorise: x - x is 0 for a finite x and NaN for an
 * infinite or NaN one. */
GM_HOT int gm_all_finite(const double *p, R_xlen_t len, int nonneg)
{
  double acc = 0.0, low = 0.0;
  GM_SIMD_SUM(acc)
  for (R_xlen_t e = 0; e < len; e++) acc += p[e] - p[e];
  if (nonneg) {
    GM_SIMD_MIN(low)
    for (R_xlen_t e = 0; e < len; e++) low = p[e] < low ? p[e] : low;
  }
  return acc == 0.0 && low >= 0.0;
}

/* Advises fresh memory of `bytes` at p for transparent huge pages (Linux), so that
 * its first touch faults it in 2 MB at a time rather than 4 KB: on the project's
 * virtual machine the 4 KB faults of a 24 MB matrix took 0.03-0.045 s, ten times the
 * arithmetic of the pass that filled it.  Only the whole 2 MB pages inside, and only
 * for 4 MB or more.  Advice only: where the kernel does not take it, nothing
 * changes. */
void gm_advise_huge(void *p, size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const size_t huge = (size_t) 1 << 21;
  if (bytes >= 2 * huge) {
    const uintptr_t a = ((uintptr_t) p + huge - 1) & ~(uintptr_t) (huge - 1);
    const uintptr_t e = ((uintptr_t) p + bytes) & ~(uintptr_t) (huge - 1);
    if (e > a) madvise((void *) a, e - a, MADV_HUGEPAGE);
  }
#else
  (void) p;
  (void) bytes;
#endif
}

/* An n x k double matrix for results by row (responsibilities), advised for huge
 * pages. */
SEXP gm_alloc_rows(int n, int k)
{
  SEXP m = allocMatrix(REALSXP, n, k);
  gm_advise_huge(REAL(m), (size_t) n * k * sizeof(double));
  return m;
}

const double *gm_finite_arg(SEXP v, const char *what)
{
  if (TYPEOF(v) != REALSXP) error("'%s' must be a double vector", what);
  if (!gm_all_finite(REAL(v), XLENGTH(v), 0))
    error("'%s' must be finite (no NA, NaN or Inf)", what);
  return REAL(v);
}

void gm_matrix_dims(SEXP x, const char *what, int *nr, int *nc)
{
  SEXP dim = getAttrib(x, R_DimSymbol);
  if (TYPEOF(x) != REALSXP || TYPEOF(dim) != INTSXP || LENGTH(dim) != 2)
    error("'%s' must be a double matrix", what);
  *nr = INTEGER(dim)[0];
  *nc = INTEGER(dim)[1];
  if (*nr < 1 || *nc < 1) error("'%s' must have at least one row and column", what);
}

const gm_model *gm_model_arg(SEXP model, int d)
{
  if (TYPEOF(model) != STRSXP || LENGTH(model) != 1 || STRING_ELT(model, 0) == NA_STRING)
    error("'model' must be a single string");
  const gm_model *M = gm_find_model(CHAR(STRING_ELT(model, 0)));
  if (!M) error("unknown model '%s'", CHAR(STRING_ELT(model, 0)));
  if (M->multivariate != (d > 1))
    error("model '%s' is not defined for %d-dimensional data", M->name, d);
  return M;
}

/* Weighted column variances about the weighted means: the scale against which a
 * conditional variance counts as zero. */
GM_HOT void gm_column_variances(const gm_data *D, double *colvar)
{
  for (int j = 0; j < D->d; j++) {
    const double *xj = D->x + (size_t) j * D->n;
    double m = 0.0, v = 0.0;
    GM_SIMD_SUM(m)
    for (int i = 0; i < D->n; i++) m += D->w[i] * xj[i];
    m /= D->wsum;
    GM_SIMD_SUM(v)
    for (int i = 0; i < D->n; i++) v += D->w[i] * (xj[i] - m) * (xj[i] - m);
    colvar[j] = v / D->wsum;
  }
}

/* Unpacks and checks x (finite double matrix) and w (finite, non-negative, positive
 * sum); with want_colvar, also the column variances the singularity checks use.
 * Shared by every adaptor that takes data. */
void gm_data_arg(SEXP x, SEXP w, gm_data *D, int want_colvar)
{
  gm_matrix_dims(x, "x", &D->n, &D->d);
  D->x = gm_finite_arg(x, "x");
  D->w = gm_real_arg(w, "w", D->n);
  if (!gm_all_finite(D->w, D->n, 1)) error("'w' must be finite and non-negative");
  double s = 0.0, off = 0.0;
  GM_SIMD_SUM(s, off)
  for (int i = 0; i < D->n; i++) {
    s += D->w[i];
    off += D->w[i] != 1.0;
  }
  if (!(s > 0.0)) error("'w' must have a positive sum");
  D->wsum = s;
  D->unit = off == 0.0;
  D->colvar = NULL;
  D->lab = NULL;
  D->ext = NULL;
  if (want_colvar) {
    double *colvar = (double *) R_alloc(D->d, sizeof(double));
    gm_column_variances(D, colvar);
    D->colvar = colvar;
  }
}

static void fill_na(SEXP v)
{
  double *p = REAL(v);
  for (R_xlen_t e = 0; e < XLENGTH(v); e++) p[e] = NA_REAL;
}

/* control = c(tol, max_iter, reg, eps, inner_tol, inner_max_iter, threads, rcond,
 * degenerate, accel); prior = NULL or list(kappa, nu, mean, scale). */
void gm_ctrl_arg(SEXP control, SEXP prior, int d, gm_ctrl *C, gm_prior *pr)
{
  const double *v = gm_real_arg(control, "control", 10);
  if (!(v[0] >= 0.0 && isfinite(v[0])) || !(v[1] >= 0.0 && v[1] <= 1e7) ||
      v[1] != floor(v[1]) || !(v[2] >= 0.0 && isfinite(v[2])) ||
      !(v[3] >= 0.0 && v[3] < 1.0) || !(v[4] >= 0.0 && isfinite(v[4])) ||
      !(v[5] >= 1.0 && v[5] <= 1e7) || v[5] != floor(v[5]) ||
      !(v[6] >= 1.0 && v[6] <= 1024) || v[6] != floor(v[6]) || !(v[7] >= 0.0 && v[7] < 1.0) ||
      !(v[8] == 0.0 || v[8] == 1.0) || !(v[9] >= 0.0 && v[9] <= 1.0))
    error("'control' must hold finite tol >= 0, whole 0 <= max_iter <= 1e7, finite reg >= 0, "
          "0 <= eps < 1, finite inner_tol >= 0, whole 1 <= inner_max_iter <= 1e7, "
          "whole 1 <= threads <= 1024, 0 <= rcond < 1, degenerate 0 or 1 and 0 <= accel <= 1");
  C->tol = v[0];
  C->max_iter = (int) v[1];
  C->reg = v[2];
  C->eps = v[3];
  C->inner_tol = v[4];
  C->inner_max_iter = (int) v[5];
  C->threads = (int) v[6];
  C->rcond = v[7];
  C->degenerate = (int) v[8];
  C->accel = v[9];
  C->prior = NULL;
  if (prior == R_NilValue) return;
  if (TYPEOF(prior) != VECSXP || LENGTH(prior) != 4)
    error("'prior' must be NULL or list(kappa, nu, mean, scale)");
  pr->kappa = *gm_real_arg(VECTOR_ELT(prior, 0), "prior$kappa", 1);
  pr->nu = *gm_real_arg(VECTOR_ELT(prior, 1), "prior$nu", 1);
  gm_real_arg(VECTOR_ELT(prior, 2), "prior$mean", d);
  gm_real_arg(VECTOR_ELT(prior, 3), "prior$scale", (R_xlen_t) d * d);
  pr->mean = gm_finite_arg(VECTOR_ELT(prior, 2), "prior$mean");
  pr->scale = gm_finite_arg(VECTOR_ELT(prior, 3), "prior$scale");
  if (!(pr->kappa > 0.0 && isfinite(pr->kappa)) || !(pr->nu > d - 1.0 && isfinite(pr->nu)))
    error("'prior' needs kappa > 0 and nu > d - 1");
  C->prior = pr;
}

SEXP gm_new_list(const char **names, int len)
{
  SEXP out = PROTECT(allocVector(VECSXP, len));
  SEXP nms = PROTECT(allocVector(STRSXP, len));
  for (int i = 0; i < len; i++) SET_STRING_ELT(nms, i, mkChar(names[i]));
  setAttrib(out, R_NamesSymbol, nms);
  UNPROTECT(2);
  return out;
}

SEXP gm_alloc_array3(int d, int k)
{
  SEXP a = PROTECT(allocVector(REALSXP, (R_xlen_t) d * d * k));
  SEXP dim = PROTECT(allocVector(INTSXP, 3));
  INTEGER(dim)[0] = d;
  INTEGER(dim)[1] = d;
  INTEGER(dim)[2] = k;
  setAttrib(a, R_DimSymbol, dim);
  UNPROTECT(2);
  return a;
}

/* Allocates pro (k), mean (d x k) and sigma (d x d x k) as elements 0, 1 and 2 of the
 * protected list `out`, and binds P to them; the Cholesky factors go in scratch. */
static void gm_par_alloc(SEXP out, int d, int k, gm_par *P)
{
  SET_VECTOR_ELT(out, 0, allocVector(REALSXP, k));
  SET_VECTOR_ELT(out, 1, allocMatrix(REALSXP, d, k));
  SET_VECTOR_ELT(out, 2, gm_alloc_array3(d, k));
  P->d = d;
  P->k = k;
  P->pro = REAL(VECTOR_ELT(out, 0));
  P->mean = REAL(VECTOR_ELT(out, 1));
  P->sigma = REAL(VECTOR_ELT(out, 2));
  memset(P->sigma, 0, (size_t) d * d * k * sizeof(double));
  P->chol = (double *) R_alloc((size_t) d * d * k, sizeof(double));
  P->logdet = (double *) R_alloc(k, sizeof(double));
  P->noise = 0;
  P->lognoise = 0.0;
}

/* Copies starting parameters supplied from R into the output vectors; `what`
 * prefixes the argument names in error messages. */
static void par_copy_in(SEXP p0, SEXP m0, SEXP s0, const char *what, gm_par *P)
{
  const int d = P->d, k = P->k;
  char nm[64];
  snprintf(nm, sizeof nm, "%spro", what);
  const double *p = gm_real_arg(p0, nm, k);
  snprintf(nm, sizeof nm, "%smean", what);
  const double *m = gm_real_arg(m0, nm, (R_xlen_t) d * k);
  snprintf(nm, sizeof nm, "%ssigma", what);
  const double *s = gm_real_arg(s0, nm, (R_xlen_t) d * d * k);
  double ps = 0.0;
  for (int c = 0; c < k; c++) {
    if (!(p[c] > 0.0) || !isfinite(p[c])) error("'%spro' must be positive", what);
    ps += p[c];
  }
  if (fabs(ps - 1.0) > 1e-6) error("'%spro' must sum to 1", what);
  snprintf(nm, sizeof nm, "%smean", what);
  gm_finite_arg(m0, nm);
  snprintf(nm, sizeof nm, "%ssigma", what);
  gm_finite_arg(s0, nm);
  for (int c = 0; c < k; c++) {
    const double *S = s + (size_t) c * d * d;
    for (int j = 0; j < d; j++)
      for (int l = 0; l < j; l++) {
        const double a = S[j + (size_t) l * d], b = S[l + (size_t) j * d];
        if (fabs(a - b) > 1e-8 * (fabs(a) + fabs(b)))
          error("'%ssigma' must be symmetric (component %d is not)", what, c + 1);
      }
  }
  memcpy(P->pro, p, k * sizeof(double));
  memcpy(P->mean, m, (size_t) d * k * sizeof(double));
  memcpy(P->sigma, s, (size_t) d * d * k * sizeof(double));
}

/* ---- .Call entry points ---------------------------------------------------- */

/* Checks sufficient statistics from R, list(nk, mean, scatter) with nk >= 0 (k),
 * mean (d x k) and scatter (d x d x k) finite; returns k. */
int gm_suff_arg(SEXP s0, int d)
{
  if (TYPEOF(s0) != VECSXP || LENGTH(s0) != 3)
    error("'z0' must be an n x K matrix or list(nk, mean, scatter)");
  SEXP nk = VECTOR_ELT(s0, 0);
  if (TYPEOF(nk) != REALSXP || LENGTH(nk) < 1 || !gm_all_finite(REAL(nk), LENGTH(nk), 1))
    error("'z0$nk' must be non-negative finite numbers");
  const int k = LENGTH(nk);
  gm_real_arg(VECTOR_ELT(s0, 1), "z0$mean", (R_xlen_t) d * k);
  gm_real_arg(VECTOR_ELT(s0, 2), "z0$scatter", (R_xlen_t) d * d * k);
  gm_finite_arg(VECTOR_ELT(s0, 1), "z0$mean");
  gm_finite_arg(VECTOR_ELT(s0, 2), "z0$scatter");
  return k;
}

/* list(nk, mean, scatter) for R, from the sums of a pass about the means in mean. */
static SEXP suff_out(int d, int k, const double *stats, const double *mean)
{
  const char *names[] = {"nk", "mean", "scatter"};
  SEXP out = PROTECT(gm_new_list(names, 3));
  SET_VECTOR_ELT(out, 0, allocVector(REALSXP, k));
  SET_VECTOR_ELT(out, 1, allocMatrix(REALSXP, d, k));
  SET_VECTOR_ELT(out, 2, gm_alloc_array3(d, k));
  double *mu = REAL(VECTOR_ELT(out, 1));
  memcpy(mu, mean, (size_t) d * k * sizeof(double));
  gm_suff_from_sums(d, k, stats, REAL(VECTOR_ELT(out, 0)), mu, REAL(VECTOR_ELT(out, 2)));
  UNPROTECT(1);
  return out;
}

/* gmm_fit(x, w, model, z0, par0, control, prior): one EM fit of one (K, model) cell.
 * Exactly one start is non-NULL: z0, for an M-step first, either n x K
 * responsibilities or their sufficient statistics list(nk, mean, scatter) (as
 * gmm_suff() and every fit return them); or par0 = list(pro, mean, sigma), for an
 * E-step first.  control and prior are as gm_ctrl_arg() reads them.  A fit that breaks
 * down is not an error: it returns status > 0 with the failing component and
 * iteration, for R to report.  A fit that did not break down also returns the
 * sufficient statistics of its final responsibilities, to start other models from. */
SEXP gmm_fit(SEXP x, SEXP w, SEXP model, SEXP z0, SEXP par0, SEXP control, SEXP prior)
{
  gm_data D;
  gm_data_arg(x, w, &D, 1);
  const int n = D.n, d = D.d;
  const gm_model *M = gm_model_arg(model, d);
  gm_ctrl C;
  gm_prior pr;
  gm_ctrl_arg(control, prior, d, &C, &pr);
  if ((z0 == R_NilValue) == (par0 == R_NilValue))
    error("exactly one of 'z0' and 'par0' must be given");

  int k;
  const int from_suff = TYPEOF(z0) == VECSXP;
  if (from_suff) {
    k = gm_suff_arg(z0, d);
  } else if (z0 != R_NilValue) {
    int nr;
    gm_matrix_dims(z0, "z0", &nr, &k);
    if (nr != n) error("'z0' must have %d rows", n);
  } else {
    if (TYPEOF(par0) != VECSXP || LENGTH(par0) != 3)
      error("'par0' must be list(pro, mean, sigma)");
    k = LENGTH(VECTOR_ELT(par0, 0));
    if (k < 1) error("'par0$pro' must not be empty");
  }

  const char *names[] = {"pro", "mean", "sigma", "z", "loglik", "trace", "iterations",
                         "converged", "status", "bad", "df", "bic", "inner_fail",
                         "inner_converged", "entropy", "suff", "degenerate", "value"};
  SEXP out = PROTECT(gm_new_list(names, 18));
  gm_par P;
  gm_par_alloc(out, d, k, &P);
  SEXP z = gm_alloc_rows(n, k);
  SET_VECTOR_ELT(out, 3, z);
  gm_mwork Wk;
  gm_mwork_alloc(&Wk, d, k, &C);
  gm_pass_work pw;
  gm_pass_alloc(&pw, n, d, k, C.threads);
  gm_pass_alloc_newton(&pw, d, k);
  gm_trace trace = {(double *) R_alloc((size_t) C.max_iter + 1, sizeof(double)), 0,
                    C.max_iter + 1};
  gm_start S = {GM_FROM_Z, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
  if (from_suff) {
    S.kind = GM_FROM_SUFF;
    S.nk = REAL(VECTOR_ELT(z0, 0));
    S.mean = REAL(VECTOR_ELT(z0, 1));
    S.W = REAL(VECTOR_ELT(z0, 2));
  } else if (z0 != R_NilValue) {
    S.z = REAL(z0);
    if (!gm_all_finite(S.z, (R_xlen_t) n * k, 1)) error("'z0' must be finite and non-negative");
  } else {
    /* validated copies, read back by gm_fit_core */
    par_copy_in(VECTOR_ELT(par0, 0), VECTOR_ELT(par0, 1), VECTOR_ELT(par0, 2), "par0$", &P);
    S.kind = GM_FROM_PAR;
    S.pro = P.pro;
    S.mean = P.mean;
    S.sigma = P.sigma;
  }
  const gm_run run = {0, NULL};
  gm_result res;
  gm_fit_core(&D, M, &S, &C, &run, &P, REAL(z), &Wk, &pw, &trace, &res);
  if (res.status) {  /* what a failed fit left half-written is not returned */
    for (int e = 0; e < 4; e++) fill_na(VECTOR_ELT(out, e));
    res.loglik = NA_REAL;
  }
  const int ntrace = res.status ? 0 : trace.len;
  SEXP tr = allocVector(REALSXP, ntrace);
  SET_VECTOR_ELT(out, 5, tr);
  if (ntrace) memcpy(REAL(tr), trace.v, ntrace * sizeof(double));
  const double df = gm_model_df(M, d, k);
  SET_VECTOR_ELT(out, 4, ScalarReal(res.loglik));
  SET_VECTOR_ELT(out, 6, ScalarInteger(res.iterations));
  SET_VECTOR_ELT(out, 7, ScalarLogical(res.converged));
  SET_VECTOR_ELT(out, 8, ScalarInteger(res.status));
  SET_VECTOR_ELT(out, 9, ScalarInteger(res.bad >= 0 ? res.bad + 1 : NA_INTEGER));
  SET_VECTOR_ELT(out, 10, ScalarReal(df));
  SET_VECTOR_ELT(out, 11, ScalarReal(res.status ? NA_REAL
                                     : -2.0 * res.loglik + df * log(D.wsum)));
  SET_VECTOR_ELT(out, 12, ScalarInteger(res.inner_fail));
  SET_VECTOR_ELT(out, 13, ScalarLogical(res.inner_last));
  SET_VECTOR_ELT(out, 14, ScalarReal(res.status ? NA_REAL : res.entropy));
  if (!res.status) SET_VECTOR_ELT(out, 15, suff_out(d, k, Wk.stats, P.mean));
  SEXP dg = allocVector(INTSXP, 2);
  SET_VECTOR_ELT(out, 16, dg);
  INTEGER(dg)[0] = res.deg;
  INTEGER(dg)[1] = res.deg_bad >= 0 ? res.deg_bad + 1 : NA_INTEGER;
  SET_VECTOR_ELT(out, 17, ScalarReal(res.deg_value));
  UNPROTECT(1);
  return out;
}

/* Validated copies of the given pro, mean and sigma (d columns, k components) in P,
 * held by par (a list of 3 the caller protects), with their Cholesky factors. */
static void par_given(SEXP par, SEXP pro, SEXP mean, SEXP sigma, int d, int k, gm_par *P)
{
  gm_par_alloc(par, d, k, P);
  par_copy_in(pro, mean, sigma, "", P);
  int bad = -1;
  if (gm_chol(d, k, P->sigma, P->chol, P->logdet, NULL, 0.0, &bad))
    error("the covariance matrix of component %d is not positive definite", bad + 1);
}

/* The rows of x (a finite double matrix), each of weight 1, as the test adaptors
 * below read them. */
static void unit_data(SEXP x, gm_data *D)
{
  gm_matrix_dims(x, "x", &D->n, &D->d);
  D->x = gm_finite_arg(x, "x");
  D->w = NULL;
  D->wsum = D->n;
  D->unit = 1;
  D->colvar = NULL;
  D->lab = NULL;
  D->ext = NULL;
}

/* gmm_estep(x, pro, mean, sigma): responsibilities and the log mixture density of
 * every row of x under the given parameters. */
SEXP gmm_estep(SEXP x, SEXP pro, SEXP mean, SEXP sigma)
{
  gm_data D;
  unit_data(x, &D);
  const int n = D.n, d = D.d;
  if (TYPEOF(pro) != REALSXP || LENGTH(pro) < 1) error("'pro' must be a double vector");
  const int k = LENGTH(pro);
  const char *names[] = {"z", "logdens"};
  SEXP out = PROTECT(gm_new_list(names, 2));
  SEXP z = gm_alloc_rows(n, k);
  SET_VECTOR_ELT(out, 0, z);
  SEXP logdens = allocVector(REALSXP, n);
  SET_VECTOR_ELT(out, 1, logdens);
  SEXP par = PROTECT(allocVector(VECSXP, 3));
  gm_par P;
  par_given(par, pro, mean, sigma, d, k, &P);
  double ll;
  gm_pass_work pw;
  gm_pass_alloc(&pw, n, d, k, 1);
  if (gm_pass(&D, &P, REAL(z), REAL(logdens), &ll, NULL, NULL, NULL, &pw))
    error("some rows are too far from every component for their density to be "
          "represented, even on the log scale");
  UNPROTECT(2);
  return out;
}

/* gmm_single_pass(x, pro, mean, sigma): for the tests, one EM pass in single precision
 * (estep.c) over the rows of x (one or two columns) at the given parameters:
 * list(ok, loglik, abs, nk, s, W) with abs the sum of the rows' |log p(x_i)| and the
 * M-step sums about the means (W symmetric), or ok = FALSE and NA when gm_single_ok()
 * declines the parameters, ok = NA when the pass is not finite in float. */
SEXP gmm_single_pass(SEXP x, SEXP pro, SEXP mean, SEXP sigma)
{
  gm_data D;
  unit_data(x, &D);
  if (D.d > 2) error("passes in single precision are for one or two columns");
  const int n = D.n, d = D.d;
  if (TYPEOF(pro) != REALSXP || LENGTH(pro) < 1) error("'pro' must be a double vector");
  const int k = LENGTH(pro);
  SEXP par = PROTECT(allocVector(VECSXP, 3));
  gm_par P;
  par_given(par, pro, mean, sigma, d, k, &P);
  gm_pass_work pw;
  gm_pass_alloc(&pw, n, d, k, 1);
  gm_single sg;
  gm_single_setup(&sg, &D);
  pw.single = &sg;
  const char *names[] = {"ok", "loglik", "abs", "nk", "s", "W"};
  SEXP out = PROTECT(gm_new_list(names, 6));
  const int ok = gm_single_ok(&D, &P, &pw);
  double ll = NA_REAL, *stats = (double *) R_alloc(gm_stats_len(d, k), sizeof(double));
  double abs = NA_REAL;
  const int status = ok ? gm_pass_single(&D, &P, &ll, &abs, stats, &pw) : GM_OK;
  SET_VECTOR_ELT(out, 0, ScalarLogical(!ok ? FALSE : status ? NA_LOGICAL : TRUE));
  SET_VECTOR_ELT(out, 1, ScalarReal(ok && !status ? ll : NA_REAL));
  SET_VECTOR_ELT(out, 2, ScalarReal(ok && !status ? abs : NA_REAL));
  if (ok && !status) {
    SEXP nk = allocVector(REALSXP, k);
    SET_VECTOR_ELT(out, 3, nk);
    SEXP s1 = allocMatrix(REALSXP, d, k);
    SET_VECTOR_ELT(out, 4, s1);
    SEXP W = alloc3DArray(REALSXP, d, d, k);
    SET_VECTOR_ELT(out, 5, W);
    memcpy(REAL(nk), stats + 1, k * sizeof(double));
    memcpy(REAL(s1), stats + 1 + k, (size_t) d * k * sizeof(double));
    const double *W0 = stats + 1 + k + (size_t) d * k;
    for (int c = 0; c < k; c++)
      for (int j = 0; j < d; j++)
        for (int l = 0; l < d; l++)
          REAL(W)[j + (size_t) l * d + (size_t) c * d * d] =
              W0[(j >= l ? j + (size_t) l * d : l + (size_t) j * d) + (size_t) c * d * d];
  }
  UNPROTECT(2);
  return out;
}

/* gmm_newton_system(x, w, pro, mean, sigma): for the tests, Newton's system (newton.c)
 * at the given parameters of the unconstrained model: list(theta, gradient, hessian,
 * info (I_c), centre, scale, loglik), in the coordinates y = (x - centre) * scale. */
SEXP gmm_newton_system(SEXP x, SEXP w, SEXP pro, SEXP mean, SEXP sigma)
{
  gm_data D;
  gm_data_arg(x, w, &D, 0);
  const int d = D.d;
  if (TYPEOF(pro) != REALSXP || LENGTH(pro) < 2) error("'pro' must be a double vector of length >= 2");
  const int k = LENGTH(pro);
  if (!gm_newton_fits(d, k)) error("Newton's steps do not run for %d columns and %d components", d, k);
  SEXP par = PROTECT(allocVector(VECSXP, 3));
  gm_par P;
  par_given(par, pro, mean, sigma, d, k, &P);
  gm_pass_work pw;
  gm_pass_alloc(&pw, D.n, d, k, 1);
  gm_pass_alloc_newton(&pw, d, k);
  gm_newton_begin(&P, &pw.hs);
  double *stats = (double *) R_alloc(gm_stats_len(d, k), sizeof(double)), ll;
  if (gm_pass(&D, &P, NULL, NULL, &ll, NULL, stats, NULL, &pw)) error("the pass failed");
  double *nt = (double *) R_alloc(gm_newton_len(d, k), sizeof(double));
  gm_newton_system(&P, stats, &pw.hs, nt);
  const int p = k - 1 + k * (d + d * (d + 1) / 2);
  const char *names[] = {"theta", "gradient", "hessian", "info", "centre", "scale", "loglik"};
  SEXP out = PROTECT(gm_new_list(names, 7));
  SEXP th = allocVector(REALSXP, p), g = allocVector(REALSXP, p);
  SET_VECTOR_ELT(out, 0, th);
  SET_VECTOR_ELT(out, 1, g);
  SEXP H = allocMatrix(REALSXP, p, p), Ic = allocMatrix(REALSXP, p, p);
  SET_VECTOR_ELT(out, 2, H);
  SET_VECTOR_ELT(out, 3, Ic);
  memcpy(REAL(th), nt, p * sizeof(double));
  memcpy(REAL(g), nt + p, p * sizeof(double));
  memcpy(REAL(H), nt + 3 * p, (size_t) p * p * sizeof(double));
  memcpy(REAL(Ic), nt + 3 * p + (size_t) p * p, (size_t) p * p * sizeof(double));
  SEXP cs = allocVector(REALSXP, d), sc = allocVector(REALSXP, d);
  SET_VECTOR_ELT(out, 4, cs);
  SET_VECTOR_ELT(out, 5, sc);
  memcpy(REAL(cs), pw.hs.c, d * sizeof(double));
  memcpy(REAL(sc), pw.hs.s, d * sizeof(double));
  SET_VECTOR_ELT(out, 6, ScalarReal(ll));
  UNPROTECT(2);
  return out;
}

/* gmm_mstep(x, w, z, model, control, prior): one M-step from a cold start, for the
 * tests to check each model's update against R.  Returns the parameters and a status
 * (with the failing component) instead of failing. */
SEXP gmm_mstep(SEXP x, SEXP w, SEXP z, SEXP model, SEXP control, SEXP prior)
{
  gm_data D;
  gm_data_arg(x, w, &D, 0);
  const int n = D.n, d = D.d;
  const gm_model *M = gm_model_arg(model, d);
  int nr, k;
  gm_matrix_dims(z, "z", &nr, &k);
  if (nr != n) error("'z' must have %d rows", n);
  gm_ctrl C;
  gm_prior pr;
  gm_ctrl_arg(control, prior, d, &C, &pr);

  const char *names[] = {"pro", "mean", "sigma", "status", "bad", "inner_converged"};
  SEXP out = PROTECT(gm_new_list(names, 6));
  gm_par P;
  gm_par_alloc(out, d, k, &P);
  gm_mwork Wk;
  gm_mwork_alloc(&Wk, d, k, &C);
  gm_pass_work pw;
  gm_pass_alloc(&pw, n, d, k, 1);
  int bad = -1;
  int status = gm_mstep(&D, gm_finite_arg(z, "z"), M, &P, &C, &Wk, &pw, &bad);
  if (status == GM_COLLAPSE)
    for (int e = 0; e < 3; e++) fill_na(VECTOR_ELT(out, e));
  SET_VECTOR_ELT(out, 3, ScalarInteger(status));
  SET_VECTOR_ELT(out, 4, ScalarInteger(bad >= 0 ? bad + 1 : NA_INTEGER));
  SET_VECTOR_ELT(out, 5, ScalarLogical(Wk.cov.inner_ok));
  UNPROTECT(1);
  return out;
}

/* The sufficient statistics list(nk, mean, scatter) of responsibilities zp (n x k). */
static SEXP suff_list(const gm_data *D, const double *zp, int k)
{
  const int d = D->d;
  const char *names[] = {"nk", "mean", "scatter"};
  SEXP out = PROTECT(gm_new_list(names, 3));
  SET_VECTOR_ELT(out, 0, allocVector(REALSXP, k));
  SET_VECTOR_ELT(out, 1, allocMatrix(REALSXP, d, k));
  SET_VECTOR_ELT(out, 2, gm_alloc_array3(d, k));
  gm_pass_work pw;
  gm_pass_alloc(&pw, D->n, d, k, 1);
  double *stats = (double *) R_alloc(1 + (size_t) k * (1 + d + (size_t) d * d), sizeof(double));
  gm_suff_from_z(D, zp, k, REAL(VECTOR_ELT(out, 0)), REAL(VECTOR_ELT(out, 1)),
                 REAL(VECTOR_ELT(out, 2)), stats, &pw);
  UNPROTECT(1);
  return out;
}

/* The sufficient statistics list(nk, mean, scatter) of the partition of the rows into
 * groups g[i] in 0 .. k - 1, as suff_list() gives them for its 0/1 indicators: the
 * sizes and means, then the sums about those means, which suff_out() turns into the
 * scatter about the corrected means.  Two passes over the rows, each row
 * added to its own group only, so no n x k matrix of indicators is formed. */
static SEXP part_suff_list(const gm_data *D, const int *g, int k)
{
  const int n = D->n, d = D->d;
  const size_t slen = 1 + (size_t) k * (1 + d + (size_t) d * d);
  double *stats = (double *) R_alloc(slen, sizeof(double)), *r = (double *) R_alloc(d, sizeof(double));
  double *nk = (double *) R_alloc(k, sizeof(double));
  double *mean = (double *) R_alloc((size_t) d * k, sizeof(double));
  memset(stats, 0, slen * sizeof(double));
  memset(nk, 0, k * sizeof(double));
  memset(mean, 0, (size_t) d * k * sizeof(double));
  for (int i = 0; i < n; i++) {
    const int c = g[i];
    nk[c] += D->w[i];
    for (int j = 0; j < d; j++) mean[j + (size_t) c * d] += D->w[i] * D->x[i + (size_t) j * n];
  }
  for (int c = 0; c < k; c++)
    for (int j = 0; j < d; j++)
      mean[j + (size_t) c * d] = nk[c] > 0.0 ? mean[j + (size_t) c * d] / nk[c] : 0.0;
  double *n1 = stats + 1, *s1 = n1 + k, *W0 = s1 + (size_t) k * d;
  for (int i = 0; i < n; i++) {
    const int c = g[i];
    const double wi = D->w[i];
    double *s = s1 + (size_t) c * d, *W = W0 + (size_t) c * d * d;
    n1[c] += wi;
    for (int j = 0; j < d; j++) {
      r[j] = D->x[i + (size_t) j * n] - mean[j + (size_t) c * d];
      s[j] += wi * r[j];
      for (int l = 0; l <= j; l++) W[j + (size_t) l * d] += wi * r[j] * r[l];
    }
  }
  return suff_out(d, k, stats, mean);
}

/* Checks the numbers of groups k: positive integers, at least one. */
static void check_ks(SEXP kk)
{
  if (TYPEOF(kk) != INTSXP || LENGTH(kk) < 1) error("'k' must be positive integers");
  for (int j = 0; j < LENGTH(kk); j++)
    if (INTEGER(kk)[j] == NA_INTEGER || INTEGER(kk)[j] < 1) error("'k' must be positive integers");
}

/* gmm_suff(x, w, z, k): the sufficient statistics list(nk, mean, scatter) of
 * responsibilities z (an n x k matrix; k NULL); or, to start every model of a K from
 * one partition, a list of those of the partitions in the columns of z (an integer
 * n x m matrix or, m = 1, vector; column j into groups 1 .. k[j]), each from its
 * groups (part_suff_list).  One call serves every K of a tree. */
SEXP gmm_suff(SEXP x, SEXP w, SEXP z, SEXP kk)
{
  gm_data D;
  gm_data_arg(x, w, &D, 0);
  if (kk == R_NilValue) {
    int nr, k;
    gm_matrix_dims(z, "z", &nr, &k);
    if (nr != D.n) error("'z' must have %d rows", D.n);
    if (!gm_all_finite(REAL(z), (R_xlen_t) nr * k, 1)) error("'z' must be finite and non-negative");
    return suff_list(&D, REAL(z), k);
  }
  check_ks(kk);
  const int m = LENGTH(kk);
  if (TYPEOF(z) != INTSXP || XLENGTH(z) != (R_xlen_t) D.n * m)
    error("the groups 'z' must be an integer matrix of %d rows and %d columns", D.n, m);
  for (int j = 0; j < m; j++) {
    const int k = INTEGER(kk)[j], *g = INTEGER(z) + (size_t) j * D.n;
    for (int i = 0; i < D.n; i++)
      if (g[i] < 1 || g[i] > k) error("the groups 'z' must be in 1 .. %d", k);
  }
  int *g0 = (int *) R_alloc(D.n, sizeof(int));
  SEXP out = PROTECT(allocVector(VECSXP, m));
  for (int j = 0; j < m; j++) {
    const int k = INTEGER(kk)[j], *g = INTEGER(z) + (size_t) j * D.n;
    for (int i = 0; i < D.n; i++) g0[i] = g[i] - 1;
    SET_VECTOR_ELT(out, j, part_suff_list(&D, g0, k));
  }
  UNPROTECT(1);
  return out;
}

/* gmm_quantile_suff(x, w, mid, k): for 1-D starts, a list of the sufficient statistics
 * of the partitions of the rows into k[j] groups of equal weight by quantiles: row i
 * (at mid[i] in (0, 1), the midpoint of its weight in the cumulative weights of the
 * sorted values) goes to group min(k, 1 + floor(k mid[i])).  The groups are formed
 * here, one k at a time, so that R holds no n x length(k) matrix of them, and their
 * statistics come from part_suff_list(). */
SEXP gmm_quantile_suff(SEXP x, SEXP w, SEXP mid, SEXP kk)
{
  gm_data D;
  gm_data_arg(x, w, &D, 0);
  check_ks(kk);
  const int m = LENGTH(kk);
  if (TYPEOF(mid) != REALSXP || XLENGTH(mid) != D.n) error("'mid' must be a double vector of length %d", D.n);
  const double *q = REAL(mid);
  for (int i = 0; i < D.n; i++)
    if (!(q[i] >= 0.0 && q[i] <= 1.0)) error("'mid' must be in [0, 1]");
  int *g0 = (int *) R_alloc(D.n, sizeof(int));
  SEXP out = PROTECT(allocVector(VECSXP, m));
  for (int j = 0; j < m; j++) {
    const int k = INTEGER(kk)[j];
    for (int i = 0; i < D.n; i++) {
      const double g = floor((double) k * q[i]);   /* 0 .. k */
      g0[i] = g < k - 1 ? (int) g : k - 1;
    }
    SET_VECTOR_ELT(out, j, part_suff_list(&D, g0, k));
  }
  UNPROTECT(1);
  return out;
}

/* gmm_models(): the names of the models the C core implements, and whether each is
 * for multivariate data; the tests check that R's model table agrees. */
SEXP gmm_models(void)
{
  const int m = gm_model_count();
  const char *names[] = {"name", "multivariate"};
  SEXP out = PROTECT(gm_new_list(names, 2));
  SEXP nm = allocVector(STRSXP, m);
  SET_VECTOR_ELT(out, 0, nm);
  SEXP mv = allocVector(LGLSXP, m);
  SET_VECTOR_ELT(out, 1, mv);
  for (int i = 0; i < m; i++) {
    SET_STRING_ELT(nm, i, mkChar(gm_model_at(i)->name));
    LOGICAL(mv)[i] = gm_model_at(i)->multivariate;
  }
  UNPROTECT(1);
  return out;
}

/* gmm_df(model, d, k): free parameters of a K-component mixture of that model. */
SEXP gmm_df(SEXP model, SEXP d, SEXP k)
{
  if (TYPEOF(d) != INTSXP || LENGTH(d) != 1 || TYPEOF(k) != INTSXP || LENGTH(k) != 1)
    error("'d' and 'k' must be single integers");
  const int dd = INTEGER(d)[0], kk = INTEGER(k)[0];
  if (dd < 1 || kk < 1) error("'d' and 'k' must be positive");
  const gm_model *M = gm_model_arg(model, dd);
  return ScalarReal(gm_model_df(M, dd, kk));
}

/* gmm_layout(n): how a pass splits n rows (a whole number from 1 to INT_MAX, R's
 * largest row count) into blocks and chunks, for the tests to check the index
 * arithmetic near INT_MAX without allocating such data: list(blocks, first (the
 * first block of each chunk, and one past the last), start (first row of the last
 * block, 0-based), rows (in the last block) and block (rows per block)). */
SEXP gmm_layout(SEXP n)
{
  if (TYPEOF(n) != REALSXP || LENGTH(n) != 1 || !(REAL(n)[0] >= 1.0) ||
      REAL(n)[0] > INT_MAX || REAL(n)[0] != floor(REAL(n)[0]))
    error("'n' must be a whole number from 1 to %d", INT_MAX);
  const int nn = (int) REAL(n)[0], nblocks = gm_nblocks(nn);
  const int nchunk = gm_nchunks(nblocks);
  const char *names[] = {"blocks", "first", "start", "rows", "block"};
  SEXP out = PROTECT(gm_new_list(names, 5));
  SEXP first = allocVector(REALSXP, nchunk + 1);
  SET_VECTOR_ELT(out, 1, first);
  int b0 = 0, b1 = 0;
  for (int ch = 0; ch < nchunk; ch++) {
    gm_chunk_blocks(nblocks, nchunk, ch, &b0, &b1);
    REAL(first)[ch] = b0;
  }
  REAL(first)[nchunk] = b1;
  const R_xlen_t start = (R_xlen_t) (b1 - 1) * GM_BLOCK;
  SET_VECTOR_ELT(out, 0, ScalarReal(nblocks));
  SET_VECTOR_ELT(out, 2, ScalarReal((double) start));
  SET_VECTOR_ELT(out, 3, ScalarReal((double) (nn - start)));
  SET_VECTOR_ELT(out, 4, ScalarReal(GM_BLOCK));
  UNPROTECT(1);
  return out;
}

/* gmm_finite(x): whether every element of the double vector x is finite, in one
 * vectorised pass (R's is.finite() would allocate a logical copy of x). */
SEXP gmm_finite(SEXP x)
{
  if (TYPEOF(x) != REALSXP) error("'x' must be a double vector");
  return ScalarLogical(gm_all_finite(REAL(x), XLENGTH(x), 0));
}

/* gmm_colstats(x, w): for the rows of positive weight of the finite matrix x, whether
 * each column is constant and its variance weighted by w (divisor sum(w)), in one pass
 * per column. */
SEXP gmm_colstats(SEXP x, SEXP w)
{
  gm_data D;
  gm_data_arg(x, w, &D, 0);
  const int n = D.n, d = D.d;
  const char *names[] = {"constant", "var"};
  SEXP out = PROTECT(gm_new_list(names, 2));
  SEXP cst = allocVector(LGLSXP, d);
  SET_VECTOR_ELT(out, 0, cst);
  SEXP var = allocVector(REALSXP, d);
  SET_VECTOR_ELT(out, 1, var);
  int first = 0;
  while (first < n && !(D.w[first] > 0.0)) first++;
  gm_column_variances(&D, REAL(var));
  for (int j = 0; j < d; j++) {
    const double *xj = D.x + (size_t) j * n, x0 = first < n ? xj[first] : 0.0;
    int same = 1;
    for (int i = 0; i < n && same; i++) same = !(D.w[i] > 0.0) || xj[i] == x0;
    LOGICAL(cst)[j] = same;
  }
  UNPROTECT(1);
  return out;
}

/* gmm_distinct(x, w, enough): the number of distinct rows of x among the rows of
 * positive weight, counted in one pass with a hash table until it exceeds `enough`
 * (then it stops, and the count returned is enough + 1): the spurious-fit rule only
 * asks whether a cell's free parameters reach it.  Rows are equal when every value
 * is (0 and -0 alike). */
SEXP gmm_distinct(SEXP x, SEXP w, SEXP enough)
{
  gm_data D;
  gm_data_arg(x, w, &D, 0);
  const int n = D.n, d = D.d;
  const double e = asReal(enough);
  if (!(e >= 0.0)) error("'enough' must be a non-negative number");
  const int cap = e >= n ? n : (int) e;
  size_t size = 2;
  while (size < 2 * ((size_t) cap + 1)) size <<= 1;
  const size_t mask = size - 1;
  int *slot = (int *) R_alloc(size, sizeof(int));
  for (size_t s = 0; s < size; s++) slot[s] = -1;
  int count = 0;
  for (int i = 0; i < n && count <= cap; i++) {
    if (!(D.w[i] > 0.0)) continue;
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a over the values' bits */
    for (int j = 0; j < d; j++) {
      const double v = D.x[i + (size_t) j * n] + 0.0;   /* -0 becomes 0 */
      uint64_t bits;
      memcpy(&bits, &v, sizeof bits);
      h = (h ^ bits) * 1099511628211ULL;
      h ^= h >> 29;
    }
    size_t s = (size_t) h & mask;
    int dup = 0;
    for (; slot[s] >= 0; s = (s + 1) & mask) {
      const int r = slot[s];
      int same = 1;
      for (int j = 0; j < d && same; j++) same = D.x[i + (size_t) j * n] == D.x[r + (size_t) j * n];
      if (same) {
        dup = 1;
        break;
      }
    }
    if (dup) continue;
    slot[s] = i;
    count++;
  }
  return ScalarInteger(count);
}
