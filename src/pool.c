/* A small pool of worker threads for the passes over rows and the sweep's cells.
 *
 * gm_parallel(threads, ntasks, fn, ctx) runs fn(ctx, task, thread) for every task in
 * 0 .. ntasks - 1, the calling thread taking part as thread 0; tasks are claimed one at
 * a time from a shared counter, so a thread the system has descheduled holds up only
 * the task it is on.  Idle workers sleep on a condition variable and never spin: with
 * the cores busy with other work, an OpenMP runtime's spin-waiting (libgomp spins for
 * milliseconds at every synchronisation unless OMP_WAIT_POLICY says otherwise, and R
 * loads libgomp before any package could say so) made two threads several times slower
 * than one.  Which thread runs a task never changes a result: callers give each task
 * its own output and combine them in task order.
 *
 * gm_pool_start(ntasks, fn, ctx) runs the tasks on one worker alone and returns at
 * once, so that the calling thread can do other work meanwhile (Ward's tree beside
 * the VVV tree's merges, hcvvv.c); it returns 0, having started nothing, when no
 * worker is free (the caller then runs the tasks itself), and gm_pool_wait() waits
 * for them.  Until then gm_parallel runs its tasks inline, on the calling thread.
 *
 * Only thread 0 may call R.  While it waits for the workers it calls the `idle`
 * callback (R_CheckUserInterrupt) about every 100 ms; a jump out of gm_parallel (an
 * interrupt, from a task on thread 0 or from `idle`) leaves the workers running, and
 * the caller must then call gm_pool_wait() before it releases what they use (the
 * sweep does so in its R_UnwindProtect cleanup, after telling its tasks to stop).
 *
 * Workers are started on first use, block every signal (R's main thread takes
 * SIGINT), are forgotten in a child after fork() (parallel::mclapply), and are joined
 * when the package's library is unloaded. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>
#include "gaussmix.h"

#ifdef GM_THREADS

#include <pthread.h>

static struct {
  pthread_mutex_t mu;
  pthread_cond_t wake;    /* a new run, or quit */
  pthread_cond_t done;    /* the last worker of a run finished */
  pthread_t tid[GM_MAX_THREADS];
  unsigned long born[GM_MAX_THREADS];   /* gen when each worker was created */
  int started;            /* workers running, with ids 1 .. started */
  unsigned long gen;      /* number of runs so far */
  int want;               /* workers taking part in the current run (ids 1 .. want) */
  int active;             /* of those, still working */
  int running;            /* a run has been started and not yet waited for */
  int quit;
  gm_task_fn fn;
  void *ctx;
  int ntasks;
  int next;               /* the next task to claim */
  int atfork;             /* the fork handler is registered */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void run_tasks(gm_task_fn fn, void *ctx, int ntasks, int thread)
{
  for (;;) {
    const int t = __atomic_fetch_add(&pool.next, 1, __ATOMIC_RELAXED);
    if (t >= ntasks) return;
    fn(ctx, t, thread);
  }
}

static void *worker(void *arg)
{
  const int id = (int) (intptr_t) arg;
  pthread_mutex_lock(&pool.mu);
  unsigned long seen = pool.born[id];   /* runs started after this one's creation count */
  for (;;) {
    while (pool.gen == seen && !pool.quit) pthread_cond_wait(&pool.wake, &pool.mu);
    if (pool.quit) break;
    seen = pool.gen;
    if (id > pool.want) continue;
    gm_task_fn fn = pool.fn;
    void *ctx = pool.ctx;
    const int ntasks = pool.ntasks;
    pthread_mutex_unlock(&pool.mu);
    run_tasks(fn, ctx, ntasks, id);
    pthread_mutex_lock(&pool.mu);
    if (--pool.active == 0) pthread_cond_signal(&pool.done);
  }
  pthread_mutex_unlock(&pool.mu);
  return NULL;
}

/* In a child after fork() only the forking thread exists. */
static void forget_workers(void)
{
  pthread_mutex_init(&pool.mu, NULL);
  pthread_cond_init(&pool.wake, NULL);
  pthread_cond_init(&pool.done, NULL);
  pool.started = pool.want = pool.active = pool.running = pool.quit = 0;
}

