/* Cholesky factors and log-determinants of the component covariances. */
#include <math.h>
#include <string.h>
#include "gaussmix.h"

/* Factor sigma_k = L_k L_k' for k components into chol (lower, zero above the
 * diagonal) and write log det sigma_k.  A factor counts as singular when LAPACK
 * reports the matrix is not positive definite, or when a conditional variance
 * L_jj^2 (the variance of coordinate j given the earlier ones) is at most eps
 * times the data variance of that coordinate; colvar may be NULL, and then only
 * strict positive definiteness is required.  Returns GM_OK, or GM_SINGULAR with
 * the failing component in *bad. */
int gm_chol(int d, int k, const double *sigma, double *chol, double *logdet,
            const double *colvar, double eps, int *bad)
{
  const size_t dd = (size_t) d * d;
  for (int c = 0; c < k; c++) {
    double *L = chol + c * dd;
    int info = 0;
    memcpy(L, sigma + c * dd, dd * sizeof(double));
    F77_CALL(dpotrf)("L", &d, L, &d, &info FCONE);
    if (info != 0) {
      *bad = c;
      return GM_SINGULAR;
    }
    double ld = 0.0;
    for (int j = 0; j < d; j++) {
      double ljj = L[j + (size_t) j * d];
      double floor = colvar ? eps * colvar[j] : 0.0;
      if (!(ljj > 0.0) || !(ljj * ljj > floor) || !isfinite(ljj)) {
        *bad = c;
        return GM_SINGULAR;
      }
      ld += log(ljj);
      for (int i = 0; i < j; i++) L[i + (size_t) j * d] = 0.0;
    }
    logdet[c] = 2.0 * ld;
  }
  return GM_OK;
}

/* Eigenvectors (columns of vec, d x d) and eigenvalues (ascending) of the symmetric
 * matrix A, by LAPACK dsyev; work holds lwork >= 3 d doubles.  Returns LAPACK's info. */
int gm_eigen(int d, const double *A, double *vec, double *val, double *work, int lwork)
{
  int info = 0;
  memcpy(vec, A, (size_t) d * d * sizeof(double));
  F77_CALL(dsyev)("V", "L", &d, vec, &d, val, work, &lwork, &info FCONE FCONE);
  return info;
}

/* inv = A^{-1} and *logdet = log det A for symmetric positive definite A.  Returns
 * GM_OK or GM_SINGULAR. */
int gm_chol_inverse(int d, const double *A, double *inv, double *logdet)
{
  int info = 0;
  memcpy(inv, A, (size_t) d * d * sizeof(double));
  F77_CALL(dpotrf)("L", &d, inv, &d, &info FCONE);
  if (info != 0) return GM_SINGULAR;
  double ld = 0.0;
  for (int j = 0; j < d; j++) {
    const double ljj = inv[j + (size_t) j * d];
    if (!(ljj > 0.0) || !isfinite(ljj)) return GM_SINGULAR;
    ld += log(ljj);
  }
  F77_CALL(dpotri)("L", &d, inv, &d, &info FCONE);
  if (info != 0) return GM_SINGULAR;
  for (int j = 0; j < d; j++)
    for (int i = 0; i < j; i++) inv[i + (size_t) j * d] = inv[j + (size_t) i * d];
  *logdet = 2.0 * ld;
  return GM_OK;
}
