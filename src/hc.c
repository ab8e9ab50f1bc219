/* The hierarchical start: Ward's agglomeration, which for spherical components of
 * equal volume is the classification-likelihood agglomeration (Fraley 1998).
 *
 * Clusters A and B merge at the cost n_A n_B / (n_A + n_B) |c_A - c_B|^2 (the rise in
 * the within-cluster sum of squares; c are centroids, n sizes), computed from the
 * centroids, so memory stays O(n d) rather than a distance matrix's O(n^2).  The
 * merges are found by the nearest-neighbour chain (Murtagh 1983; Mullner 2011,
 * arXiv:1109.2378), which for a reducible criterion such as Ward's gives the same
 * tree as merging the closest pair each time, in O(n^2) time; one-dimensional data
 * without ties take O(n log n) (ward_merges_1d).  Sizes start at the frequency
 * weights, so a row of weight 2 acts as two identical rows.
 */
#include <stdlib.h>
#include <string.h>
#include <R_ext/Random.h>
#include "gaussmix.h"

typedef struct {
  int a, b;      /* the clusters merged (by the index of a row in each) */
  int step;      /* when the chain found it: breaks ties in cost */
  double cost;
} gm_merge;

static inline int merge_before(const gm_merge *x, const gm_merge *y)
{
  return x->cost < y->cost || (x->cost == y->cost && x->step < y->step);
}

/* Sorts m[0 .. n - 1] by cost, and by step among equal costs (a total order: steps
 * differ), by merging runs bottom-up; qsort's calls through a pointer took most of a
 * 1-D tree's time.  Already sorted input (the 1-D tree's merges nearly always are)
 * costs one pass; tmp holds n merges. */
static void sort_merges(gm_merge *m, int n, gm_merge *tmp)
{
  int sorted = 1;
  for (int i = 1; i < n && sorted; i++) sorted = !merge_before(m + i, m + i - 1);
  if (sorted) return;
  gm_merge *src = m, *dst = tmp;
  for (int width = 1; width < n; width *= 2) {
    for (int lo = 0; lo < n; lo += 2 * width) {
      const int mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
      int i = lo, j = mid, o = lo;
      while (i < mid && j < hi) dst[o++] = merge_before(src + j, src + i) ? src[j++] : src[i++];
      while (i < mid) dst[o++] = src[i++];
      while (j < hi) dst[o++] = src[j++];
    }
    gm_merge *t = src;
    src = dst;
    dst = t;
  }
  if (src != m) memcpy(m, src, (size_t) n * sizeof(gm_merge));
}

/* Costs from the cluster at position p to all nalive clusters, into cost; the
 * centroids are stored by coordinate (cent + j * n), the sizes in size. */
GM_HOT static void costs_from(int p, int nalive, int n, int d, const double *cent,
                              const double *size, double *cost)
{
  for (int s = 0; s < nalive; s++) cost[s] = 0.0;
  for (int j = 0; j < d; j++) {
    const double *cj = cent + (size_t) j * n, cp = cj[p];
    GM_SIMD
    for (int s = 0; s < nalive; s++) cost[s] += (cj[s] - cp) * (cj[s] - cp);
  }
  const double np = size[p];
  GM_SIMD
  for (int s = 0; s < nalive; s++) cost[s] *= np * size[s] / (np + size[s]);
}

/* Ward's tree in three steps, so that it can be built on a worker thread while R's
 * thread builds the VVV tree (hcvvv.c): gm_ward_setup() checks the arguments and
 * allocates everything (on R's thread), gm_ward_run() finds the merges (on any thread
 * when the rows have two or more columns; interrupts are checked only with `check`),
 * and gm_ward_cut() gives the partitions. */
struct gm_ward {
  int n, d, km;
  const double *x, *w;
  gm_merge *out, *tmp;   /* n - 1 merges, and room to sort them */
  double *cent, *size, *cost;
  int *id, *pos, *chain;
};

/* Finds the n - 1 merges of rows x (n x d) with weights w, sorted by cost.  Clusters
 * live at positions 0 .. nalive - 1 of the centroid and size arrays (a merged-away
 * cluster's position is taken by the last one), so the search runs over contiguous
 * memory. */
