/* The K x model sweep: every cell's fits from its starts, the cross starts, the
 * refinement of the best cells and the choice by BIC, in one .Call.
 *
 * R prepares the starts of each K (partitions as sufficient statistics, or
 * parameters) and says which cells may be fitted; this file runs the fits and keeps,
 * per cell, the best one.  The sweep goes in phases, each a set of independent tasks
 * (one per cell), run on the thread pool:
 *
 *   1. every cell from every start of its K, keeping the highest log-likelihood (or
 *      the reason the first start failed);
 *   2. cross starts (K > 1): the responsibilities of the K's fit with the smallest BIC
 *      and of the one with the largest log-likelihood start every other model of that
 *      K once more; a cell keeps the result when it is higher (a cell that failed
 *      takes the first that works);
 *   3. when there is more than one fit to compare (cells, or starts of one cell) and
 *      screen_tol > tol, phases 1 and 2 run to screen_tol (for one or two columns
 *      with their passes in float where estep.c allows it), and the cells whose
 *      criterion (BIC, ICL or AIC, the one the choice is by) is within refine_bic of
 *      the best continue to tol from their parameters (a cell that breaks down on the
 *      way fails);
 *   4. the cell with the smallest criterion is chosen; if it was not refined (its
 *      refined rivals all broke down), it is refined in turn, until a refined cell is
 *      best.
 *
 * With few rows (n * K small) a phase's cells run side by side, one per thread, each
 * fit on one thread; otherwise the cells run one after the other and each pass splits
 * its rows over the threads.  Either way every fit gives the same bits as on one
 * thread: a pass sums its rows in fixed chunks in a fixed order, a cell's fits run in
 * a fixed order, and the phases combine the cells in a fixed order.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "gaussmix.h"

/* Cells run side by side when every thread can hold an n x K responsibility matrix of
 * this many doubles or fewer (32 MB). */
#define GM_CELLS_NK 4e6
/* A pass splits its rows over the threads only when it has about this much work
 * (n K (d^2 + 8), in multiply-adds: a few hundred microseconds); smaller passes would
 * spend more on waking threads than they gain. */
#define GM_PASS_WORK 1e6

typedef struct {
  int kind;             /* GM_FROM_SUFF (on all rows or the subset) or GM_FROM_PAR */
  int sub;
  const double *a, *b, *c;   /* nk, mean, scatter; or pro, mean, sigma */
} sw_start;

typedef struct {
  int row, col, k;
  const gm_model *M;
  int fit;              /* to be fitted (R's df rule) */
  int ok;               /* holds a fit */
  int refined;
  /* the fit it holds */
  int iterations, converged, inner_fail, inner_last, deg, deg_bad;
  double loglik, entropy, bic, deg_value;   /* in the units of the user's weights */
  double *pro, *mean, *sigma;               /* its parameters */
  double *snk, *smean, *sW;                 /* sufficient statistics of its responsibilities */
  double snoise;                            /* and the noise's weighted size */
  double *trace;                            /* malloc'd, internal units */
  int ntrace;
  int origin;           /* 1-based start, or -(column) of the model whose fit started it */
  int nscreen;          /* trace entries before the refinement to tol, or -1 */
  /* why it failed, when it holds no fit */
  int fstatus, fbad, fiter, frefining;
  double fvalue;
} sw_cell;

/* One thread's workspace, for fits of up to kmax components. */
typedef struct {
  gm_par P;
  gm_mwork Wk;
  gm_pass_work pw;
  gm_trace trace;
} sw_thread;

typedef struct {
  gm_data D, sub;
  SEXP xs, labs;        /* x and the labels (or R_NilValue), for z */
  SEXP rownames;        /* x's row names, or R_NilValue: given to z, classification
                         * and uncertainty */
  int have_sub;
  int nk, nm, kmax, threads;
  const int *ks;
  sw_cell *cells;       /* nk x nm, column-major */
  sw_start **starts;    /* per K row */
  int *nstarts;
  gm_prior *priors;     /* per K row */
  int *has_prior;
  gm_ctrl C;            /* the final tolerance */
  double screen_tol, refine_bic, scale, logn;
  int crit;             /* the criterion the choice is by: 0 BIC, 1 ICL, 2 AIC */
  int noise;            /* a uniform noise component in every fit */
  double lognoise;      /* its log density */
  double noise_nk0;     /* the weighted size of the rows the starts put in it */
  double *dnoise;       /* nk x 2: the donors' noise sizes */
  int screening, cross;
  gm_single single;     /* the rows in float, for screening passes (single.xf NULL: none) */
  sw_thread *T;
  int side_ok;          /* a workspace per thread: phases may run cells side by side */
  int side;             /* the current phase runs cells side by side */
  int abort;
  int overflow;
  /* phase 2: the donors of each K row (columns, -1 for none) and their statistics */
  int *donor;           /* nk x 2 */
  double *dsuff;        /* nk x 2 copies of (nk, mean, scatter) */
  /* the current phase's tasks */
  int phase, ntask, *task;
  /* progress: an R function(phase, done, total), or R_NilValue */
  SEXP progress;
  int done;             /* tasks of the phase finished (atomic) */
  double last;          /* when progress was last called (seconds) */
} sw_sweep;

static sw_cell *cell_at(sw_sweep *S, int row, int col) { return S->cells + row + (size_t) col * S->nk; }

static size_t suff_len(int d, int k) { return (size_t) k * (1 + d + (size_t) d * d); }

/* Runs one fit on thread `th` of the sweep; the result is in T->P and T->Wk.stats. */
static void run_fit(sw_sweep *S, int th, const sw_cell *c, const gm_start *st, double tol,
                    int max_iter, gm_result *res)
{
  sw_thread *T = S->T + th;
  gm_ctrl C = S->C;
  C.tol = tol;
  C.max_iter = max_iter;
  C.prior = S->has_prior[c->row] ? S->priors + c->row : NULL;
  T->P.k = c->k;
  /* screening fits may run their passes in float (estep.c) */
  T->pw.single = S->screening && tol == S->screen_tol && S->single.xf ? &S->single : NULL;
  const gm_run run = {th, &S->abort};
  gm_fit_core(&S->D, c->M, st, &C, &run, &T->P, NULL, &T->Wk, &T->pw, &T->trace, res);
}

