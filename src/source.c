/* Rows out of memory: a file-backed big.matrix read in blocks, or the shards of a
 * cluster's workers (R/source.R).
 *
 * EM needs of each pass only its sums: the log-likelihood, the entropy and, per
 * component, n_k, s_k and W0_k (estep.c).  Those add over any split of the rows, so a
 * pass over rows out of memory is the pass of estep.c on each piece of them
 * (gmm_pass_stats, wherever the piece is) with the pieces' sums added in a fixed
 * order.  The sweep and the EM loop see one more gm_pass: an R function does the
 * reading and the adding (gm_ext_pass), called from the thread that runs the sweep.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include "gaussmix.h"
#ifndef _WIN32
#include <fcntl.h>
#include <unistd.h>
#endif

/* The pass of the parameters P over the rows of D->ext: what gm_pass gives without z.
 * The R function returns c(status, ll, ent, stats) summed over the pieces (status:
 * the largest piece status). */
int gm_ext_pass(const gm_data *D, const gm_par *P, double *ll, double *ent, double *stats,
                gm_pass_work *pw)
{
  const int d = D->d, k = P->k;
  const size_t dd = (size_t) d * d, nst = gm_stats_len(d, k);
  SEXP pro = PROTECT(allocVector(REALSXP, k));
  SEXP mean = PROTECT(allocMatrix(REALSXP, d, k));
  SEXP chol = PROTECT(gm_alloc_array3(d, k));
  SEXP logdet = PROTECT(allocVector(REALSXP, k));
  SEXP flags = PROTECT(allocVector(INTSXP, 2));
  memcpy(REAL(pro), P->pro, k * sizeof(double));
  memcpy(REAL(mean), P->mean, (size_t) d * k * sizeof(double));
  memcpy(REAL(chol), P->chol, dd * k * sizeof(double));
  memcpy(REAL(logdet), P->logdet, k * sizeof(double));
  INTEGER(flags)[0] = pw->diag;
  INTEGER(flags)[1] = pw->full;
  /* Newton's sums too (newton.c): the pieces take them in the coordinates given */
  const size_t nh = pw->hs.on ? gm_newton_nsums(d, k) : 0;
  SEXP hs = PROTECT(allocVector(REALSXP, nh ? 2 * d : 0));
  if (nh)
    for (int j = 0; j < d; j++) {
      REAL(hs)[j] = pw->hs.c[j];
      REAL(hs)[d + j] = pw->hs.s[j];
    }
  SEXP call = PROTECT(LCONS(D->ext->fn, list6(pro, mean, chol, logdet, flags, hs)));
  SEXP res = PROTECT(eval(call, R_GlobalEnv));
  if (TYPEOF(res) != REALSXP || XLENGTH(res) != (R_xlen_t) (3 + nst + nh))
    error("a pass over the rows out of memory returned no sums of length %d",
          (int) (3 + nst + nh));
  const double *r = REAL(res);
  int status = r[0] == 0.0 ? GM_OK : r[0] == (double) GM_NONFINITE ? GM_NONFINITE : -1;
  if (status < 0) error("a pass over the rows out of memory returned status %g", r[0]);
  if (!status && !isfinite(r[1])) status = GM_NONFINITE;
  if (!status) {   /* every row adds 1 to the n_k: a check that the rows are still n */
    double rows = 0.0;
    for (int c = 0; c < k; c++) rows += r[4 + c];
    if (!(fabs(rows - D->n) <= 1e-6 * D->n))
      error("a pass over the rows out of memory saw %.0f rows, not the %d the fit started with: "
            "did the data change?", rows, D->n);
    *ll = r[1];
    if (ent) *ent = r[2];
    if (stats) {
      memcpy(stats, r + 3, nst * sizeof(double));
      stats[0] = 0.0;
    }
    if (nh) memcpy(pw->hs.sum, r + 3 + nst, nh * sizeof(double));
  }
  pw->noise_sum = 0.0;
  UNPROTECT(8);
  return status;
}

