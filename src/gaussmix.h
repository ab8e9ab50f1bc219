/* Shared prototypes of the gaussmix C core.
 *
 * Kernels (estep.c, mstep.c, linalg.c, kmeans.c and the EM loop in em.c) take plain
 * pointers and sizes; only the gmm_* adaptors in em.c and kmeans.c touch SEXPs.
 * Matrices are column-major as in R: x is n x d, z is n x k, mean is d x k and
 * sigma / chol are d x d x k.
 */
#ifndef GAUSSMIX_H
#define GAUSSMIX_H

#define USE_FC_LEN_T
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Lapack.h>
#include <R_ext/Rdynload.h>
#include <stdint.h>
#include <string.h>
#ifndef FCONE
#define FCONE
#endif

/* Rows are processed in blocks of this many, so scratch stays O(block * d), and
 * blocks are grouped into at most GM_CHUNKS chunks, the unit of parallel work and of
 * the fixed-order reduction that makes results independent of the thread count.
 * With block_stats' reductions vectorised (GM_HOT_SUMS), 256 beat 128 in interleaved
 * runs at n = 2e5, d = 10, K = 10 on one thread: VVV 15.5-16.6 against 22-22.8 ms
 * per EM iteration, VVI 6.7-7.5 against 8.4-10.3 ms. */
#define GM_BLOCK 256
#define GM_CHUNKS 32

/* Threads (pool.c): POSIX threads where the platform has them, else every parallel
 * run is inline.  GM_MAX_THREADS bounds the `threads` argument (R checks it). */
#if (defined(__unix__) || defined(__APPLE__)) && !defined(_WIN32)
#define GM_THREADS 1
#endif
#define GM_MAX_THREADS 1024

/* The hot kernels are compiled several times where GCC can choose between versions
 * at load time (x86-64 Linux with glibc's ifunc): for AVX-512 (x86-64-v4), for AVX2
 * with FMA (x86-64-v3), and for the baseline instruction set R itself is built for
 * (GCC 6 to 10: AVX2 and baseline). Elsewhere: one plain version. The versions are
 * named by feature level (GCC 11 and later), which the loader checks by CPU
 * features; "arch=haswell" would be checked by CPU model and is never chosen on AMD
 * processors. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && __GNUC__ >= 11
#define GM_HOT __attribute__((noinline, target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
/* The kernel of sums (block_stats) may also reorder its additions, which lets GCC
 * vectorise its many short reductions with a few shuffles at the end of each; the
 * OpenMP simd reductions it would use instead end each one with a scalar loop over
 * the lanes, which took half the kernel's time for the diagonal models.  Only sums
 * and products are there (no exact-rounding tricks such as exp()'s in estep.c), and
 * the same code sums every chunk, so results still do not depend on the thread
 * count. */
#define GM_HOT_SUMS __attribute__((noinline, target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), \
  optimize("no-signed-zeros", "no-trapping-math", "associative-math", "vect-cost-model=dynamic")))
#define GM_SUMS_SIMD(...)
#elif defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && __GNUC__ >= 6
#define GM_HOT __attribute__((noinline, target_clones("avx2", "default")))
#else
#define GM_HOT
#endif
#ifndef GM_HOT_SUMS
#define GM_HOT_SUMS GM_HOT
#define GM_SUMS_SIMD(...) GM_SIMD_SUM(__VA_ARGS__)
#endif

/* Vectorisation hints, only where OpenMP is there to read them. */
#ifdef _OPENMP
#define GM_SIMD _Pragma("omp simd")
#define GM_PRAGMA(x) _Pragma(#x)
#define GM_SIMD_SUM(...) GM_PRAGMA(omp simd reduction(+:__VA_ARGS__))
#define GM_SIMD_MIN(v) GM_PRAGMA(omp simd reduction(min:v))
#else
#define GM_SIMD
#define GM_PRAGMA(x)
#define GM_SIMD_SUM(...)
#define GM_SIMD_MIN(v)
#endif