/* The fit on thread th becomes the cell's: parameters, sufficient statistics of its
 * responsibilities, scalars in the user's units.  With `continues` (a refinement) the
 * fit continues the cell's trace, without repeating its start, and adds to its counts. */
static void keep_fit(sw_sweep *S, int th, sw_cell *c, const gm_result *res, int origin,
                     int continues)
{
  const sw_thread *T = S->T + th;
  const int d = S->D.d, k = c->k;
  memcpy(c->pro, T->P.pro, (k + S->noise) * sizeof(double));
  c->snoise = T->Wk.noise_nk;
  memcpy(c->mean, T->P.mean, (size_t) d * k * sizeof(double));
  memcpy(c->sigma, T->P.sigma, (size_t) d * d * k * sizeof(double));
  memcpy(c->smean, T->P.mean, (size_t) d * k * sizeof(double));
  gm_suff_from_sums(d, k, T->Wk.stats, c->snk, c->smean, c->sW);
  const int add = continues ? T->trace.len - 1 : T->trace.len;
  const int base = continues ? c->ntrace : 0;
  double *tr = (double *) realloc(continues ? c->trace : NULL, (base + add) * sizeof(double));
  if (!tr) {   /* keep what there is; the trace is for display */
    c->ntrace = base;
  } else {
    if (!continues) free(c->trace);
    memcpy(tr + base, T->trace.v + (continues ? 1 : 0), add * sizeof(double));
    c->trace = tr;
    c->ntrace = base + add;
  }
  const double df = gm_model_df(c->M, d, k) + 2.0 * S->noise;   /* noise: its proportion and the region's volume */
  c->ok = 1;
  c->loglik = S->scale * res->loglik;
  if (!isfinite(c->loglik))   /* read by thread 0 after the phase */
    __atomic_store_n(&S->overflow, 1, __ATOMIC_RELAXED);
  c->entropy = S->scale * res->entropy;
  c->bic = -2.0 * c->loglik + df * S->logn;
  c->iterations = continues ? c->iterations + res->iterations : res->iterations;
  c->inner_fail = continues ? c->inner_fail + res->inner_fail : res->inner_fail;
  c->converged = res->converged;
  c->inner_last = res->inner_last;
  c->deg = res->deg;
  c->deg_bad = res->deg_bad;
  c->deg_value = res->deg_value;
  if (!continues) {
    c->origin = origin;
    c->nscreen = -1;
  }
}

static void note_failure(sw_cell *c, const gm_result *res, int refining, int iter_before)
{
  c->fstatus = res->status;
  c->fbad = res->bad;
  c->fiter = iter_before + res->iterations;
  c->fvalue = res->deg_value;
  c->frefining = refining;
}

/* ---- the tasks of each phase ------------------------------------------------ */

static void start_of(const sw_sweep *S, const sw_start *s, gm_start *st)
{
  memset(st, 0, sizeof *st);
  st->kind = s->kind;
  if (s->kind == GM_FROM_SUFF) {
    st->nk = s->a;
    st->mean = s->b;
    st->W = s->c;
    st->sub = s->sub ? &S->sub : NULL;
    st->noise_nk = S->noise_nk0;
  } else {
    st->pro = s->a;
    st->mean = s->b;
    st->sigma = s->c;
  }
}

/* Phase 1: a cell from every start of its K. */
static void task_starts(sw_sweep *S, sw_cell *c, int th)
{
  const double tol = S->screening ? S->screen_tol : S->C.tol;
  for (int s = 0; s < S->nstarts[c->row]; s++) {
    if (__atomic_load_n(&S->abort, __ATOMIC_RELAXED)) return;
    gm_start st;
    start_of(S, S->starts[c->row] + s, &st);
    gm_result res;
    run_fit(S, th, c, &st, tol, S->C.max_iter, &res);
    if (res.status == GM_ABORT) return;
    if (res.status == GM_OK) {
      if (!c->ok || S->scale * res.loglik > c->loglik) keep_fit(S, th, c, &res, s + 1, 0);
    } else if (!c->ok && c->fstatus == GM_OK) {
      note_failure(c, &res, 0, 0);
    }
  }
}

/* Phase 2: a cell from the fits of the K's donors. */
static void task_cross(sw_sweep *S, sw_cell *c, int th)
{
  const int d = S->D.d, k = c->k;
  const double tol = S->screening ? S->screen_tol : S->C.tol;
  for (int j = 0; j < 2; j++) {
    const int col = S->donor[c->row + (size_t) j * S->nk];
    if (col < 0 || col == c->col) continue;
    if (__atomic_load_n(&S->abort, __ATOMIC_RELAXED)) return;
    const double *ds = S->dsuff + ((size_t) c->row + (size_t) j * S->nk) * suff_len(d, S->kmax);
    gm_start st;
    memset(&st, 0, sizeof st);
    st.kind = GM_FROM_SUFF;
    st.nk = ds;
    st.mean = ds + k;
    st.W = ds + k + (size_t) d * k;
    st.noise_nk = S->dnoise[c->row + (size_t) j * S->nk];
    gm_result res;
    run_fit(S, th, c, &st, tol, S->C.max_iter, &res);
    if (res.status == GM_ABORT) return;
    if (res.status != GM_OK) continue;
    if (!c->ok) {   /* a failed cell takes the first donor that works */
      keep_fit(S, th, c, &res, -(col + 1), 0);
      c->fstatus = GM_OK;
      break;
    }
    if (S->scale * res.loglik > c->loglik) keep_fit(S, th, c, &res, -(col + 1), 0);
  }
}