/* The parameters of a pass given by R (pro, mean, Cholesky factors and their
 * log-dets, for d columns) and its flags c(diag, full, threads). */
static void pass_args(SEXP pro, SEXP mean, SEXP chol, SEXP logdet, SEXP flags, int d,
                      gm_par *P, int *fl)
{
  int dm, k;
  gm_matrix_dims(mean, "mean", &dm, &k);
  if (dm != d) error("'mean' must have %d rows", d);
  const gm_par Q = {d, k, (double *) gm_real_arg(pro, "pro", k), (double *) REAL(mean), NULL,
                    (double *) gm_real_arg(chol, "chol", (R_xlen_t) d * d * k),
                    (double *) gm_real_arg(logdet, "logdet", k), 0, 0.0};
  *P = Q;
  if (TYPEOF(flags) != INTSXP || LENGTH(flags) != 3 || INTEGER(flags)[2] < 1 ||
      INTEGER(flags)[2] > GM_MAX_THREADS)
    error("'flags' must be c(diag, full, threads)");
  for (int e = 0; e < 3; e++) fl[e] = INTEGER(flags)[e];
}

/* The length of a pass's result: c(status, log-likelihood, entropy, the sums), and
 * Newton's sums when hs (c(centre, scale), 2 d) is given. */
static size_t pass_len(int d, int k, SEXP hs)
{
  if (XLENGTH(hs) != 0 && (TYPEOF(hs) != REALSXP || XLENGTH(hs) != 2 * d ||
                           !gm_newton_fits(d, k)))
    error("'hs' must be empty or c(centre, scale) of length %d, for at most %d columns",
          2 * d, GM_NEWTON_D);
  return 3 + gm_stats_len(d, k) + (XLENGTH(hs) ? gm_newton_nsums(d, k) : 0);
}

/* One pass over m rows of weight 1 (x, m x d) at P, into o = c(status, log-likelihood,
 * entropy, the sums, Newton's sums in the coordinates hs = c(centre, scale) unless hs is
 * NULL), pass_len() doubles.  Returns the status. */
static int unit_pass(const double *x, int m, int d, const gm_par *P, const int *fl,
                     const double *hs, double *o)
{
  const void *vmax = vmaxget();
  double *w = (double *) R_alloc(m, sizeof(double));
  for (int i = 0; i < m; i++) w[i] = 1.0;
  const gm_data D = {m, d, x, w, m, 1, NULL, NULL, NULL};
  gm_pass_work pw;
  gm_pass_alloc(&pw, m, d, P->k, fl[2]);
  pw.diag = fl[0] != 0;
  pw.full = fl[1] != 0;
  const size_t nst = gm_stats_len(d, P->k);
  const size_t nh = hs ? gm_newton_nsums(d, P->k) : 0;
  if (hs) {
    gm_pass_alloc_newton(&pw, d, P->k);
    gm_hess_setup(d, P->k, hs, hs + d, &pw.hs);
  }
  double ll = 0.0, ent = 0.0;
  memset(o, 0, (3 + nst + nh) * sizeof(double));
  const int status = gm_pass(&D, P, NULL, NULL, &ll, &ent, o + 3, NULL, &pw);
  if (!status && nh) memcpy(o + 3 + nst, pw.hs.sum, nh * sizeof(double));
  o[0] = status;
  o[1] = status ? NA_REAL : ll;
  o[2] = status ? NA_REAL : ent;
  vmaxset(vmax);
  return status;
}

/* gmm_pass_stats(x, pro, mean, chol, logdet, flags, hs): one pass over the rows of x
 * (a piece of rows out of memory, each of weight 1) at the parameters given by their
 * Cholesky factors, with flags = c(diag, full, threads) as in gm_pass_work and hs
 * empty or Newton's coordinates.  Returns c(status, log-likelihood, entropy, the sums)
 * as gm_ext_pass reads them. */