/* log(x) for positive normal x, without calls or branches, so that the loops that
 * call it vectorise (the E-step's log-sum-exp, the VVV tree's costs); a lane of a
 * vector gets the bits a lone call gets, where the file is compiled without
 * contractions (hcvvv.c).  x = 2^e z with z in [sqrt(1/2), sqrt(2)): subtracting the
 * bits of sqrt(1/2) from x's leaves e in the exponent field (offset by 1024 so that
 * the shift is of a nonnegative number).  log z = 2 atanh(f) with f = (z - 1) / (z +
 * 1), |f| <= 0.1716, by its series through f^21 in Estrin's scheme (the first omitted
 * term is below 1e-18 relative); z - 1 is exact, so the relative accuracy holds near
 * x = 1.  e is turned into a double through the bits of 1.5 * 2^52, and log 2 is
 * split into a head, whose products with e are exact, and a tail.  Within 2 eps
 * (relative) of log(): tests/testthat/test-hcvvv.R and test-estep.R. */
static inline __attribute__((always_inline)) double gm_log(double x)
{
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  const uint64_t eu = (bits - 0x3fe6a09e667f3bcdULL + 0x4000000000000000ULL) >> 52;
  bits -= (eu - 1024) << 52;
  double z, ed;
  memcpy(&z, &bits, sizeof z);
  bits = eu + (0x4338000000000000ULL - 1024);
  memcpy(&ed, &bits, sizeof ed);
  ed -= 0x1.8p52;
  const double f = (z - 1.0) / (z + 1.0), f2 = f * f;
  const double f4 = f2 * f2, f8 = f4 * f4;
  const double q = ((2.0 / 3 + f2 * (2.0 / 5)) + (2.0 / 7 + f2 * (2.0 / 9)) * f4) +
                   ((2.0 / 11 + f2 * (2.0 / 13)) + (2.0 / 15 + f2 * (2.0 / 17)) * f4) * f8 +
                   (2.0 / 19 + f2 * (2.0 / 21)) * (f8 * f8);
  const double logz = 2.0 * f + f * f2 * q;
  return ed * 0x1.62e42fefa3800p-1 + (ed * 0x1.ef35793c7673p-45 + logz);
}

/* Status codes of a fit; GM_OK is 0 so that "if (status)" reads as "failed". */
enum {
  GM_OK = 0,
  GM_SINGULAR,   /* a covariance is not positive definite or is numerically singular */
  GM_COLLAPSE,   /* a component's weight fell to (numerically) zero */
  GM_NONFINITE,  /* the log-likelihood is not finite */
  GM_FEWROWS,    /* converged, but a component has fewer effective rows than its
                  * covariance needs (a spurious maximiser) */
  GM_ILLCOND,    /* converged, but a covariance is out of proportion with the pooled
                  * one (likewise) */
  GM_ABORT       /* stopped because the sweep was interrupted (never reaches R) */
};

/* Rows that are not in memory (a file-backed big.matrix read in blocks, or the shards
 * of a cluster's workers): a pass over them is one call of the R function fn(pro,
 * mean, chol, logdet, flags), which runs the pass on each piece of the rows and
 * returns the pieces' results summed in a fixed order (source.c). */
typedef struct {
  SEXP fn;
} gm_ext;

typedef struct {
  int n, d;
  const double *x;      /* n x d; NULL when the rows are out of memory (ext) */
  const double *w;      /* n frequency weights */
  double wsum;          /* sum of w: the effective sample size */
  int unit;             /* every weight is 1 */
  const int *lab;       /* n known components (1-based; 0 unknown), or NULL: a labelled
                         * row's responsibilities are fixed at its label */
  const double *colvar; /* d weighted column variances, the scale for singularity checks */
  const gm_ext *ext;    /* rows out of memory, or NULL: passes go through it (no z, no
                         * weights, labels or noise) */
} gm_data;

typedef struct {
  int d, k;
  double *pro;    /* k (k + 1 with noise: the noise proportion last) */
  double *mean;   /* d x k */
  double *sigma;  /* d x d x k */
  double *chol;   /* d x d x k, lower Cholesky factors, zero above the diagonal */
  double *logdet; /* k, log det sigma_k */
  int noise;      /* a uniform noise component besides the k Gaussians (Banfield and
                   * Raftery 1993): one more column of responsibilities, last */
  double lognoise;  /* its log density, -log of the data region's volume */
} gm_par;