static void ward_merges(gm_ward *W, int check)
{
  const int n = W->n, d = W->d;
  double *cent = W->cent, *size = W->size, *cost = W->cost;
  int *id = W->id, *pos = W->pos, *chain = W->chain;
  gm_merge *out = W->out;
  memcpy(cent, W->x, (size_t) n * d * sizeof(double));
  memcpy(size, W->w, n * sizeof(double));
  for (int i = 0; i < n; i++) id[i] = pos[i] = i;
  int nalive = n, len = 0, nm = 0;
  while (nalive > 1) {
    if (len == 0) chain[len++] = id[0];
    const int a = chain[len - 1], prev = len > 1 ? chain[len - 2] : -1;
    const int pa = pos[a];
    costs_from(pa, nalive, n, d, cent, size, cost);
    /* The nearest other cluster; on a tie the previous link of the chain, which is
     * what makes the chain end in a reciprocal pair. */
    int best = -1;
    double bc = R_PosInf;
    for (int s = 0; s < nalive; s++)
      if (s != pa && cost[s] < bc) {
        bc = cost[s];
        best = s;
      }
    if (prev >= 0 && cost[pos[prev]] <= bc) best = pos[prev];
    const int b = id[best];
    if (b != prev) {
      chain[len++] = b;
      continue;
    }
    /* a and b are each other's nearest: merge b into a. */
    len -= 2;
    const int pb = pos[b];
    const double na = size[pa], nb = size[pb];
    for (int j = 0; j < d; j++) {
      double *cj = cent + (size_t) j * n;
      cj[pa] = (na * cj[pa] + nb * cj[pb]) / (na + nb);
    }
    size[pa] = na + nb;
    out[nm].a = a;
    out[nm].b = b;
    out[nm].step = nm;
    out[nm].cost = bc;
    nm++;
    const int last = nalive - 1;   /* the last cluster moves into b's place */
    if (pb != last) {
      for (int j = 0; j < d; j++) cent[pb + (size_t) j * n] = cent[last + (size_t) j * n];
      size[pb] = size[last];
      id[pb] = id[last];
      pos[id[pb]] = pb;
    }
    nalive--;
    if (check && nm % 256 == 0) R_CheckUserInterrupt();
  }
  sort_merges(out, nm, W->tmp);
}

/* In one dimension clusters are intervals of the sorted values, and the cheapest pair
 * is always two neighbours: for intervals A < B < C with sizes a, b, c and gaps
 * u = c_B - c_A, v = c_C - c_B > 0, cost(A, C) < cost(A, B) and cost(A, C) < cost(B, C)
 * would need c / (a + c) < u^2 / (u + v)^2 and a / (a + c) < v^2 / (u + v)^2, whose sum
 * is 1 < (u^2 + v^2) / (u + v)^2, impossible (and a cluster between two others is
 * such a B).  So the closest-pair tree is found from the n - 1 neighbouring pairs in
 * a heap, in O(n log n) instead of the chain's O(n^2), with the chain's arithmetic
 * (costs_from, and the same centroids), hence the same merges and costs.  Where the
 * chain's order matters this gives up and returns 0, and the chain runs instead:
 * when two values are equal (a merge of cost 0, whose centroid may then round off the
 * value) or two pairs tie for the cheapest (integer data have many: which one merges
 * first changes the rest of the tree, and the chain's choice is its own).  Returns 1
 * when the merges are in out. */
typedef struct {
  double cost;          /* of the pair (p, its right neighbour) */
  int p;
} heap_ent;

typedef struct {
  heap_ent *e;          /* the pairs, cheapest first; entries carry their costs, so
                         * that comparisons read no other array */
  int *at;              /* at[p]: the place of pair p in e, or -1 */
  int len;
} pair_heap;

static inline int heap_less(const heap_ent *x, const heap_ent *y)
{
  return x->cost < y->cost || (x->cost == y->cost && x->p < y->p);
}

static inline void heap_put(pair_heap *H, int i, heap_ent v)
{
  H->e[i] = v;
  H->at[v.p] = i;
}

/* Moves the entry at place i down to where its children are not below it. */
static void heap_down(pair_heap *H, int i)
{
  const heap_ent v = H->e[i];
  for (;;) {
    int c = 2 * i + 1;
    if (c >= H->len) break;
    if (c + 1 < H->len && heap_less(H->e + c + 1, H->e + c)) c++;
    if (!heap_less(H->e + c, &v)) break;
    heap_put(H, i, H->e[c]);
    i = c;
  }
  heap_put(H, i, v);
}