SEXP gmm_pass_stats(SEXP x, SEXP pro, SEXP mean, SEXP chol, SEXP logdet, SEXP flags,
                    SEXP hs)
{
  int n, d, fl[3];
  gm_matrix_dims(x, "x", &n, &d);
  gm_par P;
  pass_args(pro, mean, chol, logdet, flags, d, &P, fl);
  SEXP out = PROTECT(allocVector(REALSXP, pass_len(d, P.k, hs)));
  unit_pass(gm_finite_arg(x, "x"), n, d, &P, fl, XLENGTH(hs) ? REAL(hs) : NULL, REAL(out));
  UNPROTECT(1);
  return out;
}

/* What a reader of rows in blocks calls on each block; non-zero stops the reading
 * (a failed pass). */
typedef int (*file_block_fn)(void *ctx, const double *x, int m, int d);

/* ---- the first scan: checks and moments -------------------------------------- */

/* Column sums and cross-products about c0, ranges, and whether every value is
 * finite (it stops at the first block that is not). */
typedef struct {
  const double *c0;
  double *s1, *s2, *lo, *hi, *dev;
  int finite;
} scan_ctx;

static int scan_block(void *arg, const double *x, int m, int d)
{
  scan_ctx *X = (scan_ctx *) arg;
  if (!gm_all_finite(x, (R_xlen_t) m * d, 0)) {
    X->finite = 0;
    return 1;
  }
  for (int i = 0; i < m; i++) {
    for (int j = 0; j < d; j++) {
      const double v = x[i + (size_t) j * m];
      X->dev[j] = v - X->c0[j];
      if (v < X->lo[j]) X->lo[j] = v;
      if (v > X->hi[j]) X->hi[j] = v;
    }
    for (int j = 0; j < d; j++) {
      X->s1[j] += X->dev[j];
      for (int l = 0; l <= j; l++) X->s2[j + (size_t) l * d] += X->dev[j] * X->dev[l];
    }
  }
  return 0;
}

static void file_blocks(SEXP path, SEXP size, file_block_fn block, void *ctx);

/* gmm_scan(data, size, c0): list(finite, s1, s2, lo, hi) of the rows of data, a double
 * matrix (a piece in memory) or the name of a file as gmm_file_pass reads it, with
 * size = c(rows, columns): whether every value is finite, the column sums and
 * cross-products about c0, and the columns' ranges. */
SEXP gmm_scan(SEXP data, SEXP size, SEXP c0)
{
  const double *nd = gm_real_arg(size, "size", 2);
  const int d = (int) nd[1];
  scan_ctx X = {gm_real_arg(c0, "c0", d), NULL, NULL, NULL, NULL, NULL, 1};
  const char *names[] = {"finite", "s1", "s2", "lo", "hi"};
  SEXP out = PROTECT(gm_new_list(names, 5));
  SET_VECTOR_ELT(out, 1, allocVector(REALSXP, d));
  SET_VECTOR_ELT(out, 2, allocMatrix(REALSXP, d, d));
  SET_VECTOR_ELT(out, 3, allocVector(REALSXP, d));
  SET_VECTOR_ELT(out, 4, allocVector(REALSXP, d));
  X.s1 = REAL(VECTOR_ELT(out, 1));
  X.s2 = REAL(VECTOR_ELT(out, 2));
  X.lo = REAL(VECTOR_ELT(out, 3));
  X.hi = REAL(VECTOR_ELT(out, 4));
  X.dev = (double *) R_alloc(d, sizeof(double));
  for (int j = 0; j < d; j++) {
    X.s1[j] = 0.0;
    X.lo[j] = R_PosInf;
    X.hi[j] = R_NegInf;
  }
  memset(X.s2, 0, (size_t) d * d * sizeof(double));
  if (TYPEOF(data) == REALSXP) {
    int n, dx;
    gm_matrix_dims(data, "data", &n, &dx);
    if (n != nd[0] || dx != d) error("'size' must be dim(data)");
    scan_block(&X, REAL(data), n, d);
  } else {
    file_blocks(data, size, scan_block, &X);
  }
  for (int j = 0; j < d; j++)
    for (int l = 0; l < j; l++) X.s2[l + (size_t) j * d] = X.s2[j + (size_t) l * d];
  SET_VECTOR_ELT(out, 0, ScalarLogical(X.finite));
  UNPROTECT(1);
  return out;
}