/* Everything a covariance update reads and keeps.  Every model's update minimises
 *   sum_k  m_k log det Sigma_k + tr(Sigma_k^{-1} S_k)
 * under the model's constraints: with m_k = n_k (component sizes) and S_k = W_k
 * (weighted scatter matrices about the means) this is the maximum-likelihood M-step;
 * with a conjugate prior, m_k and S_k carry the prior's terms as well. */
typedef struct {
  int d, k;
  const double *m;  /* k effective sizes */
  const double *S;  /* d x d x k scatter matrices */
  double *lambda;   /* k volumes, kept between M-steps to warm-start inner loops */
  double *orient;   /* d x d common orientation (EVE, VVE), kept likewise */
  int warm;         /* lambda and orient hold the previous M-step's values */
  int have_par;     /* the fit started from parameters: before the first M-step, */
  const double *sigma0, *logdet0;  /* these are its covariances (read before the
                                    * update overwrites them) and their log-dets */
  double tol;       /* inner-loop tolerance on the objective */
  int max_iter;     /* inner-loop cap */
  double *work;     /* GM_COV_WORK(d, k) doubles */
  int inner_ok;     /* out: 0 when the inner loop stopped at max_iter */
} gm_cov;

#define GM_COV_WORK(d, k) (2 * (size_t) (d) * (d) * (k) + 6 * (size_t) (d) * (d) + \
                           3 * (size_t) (d) * (k) + 8 * (size_t) (k) + 80 * (size_t) (d) + 64)

typedef int (*gm_cov_fn)(gm_cov *c, double *sigma);
typedef double (*gm_ncov_fn)(double d, double k);

/* How many effective rows a component needs for its own part of the covariance to be
 * estimable from rows in general position: none of its own (1 row, for the mean), a
 * volume or shape along shared axes (2 rows), or its own orientation (d + 1 rows). */
enum { GM_ROWS_MEAN, GM_ROWS_SPREAD, GM_ROWS_FULL };

typedef struct {
  const char *name;
  int multivariate;     /* 0: for d = 1 only; 1: for d >= 2 only */
  gm_cov_fn cov;
  gm_ncov_fn ncov;      /* number of free covariance parameters */
  int rows;             /* GM_ROWS_*: what a component needs */
  int diag;             /* covariances are diagonal: the M-step reads only the diagonal
                         * of the scatter matrices, and passes skip the rest */
} gm_model;

/* Conjugate prior (Fraley and Raftery 2007): mean_k ~ N(mean, Sigma_k / kappa),
 * Sigma_k ~ inverse Wishart(nu, scale), both read on each component. */
typedef struct {
  double kappa, nu;
  const double *mean;   /* d */
  const double *scale;  /* d x d */
} gm_prior;

typedef struct {
  double tol;     /* relative log-likelihood change that counts as converged */
  int max_iter;
  double reg;     /* ridge added to every covariance diagonal after the M-step */
  double eps;     /* relative floor for variances and component weights */
  double inner_tol;
  int inner_max_iter;
  int threads;
  double rcond;   /* smallest eigenvalue ratio of the covariances against their pool */
  int degenerate; /* 1: a converged fit that breaks the rules above fails; 0: it is kept */
  double accel;   /* once an EM step changes the log-likelihood by at most this much
                   * (relative), each EM step is followed by a SQUAREM cycle (squarem_cycle
                   * in em.c); 0: never */
  const gm_prior *prior;  /* NULL for maximum likelihood */
} gm_ctrl;

/* Workspace and warm-start state of the M-step, allocated once per fit. */
typedef struct {
  double *nk;       /* k */
  double *m;        /* k */
  double *W;        /* d x d x k */
  double *stats;    /* the pass's sums: ll, n_k, s_k, W0_k */
  double noise_nk;  /* with noise, its weighted size from the same pass */
  double *sq;       /* the accelerated EM step's four parameter vectors
                     * (GM_SQ_WORK(d, k)) */
  double *nt;       /* Newton's system (gm_newton_len), or NULL where it cannot run */
  gm_cov cov;
} gm_mwork;

#define GM_PAR_LEN(d, k) ((size_t) (k) * (1 + (size_t) (d) + (size_t) (d) * (d)))
#define GM_SQ_WORK(d, k) (4 * GM_PAR_LEN(d, k))

