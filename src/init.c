/* Registration of the .Call entry points, and the thread pool's end at unload. */
#include <R_ext/Rdynload.h>
#include "gaussmix.h"

static const R_CallMethodDef call_methods[] = {
  {"gmm_fit",    (DL_FUNC) &gmm_fit,    7},
  {"gmm_estep",  (DL_FUNC) &gmm_estep,  4},
  {"gmm_mstep",  (DL_FUNC) &gmm_mstep,  6},
  {"gmm_newton_system", (DL_FUNC) &gmm_newton_system, 5},
  {"gmm_single_pass", (DL_FUNC) &gmm_single_pass, 4},
  {"gmm_models", (DL_FUNC) &gmm_models, 0},
  {"gmm_kmeans", (DL_FUNC) &gmm_kmeans, 4},
  {"gmm_df",     (DL_FUNC) &gmm_df,     3},
  {"gmm_ward",   (DL_FUNC) &gmm_ward,   3},
  {"gmm_sample_rows", (DL_FUNC) &gmm_sample_rows, 2},
  {"gmm_hcvvv",  (DL_FUNC) &gmm_hcvvv,  4},
  {"gmm_hc_trees", (DL_FUNC) &gmm_hc_trees, 5},
  {"gmm_hc_log", (DL_FUNC) &gmm_hc_log, 1},
  {"gmm_suff",   (DL_FUNC) &gmm_suff,   4},
  {"gmm_quantile_suff", (DL_FUNC) &gmm_quantile_suff, 4},
  {"gmm_layout", (DL_FUNC) &gmm_layout, 1},
  {"gmm_sweep",  (DL_FUNC) &gmm_sweep,  1},
  {"gmm_finite", (DL_FUNC) &gmm_finite, 1},
  {"gmm_colstats", (DL_FUNC) &gmm_colstats, 2},
  {"gmm_distinct", (DL_FUNC) &gmm_distinct, 3},
  {"gmm_classify", (DL_FUNC) &gmm_classify, 1},
  {"gmm_pass_stats", (DL_FUNC) &gmm_pass_stats, 7},
  {"gmm_file_pass", (DL_FUNC) &gmm_file_pass, 8},
  {"gmm_scan",      (DL_FUNC) &gmm_scan,      3},
  {"gmm_file_estep", (DL_FUNC) &gmm_file_estep, 7},
  {NULL, NULL, 0}
};

void R_init_gaussmix(DllInfo *dll)
{
  R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
  R_useDynamicSymbols(dll, FALSE);
  R_forceSymbols(dll, TRUE);
  gm_estep_init();
  gm_lazy_z_init(dll);
}

/* The pool's threads run code of this library: they end before it is unloaded. */
void R_unload_gaussmix(DllInfo *dll)
{
  (void) dll;
  gm_pool_stop();
}