/* ---- a file-backed big.matrix, read directly --------------------------------- */

/* A file of doubles in column-major order (a file-backed big.matrix of type double,
 * not separated): column j of the n rows starts at byte 8 n j.  Up to GM_FILE_FDS
 * columns are read through a descriptor each, so that the kernel sees sequential
 * streams and reads ahead on each (more columns share one descriptor: pread needs
 * no file position); rows go through a buffer of at most GM_FILE_ROWS rows and 32 MB,
 * so that memory stays small whatever the size of the file (the page cache holds
 * what the kernel keeps of it, outside the process). */
#ifndef _WIN32

#define GM_FILE_ROWS 65536
#define GM_FILE_FDS 64


typedef struct {
  const char *path;
  int n, d, rows;  /* rows per block */
  int nfd;         /* descriptors: d, or 1 for more than GM_FILE_FDS columns */
  int *fd;         /* nfd descriptors, -1 when closed */
  double *buf;     /* rows x d */
  file_block_fn block;
  void *ctx;
} file_reader;

static void read_fully(file_reader *F, int j, double *to, size_t bytes, off_t at)
{
  char *p = (char *) to;
  while (bytes > 0) {
    ssize_t got = pread(F->fd[F->nfd == 1 ? 0 : j], p, bytes, at);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      error("reading '%s': %s", F->path, got < 0 ? strerror(errno) : "the file is shorter than the big.matrix");
    p += got;
    bytes -= (size_t) got;
    at += got;
  }
}

static SEXP file_body(void *arg)
{
  file_reader *F = (file_reader *) arg;
  for (int j = 0; j < F->nfd; j++) {
    F->fd[j] = open(F->path, O_RDONLY);
    if (F->fd[j] < 0) error("cannot open '%s': %s", F->path, strerror(errno));
#ifdef POSIX_FADV_SEQUENTIAL
    if (F->nfd > 1)
      posix_fadvise(F->fd[j], (off_t) 8 * F->n * j, (off_t) 8 * F->n, POSIX_FADV_SEQUENTIAL);
#endif
  }
  for (R_xlen_t i0 = 0; i0 < F->n; i0 += F->rows) {
    const int m = F->n - i0 < F->rows ? (int) (F->n - i0) : F->rows;
    for (int j = 0; j < F->d; j++)
      read_fully(F, j, F->buf + (size_t) j * m, (size_t) m * sizeof(double),
                 (off_t) 8 * ((off_t) j * F->n + i0));
    if (F->block(F->ctx, F->buf, m, F->d)) break;
    R_CheckUserInterrupt();
  }
  return R_NilValue;
}

static void file_cleanup(void *arg, Rboolean jump)
{
  (void) jump;
  file_reader *F = (file_reader *) arg;
  for (int j = 0; j < F->nfd; j++)
    if (F->fd[j] >= 0) {
      close(F->fd[j]);
      F->fd[j] = -1;
    }
}

/* Runs block(ctx, x, m, d) on the file's rows, a block at a time, in order, until it
 * returns non-zero; the descriptors are closed however it ends (an error or an
 * interrupt). */