/* Phases 3 and 4: a screened cell continued to tol, within what is left of max_iter. */
static void task_refine(sw_sweep *S, sw_cell *c, int th)
{
  gm_start st;
  memset(&st, 0, sizeof st);
  st.kind = GM_FROM_PAR;
  st.pro = c->pro;
  st.mean = c->mean;
  st.sigma = c->sigma;
  st.settled = c->converged && S->screen_tol <= S->C.accel;
  const int left = S->C.max_iter > c->iterations ? S->C.max_iter - c->iterations : 0;
  gm_result res;
  run_fit(S, th, c, &st, S->C.tol, left, &res);
  if (res.status == GM_ABORT) return;
  if (res.status != GM_OK) {
    c->ok = 0;
    note_failure(c, &res, 1, c->iterations);
    return;
  }
  const int before = c->ntrace;
  keep_fit(S, th, c, &res, 0, 1);
  c->nscreen = before;
  c->refined = 1;
}

/* ---- progress ----------------------------------------------------------------- */

static double now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Calls R's progress(phase, done, total), on thread 0 only, at most every 0.2 s
 * unless `force` (the end of a phase).  The function decides whether to show
 * anything; an error or interrupt in it ends the sweep as any other would. */
static void report(sw_sweep *S, int force)
{
  if (S->progress == R_NilValue) return;
  const double t = now_seconds();
  if (!force && t - S->last < 0.2) return;
  S->last = t;
  SEXP call = PROTECT(lang4(S->progress, ScalarInteger(S->phase),
                            ScalarInteger(__atomic_load_n(&S->done, __ATOMIC_RELAXED)),
                            ScalarInteger(S->ntask)));
  eval(call, R_GlobalEnv);
  UNPROTECT(1);
}

static void phase_task(void *arg, int t, int th)
{
  sw_sweep *S = (sw_sweep *) arg;
  if (__atomic_load_n(&S->abort, __ATOMIC_RELAXED)) return;
  sw_cell *c = S->cells + S->task[t];
  switch (S->phase) {
  case 1: task_starts(S, c, th); break;
  case 2: task_cross(S, c, th); break;
  default: task_refine(S, c, th); break;
  }
  __atomic_fetch_add(&S->done, 1, __ATOMIC_RELAXED);
  if (th == 0) report(S, 0);
}

/* The sweep whose phase thread 0 is waiting on, for the idle callback (gm_parallel's
 * takes no argument; one sweep runs at a time, from R's thread). */
static sw_sweep *waiting_sweep;

static void check_interrupt(void)
{
  R_CheckUserInterrupt();
  if (waiting_sweep) report(waiting_sweep, 0);
}

/* Runs the current phase's tasks: side by side when rows are few, else one after the
 * other with the rows of each pass split over the threads (see the constants above). */
static void run_phase(sw_sweep *S)
{
  if (!S->ntask) return;
  S->done = 0;
  if (S->side_ok && S->ntask > 1) {
    /* Largest first (Graham's LPT rule), so that the phase does not end with a large
     * cell running alone: by K, stably.  Each cell's fit is the same whichever thread
     * runs it and whenever, so the order changes only the time. */
    for (int t = 1; t < S->ntask; t++) {
      const int v = S->task[t], kv = S->cells[v].k;
      int u = t;
      for (; u > 0 && S->cells[S->task[u - 1]].k < kv; u--) S->task[u] = S->task[u - 1];
      S->task[u] = v;
    }
    S->side = 1;
    S->T[0].pw.nthreads = 1;
    waiting_sweep = S;
    gm_parallel(S->threads, S->ntask, phase_task, S, check_interrupt);
    waiting_sweep = NULL;
    S->side = 0;
  } else {
    for (int t = 0; t < S->ntask; t++) {
      const sw_cell *c = S->cells + S->task[t];
      const double work = (double) S->D.n * c->k * ((double) S->D.d * S->D.d + 8.0);
      S->T[0].pw.nthreads = work >= GM_PASS_WORK ? S->threads : 1;
      if (S->T[0].pw.nthreads > S->T[0].pw.nchunk) S->T[0].pw.nthreads = S->T[0].pw.nchunk;
      phase_task(S, t, 0);
    }
  }
  report(S, 1);
  if (S->overflow)
    error("the log-likelihood weighted by `weights` overflows; rescale them.");
}

/* ---- the sweep ----------------------------------------------------------------- */

static void choose_donors(sw_sweep *S)
{
  const int d = S->D.d;
  for (int r = 0; r < S->nk; r++) {
    int by_bic = -1, by_ll = -1;
    for (int m = 0; m < S->nm; m++) {
      const sw_cell *c = cell_at(S, r, m);
      if (!c->ok) continue;
      if (by_bic < 0 || c->bic < cell_at(S, r, by_bic)->bic) by_bic = m;
      if (by_ll < 0 || c->loglik > cell_at(S, r, by_ll)->loglik) by_ll = m;
    }
    S->donor[r] = by_bic;
    S->donor[r + (size_t) S->nk] = by_ll == by_bic ? -1 : by_ll;
    for (int j = 0; j < 2; j++) {
      const int col = S->donor[r + (size_t) j * S->nk];
      if (col < 0) continue;
      const sw_cell *c = cell_at(S, r, col);
      const int k = c->k;
      double *ds = S->dsuff + ((size_t) r + (size_t) j * S->nk) * suff_len(d, S->kmax);
      memcpy(ds, c->snk, k * sizeof(double));
      memcpy(ds + k, c->smean, (size_t) d * k * sizeof(double));
      memcpy(ds + k + (size_t) d * k, c->sW, (size_t) d * d * k * sizeof(double));
      S->dnoise[r + (size_t) j * S->nk] = c->snoise;
    }
  }
}

/* A fitted cell's value of the criterion the choice is by, in R's sign (smaller is
 * better): BIC; ICL, BIC plus twice the entropy of the responsibilities; or AIC. */