/* pool.c */
typedef void (*gm_task_fn)(void *ctx, int task, int thread);
void gm_parallel(int threads, int ntasks, gm_task_fn fn, void *ctx, void (*idle)(void));
int gm_pool_start(int ntasks, gm_task_fn fn, void *ctx);
void gm_pool_wait(void);
void gm_pool_stop(void);

/* linalg.c */
int gm_chol(int d, int k, const double *sigma, double *chol, double *logdet,
            const double *colvar, double eps, int *bad);
int gm_eigen(int d, const double *A, double *vec, double *val, double *work, int lwork);
int gm_chol_inverse(int d, const double *A, double *inv, double *logdet);

/* newton.c: what a pass sums for Newton's method (models V and VVV, d <= GM_NEWTON_D,
 * gm_newton_nm(d) monomials of degree <= 4 in the d columns, at most GM_NEWTON_W
 * sums a row) */
#define GM_NEWTON_D 3
#define GM_NEWTON_NMAX 35
#define GM_NEWTON_W 1600
typedef struct {
  int on;           /* the pass takes these sums */
  int d, k, nm;     /* columns, components and monomials (1 + the degrees 1 to 4) */
  int parent[GM_NEWTON_NMAX], var[GM_NEWTON_NMAX];  /* monomial r = parent * y_var */
  double c[GM_NEWTON_D], s[GM_NEWTON_D];  /* y = (x - c) s, the columns' coordinates */
  double *chunk;    /* nchunk x stride: per chunk, sum_i w_i z_ik z_il y^r for k < l */
  size_t stride;
  double *sum;      /* their total over the chunks, k (k - 1) / 2 x nm */
  double *scr;      /* per thread, (nm + 1) x GM_BLOCK: the block's monomials and weights */
} gm_hess;
int gm_newton_nm(int d);
size_t gm_newton_nsums(int d, int k);
void gm_hess_block(int m, const gm_hess *h, const double *xb, const double *wb,
                   const double *zb, size_t zst, double *mono, double *acc);

/* estep.c */
/* The rows of data with one or two columns for passes in single precision (estep.c):
 * each column less its centre, rounded to float. */
typedef struct gm_single {
  const float *xf;          /* n x d */
  double xc[2], span[2];    /* each column's mid-range and half its range */
} gm_single;
typedef struct {
  int nchunk, nthreads;
  double *chunk;    /* nchunk partial sums */
  double *scratch;  /* per-thread block buffers */
  int *status;      /* nchunk */
  double *ent;      /* nchunk partial entropies */
  int diag;         /* diagonal covariances: whitening without the triangular solve,
                     * and only the diagonal of each W0_k summed, */
  int full;         /* unless this is set (the whole W0_k, for other models' starts) */
  double *noise_nk; /* nchunk partial sums of the noise responsibilities (weighted) */
  double noise_sum; /* their total after a pass */
  double *cst;      /* k + 1: the pass's log-density constants (estep.c) */
  gm_hess hs;       /* the Newton steps' sums (newton.c), when hs.chunk is not NULL */
  const struct gm_single *single;   /* the rows in float for screening passes, or NULL */
  double *fwork;    /* 5 k: gm_pass_single's constants */
} gm_pass_work;
int gm_nblocks(int n);
int gm_nchunks(int nblocks);
void gm_chunk_blocks(int nblocks, int nchunk, int ch, int *b0, int *b1);
void gm_pass_alloc(gm_pass_work *pw, int n, int d, int k, int threads);
void gm_pass_alloc_newton(gm_pass_work *pw, int d, int k);
void gm_estep_init(void);
int gm_pass(const gm_data *D, const gm_par *P, double *z, double *rowll, double *ll,
            double *ent, double *stats, double *nrow, gm_pass_work *pw);
void gm_zstats(const gm_data *D, const gm_par *P, const double *z, double *stats,
               gm_pass_work *pw);
void gm_single_setup(gm_single *sg, const gm_data *D);
int gm_single_ok(const gm_data *D, const gm_par *P, const gm_pass_work *pw);
int gm_pass_single(const gm_data *D, const gm_par *P, double *ll, double *abs,
                   double *stats, gm_pass_work *pw);
size_t gm_stats_len(int d, int k);

/* source.c */
int gm_ext_pass(const gm_data *D, const gm_par *P, double *ll, double *ent, double *stats,
                gm_pass_work *pw);