/* Starts workers up to id `upto`; returns how many are running. */
static int start_workers(int upto)
{
  if (!pool.atfork) {
    pthread_atfork(NULL, NULL, forget_workers);
    pool.atfork = 1;
  }
  if (upto > GM_MAX_THREADS - 1) upto = GM_MAX_THREADS - 1;
  if (pool.started >= upto) return pool.started;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);   /* the workers inherit this mask */
  pthread_mutex_lock(&pool.mu);
  while (pool.started < upto) {
    pool.born[pool.started + 1] = pool.gen;
    if (pthread_create(&pool.tid[pool.started + 1], NULL, worker,
                       (void *) (intptr_t) (pool.started + 1)) != 0)
      break;
    pool.started++;
  }
  pthread_mutex_unlock(&pool.mu);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return pool.started;
}

void gm_pool_wait(void)
{
  pthread_mutex_lock(&pool.mu);
  while (pool.active > 0) pthread_cond_wait(&pool.done, &pool.mu);
  pool.running = 0;
  pthread_mutex_unlock(&pool.mu);
}

/* Wakes workers 1 .. workers for a run of fn over ntasks tasks. */
static void begin_run(int workers, int ntasks, gm_task_fn fn, void *ctx)
{
  pthread_mutex_lock(&pool.mu);
  pool.fn = fn;
  pool.ctx = ctx;
  pool.ntasks = ntasks;
  pool.next = 0;
  pool.want = workers;
  pool.active = workers;
  pool.running = 1;
  pool.gen++;
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.mu);
}

int gm_pool_start(int ntasks, gm_task_fn fn, void *ctx)
{
  if (pool.running || start_workers(1) < 1) return 0;
  begin_run(1, ntasks, fn, ctx);
  return 1;
}

void gm_parallel(int threads, int ntasks, gm_task_fn fn, void *ctx, void (*idle)(void))
{
  if (threads > ntasks) threads = ntasks;
  if (threads > 1 && !pool.running) threads = 1 + start_workers(threads - 1);
  else threads = 1;   /* nested use (never intended) runs inline */
  if (threads <= 1) {
    for (int t = 0; t < ntasks; t++) fn(ctx, t, 0);
    return;
  }
  begin_run(threads - 1, ntasks, fn, ctx);
  run_tasks(fn, ctx, ntasks, 0);
  pthread_mutex_lock(&pool.mu);
  while (pool.active > 0) {
    if (!idle) {
      pthread_cond_wait(&pool.done, &pool.mu);
      continue;
    }
    struct timeval now;
    gettimeofday(&now, NULL);
    struct timespec until;
    until.tv_sec = now.tv_sec + (now.tv_usec >= 900000);
    until.tv_nsec = ((now.tv_usec + 100000) % 1000000) * 1000L;
    if (pthread_cond_timedwait(&pool.done, &pool.mu, &until) == ETIMEDOUT &&
        pool.active > 0) {
      pthread_mutex_unlock(&pool.mu);
      idle();   /* may jump out; the caller then calls gm_pool_wait() */
      pthread_mutex_lock(&pool.mu);
    }
  }
  pool.running = 0;
  pthread_mutex_unlock(&pool.mu);
}

void gm_pool_stop(void)
{
  pthread_mutex_lock(&pool.mu);
  const int started = pool.started;
  pool.quit = 1;
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.mu);
  for (int i = 1; i <= started; i++) pthread_join(pool.tid[i], NULL);
  pool.started = 0;
  pool.quit = 0;
}

#else   /* no threads on this platform: every run is inline */

void gm_parallel(int threads, int ntasks, gm_task_fn fn, void *ctx, void (*idle)(void))
{
  (void) threads;
  (void) idle;
  for (int t = 0; t < ntasks; t++) fn(ctx, t, 0);
}

int gm_pool_start(int ntasks, gm_task_fn fn, void *ctx)
{
  (void) ntasks;
  (void) fn;
  (void) ctx;
  return 0;
}

void gm_pool_wait(void) {}
void gm_pool_stop(void) {}

#endif
