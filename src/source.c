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
#include <string.h>
#include <math.h>
#include "gaussmix.h"

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
  SEXP call = PROTECT(lang6(D->ext->fn, pro, mean, chol, logdet, flags));
  SEXP res = PROTECT(eval(call, R_GlobalEnv));
  if (TYPEOF(res) != REALSXP || XLENGTH(res) != (R_xlen_t) (3 + nst))
    error("a pass over the rows out of memory returned no sums of length %d", (int) (3 + nst));
  const double *r = REAL(res);
  int status = r[0] == 0.0 ? GM_OK : r[0] == (double) GM_NONFINITE ? GM_NONFINITE : -1;
  if (status < 0) error("a pass over the rows out of memory returned status %g", r[0]);
  if (!status && !isfinite(r[1])) status = GM_NONFINITE;
  if (!status) {
    *ll = r[1];
    if (ent) *ent = r[2];
    if (stats) {
      memcpy(stats, r + 3, nst * sizeof(double));
      stats[0] = 0.0;
    }
  }
  pw->noise_sum = 0.0;
  UNPROTECT(7);
  return status;
}

/* gmm_pass_stats(x, pro, mean, chol, logdet, flags): one pass over the rows of x (a
 * piece of rows out of memory, each of weight 1) at the parameters given by their
 * Cholesky factors, with flags = c(diag, full, threads) as in gm_pass_work.  Returns
 * c(status, log-likelihood, entropy, the sums) as gm_ext_pass reads them. */
SEXP gmm_pass_stats(SEXP x, SEXP pro, SEXP mean, SEXP chol, SEXP logdet, SEXP flags)
{
  gm_data D;
  gm_matrix_dims(x, "x", &D.n, &D.d);
  D.x = gm_finite_arg(x, "x");
  const int n = D.n, d = D.d;
  int dm, k;
  gm_matrix_dims(mean, "mean", &dm, &k);
  if (dm != d) error("'mean' must have %d rows", d);
  gm_par P = {d, k, (double *) gm_real_arg(pro, "pro", k), (double *) REAL(mean), NULL,
              (double *) gm_real_arg(chol, "chol", (R_xlen_t) d * d * k),
              (double *) gm_real_arg(logdet, "logdet", k), 0, 0.0};
  if (TYPEOF(flags) != INTSXP || LENGTH(flags) != 3 || INTEGER(flags)[2] < 1 ||
      INTEGER(flags)[2] > GM_MAX_THREADS)
    error("'flags' must be c(diag, full, threads)");
  double *w = (double *) R_alloc(n, sizeof(double));
  for (int i = 0; i < n; i++) w[i] = 1.0;
  D.w = w;
  D.wsum = n;
  D.unit = 1;
  D.colvar = NULL;
  D.lab = NULL;
  D.ext = NULL;
  gm_pass_work pw;
  gm_pass_alloc(&pw, n, d, k, INTEGER(flags)[2]);
  pw.diag = INTEGER(flags)[0] != 0;
  pw.full = INTEGER(flags)[1] != 0;
  const size_t nst = gm_stats_len(d, k);
  SEXP out = PROTECT(allocVector(REALSXP, 3 + nst));
  double *o = REAL(out), ll = 0.0, ent = 0.0;
  memset(o, 0, (3 + nst) * sizeof(double));
  const int status = gm_pass(&D, &P, NULL, NULL, &ll, &ent, o + 3, NULL, &pw);
  o[0] = status;
  o[1] = status ? NA_REAL : ll;
  o[2] = status ? NA_REAL : ent;
  UNPROTECT(1);
  return out;
}