/* mstep.c */
int gm_degenerate(const gm_model *M, const gm_par *P, const double *nk, double rcond,
                  int *bad, double *value, double *work);
const gm_model *gm_find_model(const char *name);
int gm_model_count(void);
const gm_model *gm_model_at(int i);
void gm_mwork_alloc(gm_mwork *Wk, int d, int k, const gm_ctrl *C);
int gm_mstep(const gm_data *D, const double *z, const gm_model *M, gm_par *P,
             const gm_ctrl *C, gm_mwork *Wk, gm_pass_work *pw, int *bad);
int gm_mstep_sums(const gm_data *D, const double *stats, const gm_model *M, gm_par *P,
                  const gm_ctrl *C, gm_mwork *Wk, int *bad);
int gm_mstep_suff(const gm_data *D, const gm_model *M, gm_par *P, const gm_ctrl *C,
                  gm_mwork *Wk, int *bad);
void gm_suff_from_sums(int d, int k, const double *stats, double *nk, double *mean,
                       double *W);
void gm_suff_from_z(const gm_data *D, const double *z, int k, double *nk, double *mean,
                    double *W, double *stats, gm_pass_work *pw);

/* em.c: one fit */
typedef struct {
  int iterations;   /* M-steps taken after the start */
  int converged;
  int status;       /* GM_OK or the reason the fit stopped */
  int bad;          /* failing component (0-based), or -1 */
  int inner_fail;   /* M-steps whose inner loop stopped at its cap */
  int inner_last;   /* whether the last M-step's inner loop converged */
  double loglik;
  double entropy;   /* -sum_i w_i sum_k z_ik log z_ik of the final responsibilities */
  int deg;          /* GM_OK, or GM_FEWROWS / GM_ILLCOND for a spurious maximiser */
  int deg_bad;      /* its component, or -1 */
  double deg_value; /* its effective rows, or its eigenvalue ratio */
} gm_result;

typedef struct {
  double *v;
  int len, cap;
} gm_trace;

/* How a fit starts: from parameters (an E-step first), from responsibilities or from
 * their sufficient statistics (an M-step first); sufficient statistics may be those of
 * a subset of the rows, sub, on which the M-step is taken. */
enum { GM_FROM_PAR, GM_FROM_Z, GM_FROM_SUFF };
typedef struct {
  int kind;
  const double *z;                       /* GM_FROM_Z: n x k */
  const double *nk, *mean, *W;           /* GM_FROM_SUFF */
  const gm_data *sub;                    /* GM_FROM_SUFF: the subset, or NULL */
  const double *pro, *sigma;             /* GM_FROM_PAR, with mean */
  double noise_nk;                       /* GM_FROM_SUFF with noise: its weighted size */
  int settled;   /* GM_FROM_PAR: a fit EM has settled (screened to within C->accel),
                  * continued: Newton's steps, where they run, start at once */
} gm_start;

/* Who runs a fit: thread 0 may call R (and checks for interrupts); every thread stops
 * when *abort (if not NULL) becomes non-zero. */
typedef struct {
  int thread;
  const int *abort;
} gm_run;

double gm_model_df(const gm_model *M, int d, int k);

/* newton.c: Newton's steps for EM's last stretch */
int gm_newton_fits(int d, int k);
int gm_newton_kmax(int d, int k);
size_t gm_newton_len(int d, int k);
int gm_newton_applies(const gm_data *D, const gm_model *M, const gm_par *P,
                      const gm_mwork *Wk, const gm_pass_work *pw);
void gm_newton_begin(const gm_par *P, gm_hess *h);
void gm_hess_setup(int d, int k, const double *c, const double *s, gm_hess *h);
void gm_newton_system(const gm_par *P, const double *stats, const gm_hess *h, double *nt);
int gm_newton_solve(int d, int k, double lambda, double *nt, double *dec);
int gm_newton_apply(const gm_data *D, const gm_ctrl *C, const gm_hess *h, gm_par *P,
                    double *nt);
void gm_fit_core(const gm_data *D, const gm_model *M, const gm_start *S, const gm_ctrl *C,
                 const gm_run *run, gm_par *P, double *z, gm_mwork *Wk, gm_pass_work *pw,
                 gm_trace *trace, gm_result *res);
void gm_column_variances(const gm_data *D, double *colvar);

