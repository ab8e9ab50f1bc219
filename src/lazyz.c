/* The chosen fit's responsibilities, computed when first read.
 *
 * A fit of n rows and K components holds an n x K matrix of responsibilities, which
 * gmm() returns as `z`.  Writing it takes one more pass over the rows and n K doubles
 * of memory new to the process (24 MB for a million rows and three components), a
 * large part of a fit's time when the fit itself takes only a few dozen passes; yet
 * many uses of a fit (its parameters, BIC, predict() on other data) never read it.
 * So `z` is an R double matrix of R's ALTREP kind (R >= 3.5, R_ext/Altrep.h) that
 * holds the data, the parameters and the settings of that pass, and makes the pass
 * the first time anything reads its values: the same pass, with the same bits, that
 * the sweep would have made at the end of the fit.  The values are then kept, so the
 * pass runs once.  Its length, dim and dimnames are there without the pass; copying
 * it, serializing it (saveRDS() writes it as an ordinary matrix) or reading any
 * element makes the pass.
 *
 * data1 = list(x, pro, mean, sigma, c(n, d, k, noise, diag, threads), lognoise,
 *              labels or NULL), x and the labels dropped once the values are there;
 * data2 = the values once computed, else NULL.  Until then z keeps x alive, as the
 * fit does.  A process forked before z is read (parallel::mclapply) computes it in
 * each child that reads it. */
#include <string.h>
#include "gaussmix.h"
#include <R_ext/Altrep.h>

static R_altrep_class_t z_class;

enum { Z_X, Z_PRO, Z_MEAN, Z_SIGMA, Z_DIMS, Z_LOGNOISE, Z_LAB, Z_NSTATE };

/* An unread matrix of responsibilities for the rows x and the parameters P (k
 * Gaussians, with the noise component when P->noise), as gm_pass() computes them with
 * `diag` (the model's covariances are diagonal) on `threads` threads, the rows' known
 * components `lab` (an integer vector or R_NilValue). */
SEXP gm_lazy_z(SEXP x, const gm_par *P, int diag, int threads, SEXP lab)
{
  const int n = Rf_nrows(x), d = P->d, k = P->k, kz = k + P->noise;
  SEXP state = PROTECT(allocVector(VECSXP, Z_NSTATE));
  SET_VECTOR_ELT(state, Z_X, x);
  SEXP pro = allocVector(REALSXP, kz);
  SET_VECTOR_ELT(state, Z_PRO, pro);
  memcpy(REAL(pro), P->pro, kz * sizeof(double));
  SEXP mean = allocVector(REALSXP, (R_xlen_t) d * k);
  SET_VECTOR_ELT(state, Z_MEAN, mean);
  memcpy(REAL(mean), P->mean, (size_t) d * k * sizeof(double));
  SEXP sigma = allocVector(REALSXP, (R_xlen_t) d * d * k);
  SET_VECTOR_ELT(state, Z_SIGMA, sigma);
  memcpy(REAL(sigma), P->sigma, (size_t) d * d * k * sizeof(double));
  SEXP dims = allocVector(INTSXP, 6);
  SET_VECTOR_ELT(state, Z_DIMS, dims);
  const int v[6] = {n, d, k, P->noise, diag, threads};
  memcpy(INTEGER(dims), v, sizeof v);
  SET_VECTOR_ELT(state, Z_LOGNOISE, ScalarReal(P->noise ? P->lognoise : 0.0));
  SET_VECTOR_ELT(state, Z_LAB, lab);
  SEXP z = PROTECT(R_new_altrep(z_class, state, R_NilValue));
  SEXP dim = allocVector(INTSXP, 2);
  INTEGER(dim)[0] = n;
  INTEGER(dim)[1] = kz;
  setAttrib(z, R_DimSymbol, dim);
  UNPROTECT(2);
  return z;
}

static R_xlen_t z_length(SEXP z)
{
  const int *v = INTEGER(VECTOR_ELT(R_altrep_data1(z), Z_DIMS));
  return (R_xlen_t) v[0] * (v[2] + v[3]);
}

/* The values, computed by the pass if they are not yet.  Its errors would surface in
 * whatever reads z first (print(), identical(), saveRDS()), but they cannot arise: the
 * sweep checked the covariances (best_out) and the fit's own last pass, at these
 * parameters, gave a finite log-likelihood, so every row's responsibilities are
 * finite. */