static double criterion(const sw_sweep *S, const sw_cell *c)
{
  switch (S->crit) {
  case 1: return c->bic + 2.0 * c->entropy;
  case 2: return -2.0 * c->loglik + 2.0 * (gm_model_df(c->M, S->D.d, c->k) + 2.0 * S->noise);
  default: return c->bic;
  }
}

/* The cell (index) with the smallest criterion, the first in K-then-model order on ties;
 * -1 when none holds a fit. */
static int best_cell(const sw_sweep *S)
{
  int best = -1;
  for (int r = 0; r < S->nk; r++)
    for (int m = 0; m < S->nm; m++) {
      const int i = r + m * S->nk;
      if (S->cells[i].ok &&
          (best < 0 || criterion(S, S->cells + i) < criterion(S, S->cells + best)))
        best = i;
    }
  return best;
}

static SEXP sweep_out(sw_sweep *S, int best);

static SEXP sweep_body(void *arg)
{
  sw_sweep *S = (sw_sweep *) arg;
  const int ncell = S->nk * S->nm;
  S->task = (int *) R_alloc(ncell, sizeof(int));
  /* 1: every cell from its starts */
  S->phase = 1;
  S->ntask = 0;
  for (int i = 0; i < ncell; i++)
    if (S->cells[i].fit) S->task[S->ntask++] = i;
  run_phase(S);
  /* 2: cross starts */
  if (S->cross) {
    choose_donors(S);
    S->phase = 2;
    S->ntask = 0;
    for (int r = 0; r < S->nk; r++) {
      int nfit = 0;
      for (int m = 0; m < S->nm; m++) nfit += cell_at(S, r, m)->fit;
      if (S->ks[r] < 2 || nfit < 2 || S->donor[r] < 0) continue;
      for (int m = 0; m < S->nm; m++)
        if (cell_at(S, r, m)->fit) S->task[S->ntask++] = r + m * S->nk;
    }
    run_phase(S);
  }
  /* 3: refine the cells near the best */
  int best = best_cell(S);
  if (S->screening && best >= 0) {
    const double cut = criterion(S, S->cells + best) + S->refine_bic;
    S->phase = 3;
    S->ntask = 0;
    for (int i = 0; i < ncell; i++)
      if (S->cells[i].ok && criterion(S, S->cells + i) <= cut) S->task[S->ntask++] = i;
    run_phase(S);
  }
  /* 4: the choice, always of a cell refined to tol */
  for (;;) {
    best = best_cell(S);
    if (best < 0 || !S->screening || S->cells[best].refined) break;
    S->phase = 4;
    S->ntask = 1;
    S->task[0] = best;
    run_phase(S);
  }
  return sweep_out(S, best);
}

/* Runs when the body returns, or when it jumps out (an interrupt or an error): then
 * the other threads are told to stop and waited for (they stop at their next
 * iteration) before what they use is released. */
static void sweep_cleanup(void *arg, Rboolean jump)
{
  sw_sweep *S = (sw_sweep *) arg;
  waiting_sweep = NULL;
  if (jump) {
    __atomic_store_n(&S->abort, 1, __ATOMIC_RELAXED);
    gm_pool_wait();
  }
  for (int i = 0; i < S->nk * S->nm; i++) {
    free(S->cells[i].trace);
    S->cells[i].trace = NULL;
  }
}

/* ---- arguments and result ------------------------------------------------------ */

static void starts_arg(SEXP starts, sw_sweep *S)
{
  const int d = S->D.d;
  if (TYPEOF(starts) != VECSXP || LENGTH(starts) != S->nk)
    error("'starts' must be a list with one element per K");
  S->starts = (sw_start **) R_alloc(S->nk, sizeof(sw_start *));
  S->nstarts = (int *) R_alloc(S->nk, sizeof(int));
  for (int r = 0; r < S->nk; r++) {
    SEXP sr = VECTOR_ELT(starts, r);
    if (TYPEOF(sr) != VECSXP) error("'starts[[%d]]' must be a list", r + 1);
    const int ns = LENGTH(sr), k = S->ks[r];
    if (ns < 1) error("'starts[[%d]]' must hold at least one start", r + 1);
    S->nstarts[r] = ns;
    S->starts[r] = (sw_start *) R_alloc(ns > 0 ? ns : 1, sizeof(sw_start));
    for (int s = 0; s < ns; s++) {
      SEXP e = VECTOR_ELT(sr, s);
      if (TYPEOF(e) != VECSXP || LENGTH(e) != 2 || TYPEOF(VECTOR_ELT(e, 0)) != INTSXP ||
          LENGTH(VECTOR_ELT(e, 0)) != 1)
        error("each start must be list(kind, statistics or parameters)");
      const int kind = INTEGER(VECTOR_ELT(e, 0))[0];
      SEXP v = VECTOR_ELT(e, 1);
      sw_start *st = S->starts[r] + s;
      if (kind == 0 || kind == 1) {
        if (gm_suff_arg(v, d) != k) error("a start of K = %d has another number of components", k);
        if (kind == 1 && !S->have_sub) error("a start on the subset needs 'sub_x'");
        st->kind = GM_FROM_SUFF;
        st->sub = kind == 1;
      } else if (kind == 2) {
        if (TYPEOF(v) != VECSXP || LENGTH(v) != 3) error("parameters must be list(pro, mean, sigma)");
        gm_real_arg(VECTOR_ELT(v, 0), "start$pro", k);
        gm_finite_arg(VECTOR_ELT(v, 1), "start$mean");
        gm_real_arg(VECTOR_ELT(v, 1), "start$mean", (R_xlen_t) d * k);
        gm_finite_arg(VECTOR_ELT(v, 2), "start$sigma");
        gm_real_arg(VECTOR_ELT(v, 2), "start$sigma", (R_xlen_t) d * d * k);
        const double *p = REAL(VECTOR_ELT(v, 0));
        double ps = 0.0;
        for (int c = 0; c < k; c++) {
          if (!(p[c] > 0.0) || !isfinite(p[c])) error("'start$pro' must be positive");
          ps += p[c];
        }
        if (fabs(ps - 1.0) > 1e-6) error("'start$pro' must sum to 1");
        st->kind = GM_FROM_PAR;
        st->sub = 0;
      } else {
        error("unknown kind of start %d", kind);
      }
      st->a = REAL(VECTOR_ELT(v, 0));
      st->b = REAL(VECTOR_ELT(v, 1));
      st->c = REAL(VECTOR_ELT(v, 2));
    }
  }
}