static void file_blocks(SEXP path, SEXP size, file_block_fn block, void *ctx)
{
  if (TYPEOF(path) != STRSXP || LENGTH(path) != 1 || STRING_ELT(path, 0) == NA_STRING)
    error("'path' must be a file name");
  const double *nd = gm_real_arg(size, "size", 2);
  if (!(nd[0] >= 1.0 && nd[0] <= INT_MAX && nd[1] >= 1.0 && nd[1] <= INT_MAX))
    error("'size' must be c(rows, columns)");
  file_reader F = {R_ExpandFileName(CHAR(STRING_ELT(path, 0))), (int) nd[0], (int) nd[1], 0,
                   0, NULL, NULL, block, ctx};
  F.nfd = F.d <= GM_FILE_FDS ? F.d : 1;
  F.fd = (int *) R_alloc(F.nfd, sizeof(int));
  for (int j = 0; j < F.nfd; j++) F.fd[j] = -1;
  const double cap = (double) (1 << 22) / F.d;   /* 32 MB of doubles */
  F.rows = cap >= GM_FILE_ROWS ? GM_FILE_ROWS : cap >= 1.0 ? (int) cap : 1;
  if (F.rows > F.n) F.rows = F.n;
  F.buf = (double *) R_alloc((size_t) F.rows * F.d, sizeof(double));
  SEXP cont = PROTECT(R_MakeUnwindCont());
  R_UnwindProtect(file_body, &F, file_cleanup, &F, cont);
  UNPROTECT(1);
}

/* One pass over the file's rows: unit_pass on each block, the sums added in order. */
typedef struct {
  gm_par P;
  int fl[3];       /* c(diag, full, threads) */
  const double *hs;  /* Newton's coordinates, or NULL */
  double *out;     /* c(status, ll, ent, sums) */
  double *part;    /* one block's */
  size_t len;
} file_pass_ctx;

static int file_pass_block(void *arg, const double *x, int m, int d)
{
  file_pass_ctx *X = (file_pass_ctx *) arg;
  const int status = unit_pass(x, m, d, &X->P, X->fl, X->hs, X->part);
  if (status) {
    X->out[0] = status;
  } else {
    for (size_t e = 1; e < X->len; e++) X->out[e] += X->part[e];
  }
  return status;   /* failed: the rest is not needed */
}

/* gmm_file_pass(path, size, pro, mean, chol, logdet, flags, hs): as gmm_pass_stats,
 * on the rows of the file (size = c(rows, columns)). */
SEXP gmm_file_pass(SEXP path, SEXP size, SEXP pro, SEXP mean, SEXP chol, SEXP logdet,
                   SEXP flags, SEXP hs)
{
  file_pass_ctx X;
  pass_args(pro, mean, chol, logdet, flags, (int) gm_real_arg(size, "size", 2)[1], &X.P, X.fl);
  X.len = pass_len(X.P.d, X.P.k, hs);
  X.hs = XLENGTH(hs) ? REAL(hs) : NULL;
  SEXP out = PROTECT(allocVector(REALSXP, X.len));
  X.out = REAL(out);
  memset(X.out, 0, X.len * sizeof(double));
  X.part = (double *) R_alloc(X.len, sizeof(double));
  file_blocks(path, size, file_pass_block, &X);
  if (X.out[0] != 0.0) X.out[1] = X.out[2] = NA_REAL;
  UNPROTECT(1);
  return out;
}

/* predict() on the file's rows: each block's E-step, its results written at the
 * block's rows. */
typedef struct {
  gm_par P;
  int type;        /* 0: class, 1: responsibilities, 2: log density */
  int threads, n;
  R_xlen_t at;     /* rows done */
  double *z, *rowll;   /* one block's */
  SEXP out;
} file_estep_ctx;