static SEXP z_values(SEXP z)
{
  SEXP have = R_altrep_data2(z);
  if (have != R_NilValue) return have;
  SEXP state = R_altrep_data1(z);
  const int *v = INTEGER(VECTOR_ELT(state, Z_DIMS));
  const int n = v[0], d = v[1], k = v[2], noise = v[3], kz = k + noise;
  const void *vmax = vmaxget();
  SEXP x = VECTOR_ELT(state, Z_X), lab = VECTOR_ELT(state, Z_LAB);
  gm_data D;
  memset(&D, 0, sizeof D);
  D.n = n;
  D.d = d;
  D.x = REAL(x);
  D.wsum = n;
  D.unit = 1;
  D.lab = lab == R_NilValue ? NULL : INTEGER(lab);
  gm_par P;
  P.d = d;
  P.k = k;
  P.pro = REAL(VECTOR_ELT(state, Z_PRO));
  P.mean = REAL(VECTOR_ELT(state, Z_MEAN));
  P.sigma = REAL(VECTOR_ELT(state, Z_SIGMA));
  P.chol = (double *) R_alloc((size_t) d * d * k, sizeof(double));
  P.logdet = (double *) R_alloc(k, sizeof(double));
  P.noise = noise;
  P.lognoise = REAL(VECTOR_ELT(state, Z_LOGNOISE))[0];
  int bad = -1;
  if (gm_chol(d, k, P.sigma, P.chol, P.logdet, NULL, 0.0, &bad))
    error("the fit's covariance %d is not positive definite", bad + 1);
  SEXP out = PROTECT(gm_alloc_rows(n, kz));
  gm_pass_work pw;
  gm_pass_alloc(&pw, n, d, kz, v[5]);
  pw.diag = v[4];
  double ll;
  if (gm_pass(&D, &P, REAL(out), NULL, &ll, NULL, NULL, NULL, &pw))
    error("the fit's responsibilities are not finite");
  R_set_altrep_data2(z, out);
  /* the rows and labels are no longer needed: a z kept after its fit and data are
   * gone must not keep them alive */
  SET_VECTOR_ELT(state, Z_X, R_NilValue);
  SET_VECTOR_ELT(state, Z_LAB, R_NilValue);
  UNPROTECT(1);
  vmaxset(vmax);
  return out;
}

static void *z_dataptr(SEXP z, Rboolean writeable)
{
  (void) writeable;
  return REAL(z_values(z));
}

static const void *z_dataptr_or_null(SEXP z)
{
  SEXP have = R_altrep_data2(z);
  return have == R_NilValue ? NULL : REAL(have);
}

static double z_elt(SEXP z, R_xlen_t i)
{
  return REAL(z_values(z))[i];
}

static R_xlen_t z_get_region(SEXP z, R_xlen_t i, R_xlen_t n, double *buf)
{
  const R_xlen_t len = z_length(z);
  const R_xlen_t m = i + n > len ? len - i : n;
  if (m <= 0) return 0;
  memcpy(buf, REAL(z_values(z)) + i, (size_t) m * sizeof(double));
  return m;
}

static Rboolean z_inspect(SEXP z, int pre, int deep, int pvec,
                          void (*inspect_subtree)(SEXP, int, int, int))
{
  (void) pre; (void) deep; (void) pvec; (void) inspect_subtree;
  Rprintf(" gaussmix responsibilities (%s)\n",
          R_altrep_data2(z) == R_NilValue ? "not yet computed" : "computed");
  return TRUE;
}

void gm_lazy_z_init(DllInfo *dll)
{
  z_class = R_make_altreal_class("gaussmix_z", "gaussmix", dll);
  R_set_altrep_Length_method(z_class, z_length);
  R_set_altrep_Inspect_method(z_class, z_inspect);
  R_set_altvec_Dataptr_method(z_class, z_dataptr);
  R_set_altvec_Dataptr_or_null_method(z_class, z_dataptr_or_null);
  R_set_altreal_Elt_method(z_class, z_elt);
  R_set_altreal_Get_region_method(z_class, z_get_region);
}
