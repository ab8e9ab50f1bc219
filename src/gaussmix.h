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
#ifndef FCONE
#define FCONE
#endif

/* Rows are processed in blocks of this many, so scratch stays O(block * d). */
#define GM_BLOCK 256

/* Status codes of a fit; GM_OK is 0 so that "if (status)" reads as "failed". */
enum {
  GM_OK = 0,
  GM_SINGULAR,   /* a covariance is not positive definite or is numerically singular */
  GM_COLLAPSE,   /* a component's weight fell to (numerically) zero */
  GM_NONFINITE   /* the log-likelihood is not finite */
};

typedef struct {
  int n, d;
  const double *x;      /* n x d */
  const double *w;      /* n frequency weights */
  double wsum;          /* sum of w: the effective sample size */
  const double *colvar; /* d weighted column variances, the scale for singularity checks */
} gm_data;

typedef struct {
  int d, k;
  double *pro;    /* k */
  double *mean;   /* d x k */
  double *sigma;  /* d x d x k */
  double *chol;   /* d x d x k, lower Cholesky factors, zero above the diagonal */
  double *logdet; /* k, log det sigma_k */
} gm_par;

/* Covariance update of one model from the weighted scatter matrices
 * W_k = sum_i w_i z_ik (x_i - mu_k)(x_i - mu_k)' and the component sizes n_k. */
typedef void (*gm_cov_fn)(int d, int k, double wsum, const double *nk,
                          const double *W, double *sigma);
typedef double (*gm_ncov_fn)(double d, double k);

typedef struct {
  const char *name;
  int multivariate;     /* 0: for d = 1 only; 1: for d >= 2 only */
  gm_cov_fn cov;
  gm_ncov_fn ncov;      /* number of free covariance parameters */
} gm_model;

typedef struct {
  double tol;     /* relative log-likelihood change that counts as converged */
  int max_iter;
  double reg;     /* ridge added to every covariance diagonal after the M-step */
  double eps;     /* relative floor for variances and component weights */
} gm_ctrl;

/* linalg.c */
int gm_chol(int d, int k, const double *sigma, double *chol, double *logdet,
            const double *colvar, double eps, int *bad);

/* estep.c */
int gm_estep(const gm_data *D, const gm_par *P, double *z, double *rowll,
             double *loglik, double *scratch);

/* mstep.c */
const gm_model *gm_find_model(const char *name);
int gm_model_count(void);
const gm_model *gm_model_at(int i);
int gm_mstep(const gm_data *D, const double *z, const gm_model *M, gm_par *P,
             double reg, double eps, double *nk, double *W, double *scratch,
             int *bad);

/* kmeans.c */
void gm_kmeanspp(int n, int d, int k, const double *x, const double *w,
                 int lloyd, int *cl, double *centres, double *dist, double *work);

/* registered .Call entry points */
SEXP gmm_fit(SEXP x, SEXP w, SEXP model, SEXP z0, SEXP par0, SEXP control);
SEXP gmm_estep(SEXP x, SEXP pro, SEXP mean, SEXP sigma);
SEXP gmm_mstep(SEXP x, SEXP w, SEXP z, SEXP model, SEXP reg);
SEXP gmm_models(void);
SEXP gmm_df(SEXP model, SEXP d, SEXP k);
SEXP gmm_kmeans(SEXP x, SEXP w, SEXP k, SEXP lloyd);

#endif