static int file_estep_block(void *arg, const double *x, int m, int d)
{
  file_estep_ctx *X = (file_estep_ctx *) arg;
  const int k = X->P.k;
  const void *vmax = vmaxget();
  gm_data D = {m, d, x, NULL, m, 1, NULL, NULL, NULL};
  gm_pass_work pw;
  gm_pass_alloc(&pw, m, d, k, X->threads);
  double ll;
  if (gm_pass(&D, &X->P, X->z, X->rowll, &ll, NULL, NULL, NULL, &pw))
    error("some rows are too far from every component for their density to be "
          "represented, even on the log scale");
  vmaxset(vmax);
  if (X->type == 0) {   /* as in memory; the uncertainty goes to scratch */
    gm_classify(m, k, X->z, INTEGER(X->out) + X->at, X->rowll);
  } else if (X->type == 1) {
    for (int c = 0; c < k; c++)
      memcpy(REAL(X->out) + X->at + (size_t) c * X->n, X->z + (size_t) c * m, m * sizeof(double));
  } else {
    memcpy(REAL(X->out) + X->at, X->rowll, m * sizeof(double));
  }
  X->at += m;
  return 0;
}

/* gmm_file_estep(path, size, pro, mean, sigma, type, threads): for the file's rows,
 * the class (type 0), the n x K responsibilities (1) or the log mixture density (2)
 * under the given parameters, as gmm_estep() computes them in memory. */
SEXP gmm_file_estep(SEXP path, SEXP size, SEXP pro, SEXP mean, SEXP sigma, SEXP type,
                    SEXP threads)
{
  int d, k;
  gm_matrix_dims(mean, "mean", &d, &k);
  const double *nd = gm_real_arg(size, "size", 2);
  if (!(nd[0] >= 1.0 && nd[0] <= INT_MAX) || (int) nd[1] != d)
    error("'size' must be c(rows, %d)", d);
  const int n = (int) nd[0], ty = asInteger(type), th = asInteger(threads);
  if (ty < 0 || ty > 2) error("'type' must be 0, 1 or 2");
  if (th < 1 || th > GM_MAX_THREADS) error("'threads' must be from 1 to %d", GM_MAX_THREADS);
  file_estep_ctx X;
  gm_par P = {d, k, (double *) gm_finite_arg(pro, "pro"), (double *) gm_finite_arg(mean, "mean"),
              (double *) gm_finite_arg(sigma, "sigma"),
              (double *) R_alloc((size_t) d * d * k, sizeof(double)),
              (double *) R_alloc(k, sizeof(double)), 0, 0.0};
  if (XLENGTH(pro) != k || XLENGTH(sigma) != (R_xlen_t) d * d * k)
    error("'pro' and 'sigma' must be for %d components", k);
  int bad = -1;
  if (gm_chol(d, k, P.sigma, P.chol, P.logdet, NULL, 0.0, &bad))
    error("the covariance matrix of component %d is not positive definite", bad + 1);
  X.P = P;
  X.type = ty;
  X.threads = th;
  X.n = n;
  X.at = 0;
  const int rows = n < GM_FILE_ROWS ? n : GM_FILE_ROWS;
  X.z = (double *) R_alloc((size_t) rows * k, sizeof(double));
  X.rowll = (double *) R_alloc(rows, sizeof(double));
  X.out = PROTECT(ty == 0 ? allocVector(INTSXP, n) : ty == 1 ? allocMatrix(REALSXP, n, k)
                          : allocVector(REALSXP, n));
  file_blocks(path, size, file_estep_block, &X);
  UNPROTECT(1);
  return X.out;
}

#else   /* no pread(): R reads the blocks through bigmemory (R/source.R) */

static void file_blocks(SEXP path, SEXP size, file_block_fn block, void *ctx)
{
  error("reading a big.matrix's file directly is not available on this platform");
}

SEXP gmm_file_pass(SEXP path, SEXP size, SEXP pro, SEXP mean, SEXP chol, SEXP logdet,
                   SEXP flags)
{
  error("reading a big.matrix's file directly is not available on this platform");
}

SEXP gmm_file_estep(SEXP path, SEXP size, SEXP pro, SEXP mean, SEXP sigma, SEXP type,
                    SEXP threads)
{
  error("reading a big.matrix's file directly is not available on this platform");
}
#endif