/* hc.c: what the tree builders (Ward's in hc.c, VVV's in hcvvv.c) share */
int gm_tree_args(SEXP x, SEXP w, SEXP kmax, gm_data *D);
SEXP gm_tree_cut(int n, int km, const int *a, const int *b);
typedef struct gm_ward gm_ward;
gm_ward *gm_ward_setup(SEXP x, SEXP w, SEXP kmax);
int gm_ward_columns(const gm_ward *W);
void gm_ward_run(gm_ward *W, int check);
SEXP gm_ward_cut(const gm_ward *W);

/* kmeans.c */
void gm_kmeanspp(int n, int d, int k, const double *x, const double *w,
                 int lloyd, int *cl, double *centres, double *dist, double *work);

/* em.c: argument unpacking shared by the adaptors (em.c, sweep.c) */
void gm_data_arg(SEXP x, SEXP w, gm_data *D, int want_colvar);
const double *gm_real_arg(SEXP v, const char *what, R_xlen_t len);
SEXP gm_alloc_rows(int n, int k);
void gm_advise_huge(void *p, size_t bytes);

/* lazyz.c */
SEXP gm_lazy_z(SEXP x, const gm_par *P, int diag, int threads, SEXP lab);
void gm_lazy_z_init(DllInfo *dll);
const double *gm_finite_arg(SEXP v, const char *what);
int gm_all_finite(const double *p, R_xlen_t len, int nonneg);
void gm_matrix_dims(SEXP x, const char *what, int *nr, int *nc);
const gm_model *gm_model_arg(SEXP model, int d);
void gm_ctrl_arg(SEXP control, SEXP prior, int d, gm_ctrl *C, gm_prior *pr);
int gm_suff_arg(SEXP s0, int d);
SEXP gm_new_list(const char **names, int len);
SEXP gm_alloc_array3(int d, int k);

/* sweep.c */
void gm_classify(int n, int k, const double *z, int *cls, double *unc);

/* registered .Call entry points */
SEXP gmm_fit(SEXP x, SEXP w, SEXP model, SEXP z0, SEXP par0, SEXP control, SEXP prior);
SEXP gmm_estep(SEXP x, SEXP pro, SEXP mean, SEXP sigma);
SEXP gmm_mstep(SEXP x, SEXP w, SEXP z, SEXP model, SEXP control, SEXP prior);
SEXP gmm_newton_system(SEXP x, SEXP w, SEXP pro, SEXP mean, SEXP sigma);
SEXP gmm_single_pass(SEXP x, SEXP pro, SEXP mean, SEXP sigma);
SEXP gmm_models(void);
SEXP gmm_df(SEXP model, SEXP d, SEXP k);
SEXP gmm_kmeans(SEXP x, SEXP w, SEXP k, SEXP lloyd);
SEXP gmm_ward(SEXP x, SEXP w, SEXP kmax);
SEXP gmm_sample_rows(SEXP n, SEXP k);
SEXP gmm_hcvvv(SEXP x, SEXP w, SEXP kmax, SEXP threads);
SEXP gmm_hc_trees(SEXP x, SEXP xw, SEXP w, SEXP kmax, SEXP threads);
SEXP gmm_hc_log(SEXP x);
SEXP gmm_suff(SEXP x, SEXP w, SEXP z, SEXP kk);
SEXP gmm_quantile_suff(SEXP x, SEXP w, SEXP mid, SEXP kk);
SEXP gmm_layout(SEXP n);
SEXP gmm_sweep(SEXP args);
SEXP gmm_finite(SEXP x);
SEXP gmm_colstats(SEXP x, SEXP w);
SEXP gmm_distinct(SEXP x, SEXP w, SEXP enough);
SEXP gmm_classify(SEXP z);
SEXP gmm_pass_stats(SEXP x, SEXP pro, SEXP mean, SEXP chol, SEXP logdet, SEXP flags,
                    SEXP hs);
SEXP gmm_file_pass(SEXP path, SEXP size, SEXP pro, SEXP mean, SEXP chol, SEXP logdet,
                   SEXP flags, SEXP hs);
SEXP gmm_scan(SEXP data, SEXP size, SEXP c0);
SEXP gmm_file_estep(SEXP path, SEXP size, SEXP pro, SEXP mean, SEXP sigma, SEXP type,
                    SEXP threads);

#endif