/* Restores the heap after the cost of the entry at place i changed. */
static void heap_fix(pair_heap *H, int i)
{
  const heap_ent v = H->e[i];
  while (i > 0 && heap_less(&v, H->e + (i - 1) / 2)) {
    heap_put(H, i, H->e[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  heap_put(H, i, v);
  heap_down(H, i);
}

static void heap_set(pair_heap *H, int p, double cost)
{
  H->e[H->at[p]].cost = cost;
  heap_fix(H, H->at[p]);
}

static void heap_drop(pair_heap *H, int p)
{
  const int i = H->at[p];
  H->at[p] = -1;
  if (--H->len == i) return;
  heap_put(H, i, H->e[H->len]);
  heap_fix(H, i);
}

static int ward_merges_1d(int n, const double *x, const double *w, gm_merge *out)
{
  /* the rows by value, and by row among equal values (sort_merges' order, the value
   * as the cost and the row as the step) */
  gm_merge *vr = (gm_merge *) R_alloc(n, sizeof(gm_merge));
  for (int i = 0; i < n; i++) {
    vr[i].cost = x[i];
    vr[i].step = i;
  }
  gm_merge *tmp = (gm_merge *) R_alloc(n, sizeof(gm_merge));
  sort_merges(vr, n, tmp);
  int *ord = (int *) R_alloc(n, sizeof(int));
  for (int p = 0; p < n; p++) {
    ord[p] = vr[p].step;
    if (p > 0 && vr[p].cost == vr[p - 1].cost) return 0;
  }
  double *cent = (double *) R_alloc(n, sizeof(double));
  double *size = (double *) R_alloc(n, sizeof(double));
  int *next = (int *) R_alloc(n, sizeof(int)), *prev = (int *) R_alloc(n, sizeof(int));
  pair_heap H = {(heap_ent *) R_alloc(n, sizeof(heap_ent)), (int *) R_alloc(n, sizeof(int)), 0};
  for (int p = 0; p < n; p++) {
    cent[p] = x[ord[p]];
    size[p] = w[ord[p]];
    next[p] = p + 1 < n ? p + 1 : -1;
    prev[p] = p - 1;
    H.at[p] = -1;
  }
  /* the cost of the pair (p, next[p]), as costs_from() computes it */
  #define PAIR_COST(p) ((cent[next[p]] - cent[p]) * (cent[next[p]] - cent[p]) * \
                        (size[p] * size[next[p]] / (size[p] + size[next[p]])))
  for (int p = 0; p + 1 < n; p++) heap_put(&H, H.len++, (heap_ent) {PAIR_COST(p), p});
  for (int i = H.len / 2 - 1; i >= 0; i--) heap_down(&H, i);   /* Floyd's O(n) build */
  for (int nm = 0; nm < n - 1; nm++) {
    const int p = H.e[0].p, q = next[p];
    const double cost = H.e[0].cost;
    /* the second cheapest pair is a child of the root */
    if ((H.len > 1 && H.e[1].cost == cost) || (H.len > 2 && H.e[2].cost == cost)) return 0;
    out[nm].a = ord[p];
    out[nm].b = ord[q];
    out[nm].step = nm;
    out[nm].cost = cost;
    const double na = size[p], nb = size[q];
    cent[p] = (na * cent[p] + nb * cent[q]) / (na + nb);
    size[p] = na + nb;
    if (H.at[q] >= 0) heap_drop(&H, q);   /* the pair (q, its right neighbour) */
    next[p] = next[q];
    if (next[p] >= 0) {
      prev[next[p]] = p;
      heap_set(&H, p, PAIR_COST(p));
    } else {
      heap_drop(&H, p);
    }
    if (prev[p] >= 0) heap_set(&H, prev[p], PAIR_COST(prev[p]));
  }
  #undef PAIR_COST
  sort_merges(out, n - 1, tmp);
  return 1;
}

static int find_root(int *parent, int i)
{
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

/* Checks what every tree builder takes: x and w as gm_data_arg() does, every weight
 * positive, and kmax a whole number from 1 to the number of rows.  Returns kmax. */
int gm_tree_args(SEXP x, SEXP w, SEXP kmax, gm_data *D)
{
  gm_data_arg(x, w, D, 0);
  if (TYPEOF(kmax) != INTSXP || LENGTH(kmax) != 1 || INTEGER(kmax)[0] < 1 ||
      INTEGER(kmax)[0] > D->n)
    error("'kmax' must be a whole number from 1 to the number of rows");
  for (int i = 0; i < D->n; i++)
    if (!(D->w[i] > 0.0)) error("'w' must be positive");
  return INTEGER(kmax)[0];
}

/* The partitions of a tree into 1 .. km groups, from its n - 1 merges in order (merge
 * i joins the clusters of rows a[i] and b[i]), as an n x km integer matrix whose column
 * K numbers the groups 1 .. K in the order of their first row (as stats::cutree
 * does).  The partition into K groups is reached after n - K merges, so the columns
 * are filled from K = n downwards. */
SEXP gm_tree_cut(int n, int km, const int *a, const int *b)
{
  SEXP out = PROTECT(allocMatrix(INTSXP, n, km));
  int *parent = (int *) R_alloc(n, sizeof(int));
  int *label = (int *) R_alloc(n, sizeof(int));
  for (int i = 0; i < n; i++) parent[i] = i;
  for (int k = n, done = 0; k >= 1; k--) {
    if (k < n) {
      const int ra = find_root(parent, a[done]), rb = find_root(parent, b[done]);
      parent[rb] = ra;
      done++;
    }
    if (k > km) continue;
    int *col = INTEGER(out) + (size_t) (k - 1) * n, next = 0;
    for (int i = 0; i < n; i++) label[i] = 0;
    for (int i = 0; i < n; i++) {
      const int r = find_root(parent, i);
      if (!label[r]) label[r] = ++next;
      col[i] = label[r];
    }
  }
  UNPROTECT(1);
  return out;
}

gm_ward *gm_ward_setup(SEXP x, SEXP w, SEXP kmax)
{
  gm_data D;
  gm_ward *W = (gm_ward *) R_alloc(1, sizeof(gm_ward));
  W->km = gm_tree_args(x, w, kmax, &D);
  const int n = W->n = D.n, d = W->d = D.d;
  W->x = D.x;
  W->w = D.w;
  W->out = (gm_merge *) R_alloc(n > 1 ? n - 1 : 1, sizeof(gm_merge));
  W->tmp = (gm_merge *) R_alloc(n, sizeof(gm_merge));
  W->cent = (double *) R_alloc((size_t) n * d, sizeof(double));
  W->size = (double *) R_alloc(n, sizeof(double));
  W->cost = (double *) R_alloc(n, sizeof(double));
  W->id = (int *) R_alloc(n, sizeof(int));      /* row representing each position */
  W->pos = (int *) R_alloc(n, sizeof(int));     /* position of each representative */
  W->chain = (int *) R_alloc(n, sizeof(int));   /* representatives */
  return W;
}

int gm_ward_columns(const gm_ward *W) { return W->d; }

/* (with one column, on R's thread only: the 1-D path allocates) */
void gm_ward_run(gm_ward *W, int check)
{
  if (W->d > 1 || !ward_merges_1d(W->n, W->x, W->w, W->out)) ward_merges(W, check);
}

SEXP gm_ward_cut(const gm_ward *W)
{
  const int n = W->n;
  int *a = (int *) R_alloc(n, sizeof(int)), *b = (int *) R_alloc(n, sizeof(int));
  for (int i = 0; i < n - 1; i++) {
    a[i] = W->out[i].a;
    b[i] = W->out[i].b;
  }
  return gm_tree_cut(n, W->km, a, b);
}

/* gmm_ward(x, w, kmax): the partitions of Ward's tree into 1 .. kmax groups (see
 * gm_tree_cut). */
SEXP gmm_ward(SEXP x, SEXP w, SEXP kmax)
{
  gm_ward *W = gm_ward_setup(x, w, kmax);
  gm_ward_run(W, 1);
  return gm_ward_cut(W);
}

/* gmm_sample_rows(n, k): the k rows of 1 .. n that sample.int(n, k) draws (without
 * replacement, where R does not hash: n up to 1e7), from the same random numbers, in
 * O(k) memory instead of R's n integers.  R draws by a partial Fisher-Yates shuffle
 * of the array x = 0 .. n - 1: the i-th row is x[j] + 1 for j uniform on the m = n - i
 * entries left, and x[j] then takes x[m - 1].  Here x is kept as the entries that
 * differ from x[j] = j, in a hash table: each draw changes at most one. */
static size_t sample_slot(const int *key, size_t mask, int j)
{
  size_t s = ((size_t) j * 2654435761u) & mask;
  while (key[s] >= 0 && key[s] != j) s = (s + 1) & mask;
  return s;
}

SEXP gmm_sample_rows(SEXP n_, SEXP k_)
{
  const int n = asInteger(n_), k = asInteger(k_);
  if (n == NA_INTEGER || k == NA_INTEGER || n < 0 || k < 0 || k > n)
    error("'k' must lie between 0 and 'n'");
  SEXP out = PROTECT(allocVector(INTSXP, k));
  size_t size = 4;
  while (size < 2 * ((size_t) k + 1)) size <<= 1;
  const size_t mask = size - 1;
  int *key = (int *) R_alloc(size, sizeof(int)), *val = (int *) R_alloc(size, sizeof(int));
  for (size_t s = 0; s < size; s++) key[s] = -1;
  GetRNGstate();
  for (int i = 0, m = n; i < k; i++, m--) {
    const int j = (int) R_unif_index((double) m);
    const size_t sj = sample_slot(key, mask, j), sl = sample_slot(key, mask, m - 1);
    const int xj = key[sj] >= 0 ? val[sj] : j, xl = key[sl] >= 0 ? val[sl] : m - 1;
    INTEGER(out)[i] = xj + 1;
    key[sj] = j;
    val[sj] = xl;
  }
  PutRNGstate();
  UNPROTECT(1);
  return out;
}