static SEXP int_matrix(int nr, int nc)
{
  SEXP m = allocMatrix(INTSXP, nr, nc);
  for (R_xlen_t e = 0; e < XLENGTH(m); e++) INTEGER(m)[e] = NA_INTEGER;
  return m;
}

static SEXP real_matrix(int nr, int nc)
{
  SEXP m = allocMatrix(REALSXP, nr, nc);
  for (R_xlen_t e = 0; e < XLENGTH(m); e++) REAL(m)[e] = NA_REAL;
  return m;
}

/* The components' canonical order: by ascending mean, first coordinate first, ties
 * kept in their order (as R's order() on the rows of the mean matrix). */
static void canonical_order(int d, int k, const double *mean, int *ord)
{
  for (int i = 0; i < k; i++) {
    const int c = i;
    int j = i;
    for (; j > 0; j--) {   /* insertion: move c before the components above it */
      const double *a = mean + (size_t) ord[j - 1] * d, *b = mean + (size_t) c * d;
      int above = 0, l = 0;
      while (l < d && a[l] == b[l]) l++;
      if (l < d) above = a[l] > b[l];
      if (!above) break;
      ord[j] = ord[j - 1];
    }
    ord[j] = c;
  }
}

/* Each row's component of largest responsibility (the first of equal ones, as
 * max.col(ties.method = "first")), 1-based, and 1 less that responsibility; NA for
 * a row with NA. */
void gm_classify(int n, int k, const double *z, int *cls, double *unc)
{
  for (int i = 0; i < n; i++) {
    double top = z[i];
    int at = 0, na = ISNAN(top);
    for (int c = 1; c < k; c++) {
      const double v = z[i + (size_t) c * n];
      na |= ISNAN(v);
      if (v > top) {
        top = v;
        at = c;
      }
    }
    cls[i] = na ? NA_INTEGER : at + 1;
    unc[i] = na ? NA_REAL : 1.0 - top;
  }
}

/* gmm_classify(z): list(classification, uncertainty) of responsibilities z; NA for a
 * row with NA (the rows na.exclude pads). */
SEXP gmm_classify(SEXP z)
{
  int n, k;
  gm_matrix_dims(z, "z", &n, &k);
  const char *names[] = {"classification", "uncertainty"};
  SEXP out = PROTECT(gm_new_list(names, 2));
  SET_VECTOR_ELT(out, 0, allocVector(INTSXP, n));
  SET_VECTOR_ELT(out, 1, allocVector(REALSXP, n));
  gm_classify(n, k, REAL(z), INTEGER(VECTOR_ELT(out, 0)), REAL(VECTOR_ELT(out, 1)));
  UNPROTECT(1);
  return out;
}

/* The chosen cell's fit as R reads it: its components in canonical order (`order`
 * gives, for each, its place in the fit), their responsibilities from one E-step
 * (columns named 1 .. K; R derives each row's classification from them), its
 * log-likelihood path (`trace`, of which the first `screened` entries, NA without
 * screening, are the fit to screen_tol) and where it started (`origin`). */
static SEXP best_out(sw_sweep *S, const sw_cell *c)
{
  const int d = S->D.d, k = c->k, kz = k + S->noise;
  const char *names[] = {"pro", "mean", "sigma", "z", "loglik", "trace", "iterations",
                         "converged", "inner_fail", "inner_converged", "entropy", "df",
                         "bic", "degenerate", "value", "model", "origin", "order",
                         "screened"};
  SEXP out = PROTECT(gm_new_list(names, 19));
  SET_VECTOR_ELT(out, 0, allocVector(REALSXP, kz));   /* the noise proportion last */
  SET_VECTOR_ELT(out, 1, allocMatrix(REALSXP, d, k));
  SET_VECTOR_ELT(out, 2, gm_alloc_array3(d, k));
  gm_par P = {d, k, REAL(VECTOR_ELT(out, 0)), REAL(VECTOR_ELT(out, 1)),
              REAL(VECTOR_ELT(out, 2)), S->T[0].P.chol, S->T[0].P.logdet};
  SEXP ord = allocVector(INTSXP, k);
  SET_VECTOR_ELT(out, 17, ord);
  int *o = INTEGER(ord);
  if (S->D.lab) {   /* with labels, component j stays the label j */
    for (int i = 0; i < k; i++) o[i] = i;
  } else {
    canonical_order(d, k, c->mean, o);
  }
  const size_t dd = (size_t) d * d;
  for (int i = 0; i < k; i++) {
    P.pro[i] = c->pro[o[i]];
    memcpy(P.mean + (size_t) i * d, c->mean + (size_t) o[i] * d, d * sizeof(double));
    memcpy(P.sigma + i * dd, c->sigma + o[i] * dd, dd * sizeof(double));
    o[i]++;
  }
  if (S->noise) {
    P.noise = 1;
    P.lognoise = S->lognoise;
    P.pro[k] = c->pro[k];
  }
  /* The covariances are factored here, where an error stops gmm(), so that the pass
   * that computes z when it is read (lazyz.c), which factors them again, cannot fail
   * there. */
  int bad = -1;
  if (gm_chol(d, k, P.sigma, P.chol, P.logdet, NULL, 0.0, &bad))
    error("the chosen fit's covariance %d is not positive definite", bad + 1);
  /* The responsibilities, computed when first read (lazyz.c); rows out of memory keep
   * theirs there: predict() computes them. */
  if (!S->D.ext) {
    SEXP z = gm_lazy_z(S->xs, &P, c->M->diag, S->threads, S->labs);
    SET_VECTOR_ELT(out, 3, z);
    SEXP dn = PROTECT(allocVector(VECSXP, 2)), cn = PROTECT(allocVector(STRSXP, kz));
    for (int i = 0; i < k; i++) {
      char buf[16];
      snprintf(buf, sizeof buf, "%d", i + 1);
      SET_STRING_ELT(cn, i, mkChar(buf));
    }
    if (S->noise) SET_STRING_ELT(cn, k, mkChar("noise"));
    SET_VECTOR_ELT(dn, 0, S->rownames);
    SET_VECTOR_ELT(dn, 1, cn);
    setAttrib(z, R_DimNamesSymbol, dn);
    UNPROTECT(2);
  }
  SEXP tr = allocVector(REALSXP, c->ntrace);
  SET_VECTOR_ELT(out, 5, tr);
  for (int i = 0; i < c->ntrace; i++) REAL(tr)[i] = S->scale * c->trace[i];
  SET_VECTOR_ELT(out, 4, ScalarReal(c->loglik));
  SET_VECTOR_ELT(out, 6, ScalarInteger(c->iterations));
  SET_VECTOR_ELT(out, 7, ScalarLogical(c->converged));
  SET_VECTOR_ELT(out, 8, ScalarInteger(c->inner_fail));
  SET_VECTOR_ELT(out, 9, ScalarLogical(c->inner_last));
  SET_VECTOR_ELT(out, 10, ScalarReal(c->entropy));
  SET_VECTOR_ELT(out, 11, ScalarReal(gm_model_df(c->M, d, k) + 2.0 * S->noise));
  SET_VECTOR_ELT(out, 12, ScalarReal(c->bic));
  SEXP dg = allocVector(INTSXP, 2);
  SET_VECTOR_ELT(out, 13, dg);
  INTEGER(dg)[0] = c->deg;
  INTEGER(dg)[1] = c->deg_bad >= 0 ? c->deg_bad + 1 : NA_INTEGER;
  SET_VECTOR_ELT(out, 14, ScalarReal(c->deg_value));
  SET_VECTOR_ELT(out, 15, mkString(c->M->name));
  SET_VECTOR_ELT(out, 16, ScalarInteger(c->origin));
  SET_VECTOR_ELT(out, 18, ScalarInteger(c->nscreen >= 0 ? c->nscreen : NA_INTEGER));
  UNPROTECT(1);
  return out;
}

static SEXP sweep_out(sw_sweep *S, int best)
{
  const int nk = S->nk, nm = S->nm;
  const char *names[] = {"bic", "icl", "loglik", "status", "bad", "iterations", "value",
                         "refining", "origin", "best"};
  SEXP out = PROTECT(gm_new_list(names, 10));
  for (int e = 0; e < 3; e++) SET_VECTOR_ELT(out, e, real_matrix(nk, nm));
  for (int e = 3; e < 6; e++) SET_VECTOR_ELT(out, e, int_matrix(nk, nm));
  SET_VECTOR_ELT(out, 6, real_matrix(nk, nm));
  SET_VECTOR_ELT(out, 7, allocMatrix(LGLSXP, nk, nm));
  SET_VECTOR_ELT(out, 8, int_matrix(nk, nm));
  for (int i = 0; i < nk * nm; i++) {
    const sw_cell *c = S->cells + i;
    LOGICAL(VECTOR_ELT(out, 7))[i] = c->frefining;
    if (!c->fit) continue;
    if (c->ok) {
      REAL(VECTOR_ELT(out, 0))[i] = c->bic;
      REAL(VECTOR_ELT(out, 1))[i] = c->bic + 2.0 * c->entropy;
      REAL(VECTOR_ELT(out, 2))[i] = c->loglik;
      INTEGER(VECTOR_ELT(out, 3))[i] = GM_OK;
      INTEGER(VECTOR_ELT(out, 5))[i] = c->iterations;
      INTEGER(VECTOR_ELT(out, 8))[i] = c->origin;
    } else {
      INTEGER(VECTOR_ELT(out, 3))[i] = c->fstatus;
      INTEGER(VECTOR_ELT(out, 4))[i] = c->fbad >= 0 ? c->fbad + 1 : NA_INTEGER;
      INTEGER(VECTOR_ELT(out, 5))[i] = c->fiter;
      REAL(VECTOR_ELT(out, 6))[i] = c->fvalue;
    }
  }
  if (best >= 0) SET_VECTOR_ELT(out, 9, best_out(S, S->cells + best));
  UNPROTECT(1);
  return out;
}

/* gmm_sweep(args), args = list(x, w, ks, models, fit, starts, sub_x, sub_w, priors,
 * control, sweep, threads, progress, labels, noise):
 *   x, w          the rows of positive weight, weights of mean 1 (see R's weight_scale);
 *   ks, models    the grid's K values (integer) and model names;
 *   fit           logical length(ks) x length(models): the cells to fit;
 *   starts        per K, a list of list(kind, value): kind 0, value = list(nk, mean,
 *                 scatter) of a partition of x; kind 1, the same of a partition of
 *                 sub_x; kind 2, value = list(pro, mean, sigma);
 *   sub_x, sub_w  the subset the kind-1 starts partition, or NULL;
 *   priors        per K, NULL or list(kappa, nu, mean, scale);
 *   control       as gmm_fit reads it, with the final tol;
 *   sweep         c(screen_tol, refine_bic, cross_starts, scale, logn, criterion,
 *                 screen_single), criterion 0 (BIC), 1 (ICL) or 2 (AIC); scale turns
 *                 the log-likelihood into the units of the user's weights, logn is the
 *                 log of their sum; screen_single lets screening passes run in float;
 *   threads       the number of threads;
 *   progress      NULL, or an R function(phase, done, total) called now and then from
 *                 R's thread as the phases' tasks finish (see report());
 *   labels        NULL, or an integer per row: its known component (1-based), 0 where
 *                 unknown; every E-step keeps a labelled row at its component;
 *   noise         NULL, or c(log density, weighted size at the start) of a uniform
 *                 noise component in every fit (the starts' statistics leave out the
 *                 rows it starts with).
 * Returns the tables (bic, icl, loglik, and for failed cells status, bad, iterations,
 * value and whether it failed while refining; origin of each fit), and `best`, the
 * chosen cell's fit (NULL when no cell could be fitted). */
SEXP gmm_sweep(SEXP args)
{
  if (TYPEOF(args) != VECSXP || LENGTH(args) != 16) error("'args' must be a list of 16");
  sw_sweep *S = (sw_sweep *) R_alloc(1, sizeof(sw_sweep));
  memset(S, 0, sizeof *S);
  SEXP ext = VECTOR_ELT(args, 15);
  S->xs = VECTOR_ELT(args, 0);
  S->labs = VECTOR_ELT(args, 13);
  if (ext == R_NilValue) {
    gm_data_arg(VECTOR_ELT(args, 0), VECTOR_ELT(args, 1), &S->D, 1);
  } else {   /* rows out of memory: list(pass function, c(n, d), column variances) */
    if (TYPEOF(ext) != VECSXP || LENGTH(ext) != 3 || !isFunction(VECTOR_ELT(ext, 0)))
      error("'ext' must be list(pass function, c(n, d), column variances)");
    const double *nd = gm_real_arg(VECTOR_ELT(ext, 1), "ext size", 2);
    if (!(nd[0] >= 2.0 && nd[0] <= INT_MAX && nd[1] >= 1.0 && nd[1] <= INT_MAX))
      error("'ext' has no valid size");
    gm_ext *E = (gm_ext *) R_alloc(1, sizeof(gm_ext));
    E->fn = VECTOR_ELT(ext, 0);
    S->D.n = (int) nd[0];
    S->D.d = (int) nd[1];
    S->D.x = NULL;
    S->D.w = NULL;
    S->D.wsum = nd[0];
    S->D.unit = 1;
    S->D.lab = NULL;
    S->D.colvar = gm_finite_arg(VECTOR_ELT(ext, 2), "ext column variances");
    if (XLENGTH(VECTOR_ELT(ext, 2)) != S->D.d) error("'ext' must have %d column variances", S->D.d);
    S->D.ext = E;
    if (VECTOR_ELT(args, 13) != R_NilValue || VECTOR_ELT(args, 14) != R_NilValue)
      error("rows out of memory are fitted without labels or noise");
  }
  const int n = S->D.n, d = S->D.d;
  SEXP xdn = ext != R_NilValue ? R_NilValue : getAttrib(VECTOR_ELT(args, 0), R_DimNamesSymbol);
  S->rownames = TYPEOF(xdn) == VECSXP && LENGTH(xdn) == 2 &&
                TYPEOF(VECTOR_ELT(xdn, 0)) == STRSXP ? VECTOR_ELT(xdn, 0) : R_NilValue;
  SEXP ks = VECTOR_ELT(args, 2), models = VECTOR_ELT(args, 3), fit = VECTOR_ELT(args, 4);
  if (TYPEOF(ks) != INTSXP || LENGTH(ks) < 1) error("'ks' must be a non-empty integer vector");
  if (TYPEOF(models) != STRSXP || LENGTH(models) < 1) error("'models' must be a character vector");
  S->nk = LENGTH(ks);
  S->nm = LENGTH(models);
  S->ks = INTEGER(ks);
  if (TYPEOF(fit) != LGLSXP || XLENGTH(fit) != (R_xlen_t) S->nk * S->nm)
    error("'fit' must be a logical matrix of length(ks) x length(models)");
  for (int r = 0; r < S->nk; r++) {
    if (S->ks[r] < 1 || S->ks[r] > n) error("'ks' must lie between 1 and nrow(x)");
    if (S->ks[r] > S->kmax) S->kmax = S->ks[r];
  }
  SEXP sub_x = VECTOR_ELT(args, 6);
  if (sub_x != R_NilValue) {
    gm_data_arg(sub_x, VECTOR_ELT(args, 7), &S->sub, 1);
    if (S->sub.d != d) error("'sub_x' must have %d columns", d);
    S->have_sub = 1;
  }
  starts_arg(VECTOR_ELT(args, 5), S);
  SEXP priors = VECTOR_ELT(args, 8);
  if (TYPEOF(priors) != VECSXP || LENGTH(priors) != S->nk)
    error("'priors' must be a list with one element per K");
  S->priors = (gm_prior *) R_alloc(S->nk, sizeof(gm_prior));
  S->has_prior = (int *) R_alloc(S->nk, sizeof(int));
  for (int r = 0; r < S->nk; r++) {
    gm_ctrl C;
    gm_ctrl_arg(VECTOR_ELT(args, 9), VECTOR_ELT(priors, r), d, &C, S->priors + r);
    S->has_prior[r] = C.prior != NULL;
    S->C = C;
  }
  S->C.prior = NULL;
  const double *sw = gm_real_arg(VECTOR_ELT(args, 10), "sweep", 7);
  S->screen_tol = sw[0];
  S->refine_bic = sw[1];
  S->cross = sw[2] != 0.0;
  S->scale = sw[3];
  S->logn = sw[4];
  S->crit = (int) sw[5];
  if (!(S->screen_tol >= 0.0) || !(S->refine_bic >= 0.0) || !(S->scale > 0.0) ||
      !isfinite(S->scale) || !isfinite(S->logn) || !isfinite(S->screen_tol) ||
      !isfinite(S->refine_bic) || !(sw[5] == 0.0 || sw[5] == 1.0 || sw[5] == 2.0))
    error("'sweep' must hold screen_tol >= 0, refine_bic >= 0, cross_starts, scale > 0, logn, "
          "criterion 0, 1 or 2 and screen_single");
  SEXP th = VECTOR_ELT(args, 11);
  if (TYPEOF(th) != INTSXP || LENGTH(th) != 1 || INTEGER(th)[0] < 1 ||
      INTEGER(th)[0] > GM_MAX_THREADS)
    error("'threads' must be a whole number from 1 to %d", GM_MAX_THREADS);
  S->threads = INTEGER(th)[0];
  SEXP noise = VECTOR_ELT(args, 14);
  if (noise != R_NilValue) {
    const double *nv = gm_real_arg(noise, "noise", 2);
    if (!isfinite(nv[0]) || !(nv[1] >= 0.0 && nv[1] < S->D.wsum))
      error("'noise' must be c(log density, weighted size of the noise rows at the start)");
    S->noise = 1;
    S->lognoise = nv[0];
    S->noise_nk0 = nv[1];
    if (S->have_sub) error("starts on a subset are not used with noise");
  }
  SEXP lab = VECTOR_ELT(args, 13);
  if (lab != R_NilValue) {
    if (TYPEOF(lab) != INTSXP || XLENGTH(lab) != n) error("'labels' must be an integer vector of length %d", n);
    int kmin = S->ks[0];
    for (int r = 1; r < S->nk; r++) kmin = S->ks[r] < kmin ? S->ks[r] : kmin;
    for (int i = 0; i < n; i++)
      if (INTEGER(lab)[i] < 0 || INTEGER(lab)[i] > kmin)
        error("'labels' must lie between 0 (unknown) and the smallest K, %d", kmin);
    S->D.lab = INTEGER(lab);
  }
  S->progress = VECTOR_ELT(args, 12);
  if (S->progress != R_NilValue && !isFunction(S->progress))
    error("'progress' must be NULL or a function");
  S->last = now_seconds();
  /* Screening pays when there is more than one fit to compare: several cells, or
   * several starts of one cell (each start to screen_tol, the best on to tol). */
  int many = S->nk * S->nm > 1;
  for (int r = 0; r < S->nk; r++) many |= S->nstarts[r] > 1;
  S->screening = many && S->screen_tol > S->C.tol;
  /* and with one or two columns in memory, of unit weights, without labels or noise,
   * their passes may run in float (gm_single_ok says when) */
  if (S->screening && sw[6] != 0.0 && d <= 2 && !S->D.ext && S->D.unit && !S->D.lab &&
      !S->noise)
    gm_single_setup(&S->single, &S->D);

  /* the cells */
  const int ncell = S->nk * S->nm;
  S->cells = (sw_cell *) R_alloc(ncell, sizeof(sw_cell));
  memset(S->cells, 0, ncell * sizeof(sw_cell));
  for (int m = 0; m < S->nm; m++) {
    const gm_model *M = STRING_ELT(models, m) == NA_STRING ? NULL
                        : gm_find_model(CHAR(STRING_ELT(models, m)));
    if (!M || M->multivariate != (d > 1)) error("'models' has an unknown or unsuitable model");
    for (int r = 0; r < S->nk; r++) {
      sw_cell *c = cell_at(S, r, m);
      const int k = S->ks[r];
      c->row = r;
      c->col = m;
      c->k = k;
      c->M = M;
      c->fit = LOGICAL(fit)[r + (size_t) m * S->nk] == TRUE;
      c->fbad = c->deg_bad = -1;
      c->fvalue = c->deg_value = NA_REAL;
      if (!c->fit) continue;
      double *buf = (double *) R_alloc(k + 1 + (size_t) d * k + (size_t) d * d * k + suff_len(d, k),
                                       sizeof(double));
      c->pro = buf;
      c->mean = c->pro + k + 1;   /* room for the noise proportion */
      c->sigma = c->mean + (size_t) d * k;
      c->snk = c->sigma + (size_t) d * d * k;
      c->smean = c->snk + k;
      c->sW = c->smean + (size_t) d * k;
    }
  }
  S->donor = (int *) R_alloc(2 * (size_t) S->nk, sizeof(int));
  S->dsuff = (double *) R_alloc(2 * (size_t) S->nk * suff_len(d, S->kmax), sizeof(double));
  S->dnoise = (double *) R_alloc(2 * (size_t) S->nk, sizeof(double));

  /* the threads' workspaces */
  /* (rows out of memory: one cell at a time, each pass on the sweep's thread, which
   * calls R) */
  const int side = S->threads > 1 && (double) n * S->kmax <= GM_CELLS_NK && !S->D.ext;
  const int nws = side ? S->threads : 1;
  S->T = (sw_thread *) R_alloc(nws, sizeof(sw_thread));
  for (int t = 0; t < nws; t++) {
    sw_thread *T = S->T + t;
    const int k = S->kmax;
    T->P.d = d;
    T->P.k = k;
    T->P.pro = (double *) R_alloc(k + 1, sizeof(double));
    T->P.noise = S->noise;
    T->P.lognoise = S->lognoise;
    T->P.mean = (double *) R_alloc((size_t) d * k, sizeof(double));
    T->P.sigma = (double *) R_alloc((size_t) d * d * k, sizeof(double));
    T->P.chol = (double *) R_alloc((size_t) d * d * k, sizeof(double));
    T->P.logdet = (double *) R_alloc(k, sizeof(double));
    memset(T->P.sigma, 0, (size_t) d * d * k * sizeof(double));
    gm_mwork_alloc(&T->Wk, d, k, &S->C);
    gm_pass_alloc(&T->pw, n, d, k + S->noise, t == 0 ? S->threads : 1);
    if (!S->noise) gm_pass_alloc_newton(&T->pw, d, k);
    T->trace.v = (double *) R_alloc((size_t) S->C.max_iter + 1, sizeof(double));
    T->trace.cap = S->C.max_iter + 1;
    T->trace.len = 0;
  }
  S->side_ok = side;

  SEXP cont = PROTECT(R_MakeUnwindCont());
  SEXP out = R_UnwindProtect(sweep_body, S, sweep_cleanup, S, cont);
  UNPROTECT(1);
  return out;
}
