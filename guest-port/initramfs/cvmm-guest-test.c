// SPDX-License-Identifier: GPL-2.0
/*
 * cvmm-guest-test: the workload the tests run inside the cvmm guest. It checks
 * what a ccNUMA machine built from a cluster must get right, and says PASS or
 * FAIL with the numbers behind it.
 *
 *   cvmm-guest-test memory [OPS]  one thread per CPU, each pinned to its CPU:
 *       atomic increments on shared counters, checksummed records written by
 *       one CPU and verified by all, checksummed writes to node-local memory;
 *       meanwhile one thread migrates across every CPU checking that
 *       CLOCK_MONOTONIC never goes back. Totals must match exactly.
 *   cvmm-guest-test locks [OPS]   one thread per CPU hammering one mutex: the
 *       futex and the kernel's spinlocks under contention. The counter the
 *       mutex protects must equal the number of increments.
 *   cvmm-guest-test local [OPS|Ns]  throughput, NUMA-local: one thread per CPU,
 *       pinned, doing atomic increments and checksummed record writes on
 *       memory it allocated and first touched after pinning (so on its CPU's
 *       node) and nothing else. Each verifies its own totals and records.
 *   cvmm-guest-test shared [OPS|Ns] throughput, shared-heavy: one thread per CPU,
 *       pinned, all doing atomic increments on the same counters and
 *       checksummed record writes into records interleaved across threads (every
 *       page holds every thread's records). Verified once all have finished.
 *
 *   cvmm-guest-test cow [ROUNDS]  fork isolation across CPUs: one thread on
 *       the first CPU and one on the last (on another node when the VC has
 *       several) take turns forking while the other writes pages the parent
 *       had written before. The child must still read the old contents: the
 *       fork write-protected the parent's page table entries on one node, and
 *       the writer on the other node must take its copy-on-write fault.
 *
 * The throughput modes run OPS operations per thread, timed with
 * CLOCK_MONOTONIC from the first thread's start to the last one's end; or,
 * given Ns, every thread runs until the main thread's stop flag, and the
 * figure is the ops of an N-second window in which every thread ran (with a
 * fixed count, a thread that finished early left its CPU idle while the
 * others ran on; on several nodes, the start barrier's wake-up reaches the
 * threads tenths of a second apart). Both print ops per second, and
 * thread_rate_sum, the sum of each thread's ops over its own time
 * (test_throughput has the whole line).
 *
 * Built static for i386 (gcc -m32 -static), so it needs nothing in the guest.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CPUS	64
#define COUNTERS	64
#define RECORDS_PER_CPU 64
#define RECORD_WORDS	14
#define LOCAL_BYTES	(256 * 1024)

struct record {
	uint32_t seq;
	uint32_t writer;
	uint32_t data[RECORD_WORDS];
	uint32_t sum; /* over seq, writer and data */
};

struct shared {
	uint32_t counters[COUNTERS];
	struct record records[MAX_CPUS][RECORDS_PER_CPU];
	uint64_t clock_checks;
	uint64_t clock_backwards;
	uint64_t migrations;
	unsigned long walk_rounds; /* the clock walker's rounds over every CPU */
	pthread_mutex_t lock;
	uint64_t locked_counter;
	pthread_barrier_t start;
};

struct worker {
	pthread_t thread;
	int cpu;
	unsigned long ops;
	struct shared *sh;
	uint64_t increments;
	uint64_t local_bad;
	int pin_error;
};

static int ncpus;

static uint32_t rng(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static uint32_t record_sum(const struct record *r)
{
	uint32_t sum = r->seq * 2654435761u ^ r->writer;

	for (int i = 0; i < RECORD_WORDS; i++)
		sum = (sum << 5 | sum >> 27) ^ r->data[i];
	return sum;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *memory_worker(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	uint32_t seed = 0x9e3779b9u * (uint32_t)(w->cpu + 1);
	/* First touched after pinning: the kernel places it on this CPU's node. */
	uint32_t *local;

	w->pin_error = pin(w->cpu);
	local = malloc(LOCAL_BYTES);
	if (!local) {
		w->local_bad = 1;
		return NULL;
	}
	pthread_barrier_wait(&sh->start);
	for (unsigned long op = 0; op < w->ops; op++) {
		uint32_t r = rng(&seed);
		struct record *rec = &sh->records[w->cpu][r % RECORDS_PER_CPU];
		struct record tmp;

		__atomic_fetch_add(&sh->counters[r % COUNTERS], 1, __ATOMIC_SEQ_CST);
		w->increments++;

		/* A record is written whole, then published by its checksum. */
		tmp.seq = (uint32_t)op;
		tmp.writer = (uint32_t)w->cpu;
		for (int i = 0; i < RECORD_WORDS; i++)
			tmp.data[i] = rng(&seed);
		tmp.sum = record_sum(&tmp);
		memcpy(rec, &tmp, sizeof(tmp));

		local[(r >> 8) % (LOCAL_BYTES / 4)] = r;
		if (local[(r >> 8) % (LOCAL_BYTES / 4)] != r)
			w->local_bad++;
	}
	free(local);
	return NULL;
}

/*
 * Migrates across every CPU, checking that the monotonic clock never goes
 * back. A migration to a CPU on another cluster node is costly (the thread's
 * pages follow it), so the rounds scale with OPS: OPS / 5, 1 to 200.
 */
static void *clock_walker(void *arg)
{
	struct shared *sh = arg;
	uint64_t last = now_ns();

	pthread_barrier_wait(&sh->start);
	for (unsigned long round = 0; round < sh->walk_rounds; round++) {
		for (int cpu = 0; cpu < ncpus; cpu++) {
			uint64_t t;

			if (pin(cpu) == 0)
				sh->migrations++;
			for (int k = 0; k < 10; k++) {
				t = now_ns();
				sh->clock_checks++;
				if (t < last)
					sh->clock_backwards++;
				last = t;
			}
		}
	}
	return NULL;
}

static int test_memory(unsigned long ops)
{
	struct shared *sh = calloc(1, sizeof(*sh));
	struct worker w[MAX_CPUS];
	uint64_t expected = 0, counted = 0, bad_records = 0, local_bad = 0, unpinned = 0;
	pthread_t walker;

	if (!sh)
		return 1;
	pthread_barrier_init(&sh->start, NULL, (unsigned int)ncpus + 1);
	sh->walk_rounds = ops / 5 > 200 ? 200 : ops / 5 ? ops / 5 : 1;
	for (int i = 0; i < ncpus; i++) {
		w[i] = (struct worker){ .cpu = i, .ops = ops, .sh = sh };
		pthread_create(&w[i].thread, NULL, memory_worker, &w[i]);
	}
	pthread_create(&walker, NULL, clock_walker, sh);
	for (int i = 0; i < ncpus; i++) {
		pthread_join(w[i].thread, NULL);
		expected += w[i].increments;
		local_bad += w[i].local_bad;
		unpinned += w[i].pin_error != 0;
	}
	pthread_join(walker, NULL);

	for (int c = 0; c < COUNTERS; c++)
		counted += sh->counters[c];
	/* Every record is read here, on one CPU, whichever CPU wrote it. */
	for (int cpu = 0; cpu < ncpus; cpu++)
		for (int r = 0; r < RECORDS_PER_CPU; r++) {
			const struct record *rec = &sh->records[cpu][r];

			if (rec->sum == 0 && rec->seq == 0 && rec->writer == 0)
				continue; /* never written */
			if (rec->writer != (uint32_t)cpu || rec->sum != record_sum(rec))
				bad_records++;
		}

	if (counted == expected && !bad_records && !local_bad && !unpinned &&
	    !sh->clock_backwards) {
		printf("cvmm-guest-test: memory: PASS threads=%d increments=%llu "
		       "migrations=%llu clock_checks=%llu\n",
		       ncpus, (unsigned long long)counted, (unsigned long long)sh->migrations,
		       (unsigned long long)sh->clock_checks);
		return 0;
	}
	printf("cvmm-guest-test: memory: FAIL threads=%d increments=%llu expected=%llu "
	       "bad_records=%llu local_bad=%llu unpinned=%llu clock_backwards=%llu\n",
	       ncpus, (unsigned long long)counted, (unsigned long long)expected,
	       (unsigned long long)bad_records, (unsigned long long)local_bad,
	       (unsigned long long)unpinned, (unsigned long long)sh->clock_backwards);
	return 1;
}

static void *lock_worker(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;

	w->pin_error = pin(w->cpu);
	pthread_barrier_wait(&sh->start);
	for (unsigned long i = 0; i < w->ops; i++) {
		pthread_mutex_lock(&sh->lock);
		sh->locked_counter++;
		pthread_mutex_unlock(&sh->lock);
		w->increments++;
	}
	return NULL;
}

static int test_locks(unsigned long ops)
{
	struct shared *sh = calloc(1, sizeof(*sh));
	struct worker w[MAX_CPUS];
	uint64_t expected = 0;
	uint64_t t0;

	if (!sh)
		return 1;
	pthread_mutex_init(&sh->lock, NULL);
	pthread_barrier_init(&sh->start, NULL, (unsigned int)ncpus);
	t0 = now_ns();
	for (int i = 0; i < ncpus; i++) {
		w[i] = (struct worker){ .cpu = i, .ops = ops, .sh = sh };
		pthread_create(&w[i].thread, NULL, lock_worker, &w[i]);
	}
	for (int i = 0; i < ncpus; i++) {
		pthread_join(w[i].thread, NULL);
		expected += w[i].increments;
	}
	if (sh->locked_counter == expected) {
		printf("cvmm-guest-test: locks: PASS threads=%d increments=%llu ms=%llu\n", ncpus,
		       (unsigned long long)expected,
		       (unsigned long long)((now_ns() - t0) / 1000000));
		return 0;
	}
	printf("cvmm-guest-test: locks: FAIL threads=%d counter=%llu expected=%llu\n", ncpus,
	       (unsigned long long)sh->locked_counter, (unsigned long long)expected);
	return 1;
}

/*
 * Throughput modes. One op is one atomic increment of a counter and one
 * record written whole with its checksum, the counter and the slot chosen at
 * random. Every thread counts its ops and keeps the last sequence number it
 * wrote to each slot, so lost or torn writes are found at the end.
 */
#define TP_COUNTERS 64
#define TP_SLOTS    64

/* A thread's own memory in the local mode (mapped and first touched by it). */
struct tp_local {
	uint32_t counters[TP_COUNTERS];
	struct record records[TP_SLOTS];
	uint32_t last_seq[TP_SLOTS]; /* seq + 1 of the last write to each slot, 0: none */
};

/* The one region every thread works on in the shared mode. */
struct tp_shared {
	uint32_t counters[TP_COUNTERS];
	struct record records[TP_SLOTS][MAX_CPUS]; /* slot-major: threads interleave */
};

/*
 * A thread's count of ops done, on a page it mapped and first touched itself
 * (so on its node), updated at every op: a timed run's main thread reads it
 * at the start and the end of its window. In the thread's struct tp_worker it
 * would share a page with the other threads'.
 */
struct tp_progress {
	volatile unsigned long done;
};

struct tp_worker {
	pthread_t thread;
	int cpu;
	unsigned long ops;
	pthread_barrier_t *start;
	const volatile int *stop; /* set when a timed run's time is up */
	struct tp_progress *progress;
	struct tp_shared *shared; /* NULL in the local mode */
	uint64_t start_ns, end_ns;
	unsigned long window_ops;    /* a timed run: ops done in the main thread's window */
	uint32_t last_seq[TP_SLOTS]; /* shared mode: copied from the thread's stack at the end */
	uint64_t bad_counters, bad_records;
	int pin_error, map_error;
};

/*
 * One op by CPU on COUNTERS and the slot array RECS (STRIDE records apart),
 * noted in LAST_SEQ. Everything it writes is passed in: a thread's struct
 * tp_worker sits next to the others' in memory the main thread allocated, so
 * writing it per op would add false sharing to every mode.
 */
static void tp_op(uint32_t cpu, uint32_t *seed, uint32_t op, uint32_t *counters,
		  struct record *recs, size_t stride, uint32_t *last_seq)
{
	uint32_t r = rng(seed);
	uint32_t slot = (r >> 8) % TP_SLOTS;
	struct record tmp;

	__atomic_fetch_add(&counters[r % TP_COUNTERS], 1, __ATOMIC_SEQ_CST);
	tmp.seq = op;
	tmp.writer = cpu;
	for (int i = 0; i < RECORD_WORDS; i++)
		tmp.data[i] = rng(seed);
	tmp.sum = record_sum(&tmp);
	memcpy(&recs[slot * stride], &tmp, sizeof(tmp));
	last_seq[slot] = op + 1;
}

/* Records of CPU's thread (STRIDE apart) whose writer, seq or checksum is wrong. */
static uint64_t tp_bad_records(int cpu, const uint32_t *last_seq, const struct record *recs,
			       size_t stride)
{
	uint64_t bad = 0;

	for (int s = 0; s < TP_SLOTS; s++) {
		const struct record *rec = &recs[s * stride];

		if (!last_seq[s])
			continue;
		if (rec->writer != (uint32_t)cpu || rec->seq + 1 != last_seq[s] ||
		    rec->sum != record_sum(rec))
			bad++;
	}
	return bad;
}

/* Maps and first-touches W's progress page (after pinning): NULL if it cannot. */
static struct tp_progress *tp_progress_map(struct tp_worker *w)
{
	struct tp_progress *p =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		w->map_error = 1;
		return NULL;
	}
	p->done = 0;
	w->progress = p;
	return p;
}

static void *local_worker(void *arg)
{
	struct tp_worker *w = arg;
	uint32_t cpu = (uint32_t)w->cpu, seed = 0x9e3779b9u * (cpu + 1);
	unsigned long ops = w->ops, op;
	const volatile int *stop = w->stop;
	struct tp_progress *progress;
	struct tp_local *mem;
	uint64_t sum = 0;

	w->pin_error = pin(w->cpu);
	progress = tp_progress_map(w);
	mem = mmap(NULL, sizeof(*mem), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || !progress) {
		w->map_error = 1;
		mem = NULL;
	} else {
		memset(mem, 0, sizeof(*mem)); /* first touch, before the clock starts */
	}
	pthread_barrier_wait(w->start);
	w->start_ns = now_ns();
	for (op = 0; mem && op < ops && !*stop; op++) {
		tp_op(cpu, &seed, (uint32_t)op, mem->counters, mem->records, 1, mem->last_seq);
		progress->done = op + 1;
	}
	w->end_ns = now_ns();
	w->ops = op;
	if (!mem)
		return NULL;
	for (int c = 0; c < TP_COUNTERS; c++)
		sum += mem->counters[c];
	w->bad_counters = sum != op;
	w->bad_records = tp_bad_records(w->cpu, mem->last_seq, mem->records, 1);
	munmap(mem, sizeof(*mem));
	return NULL;
}

static void *shared_worker(void *arg)
{
	struct tp_worker *w = arg;
	uint32_t cpu = (uint32_t)w->cpu, seed = 0x9e3779b9u * (cpu + 1);
	unsigned long ops = w->ops, op;
	const volatile int *stop = w->stop;
	struct tp_shared *sh = w->shared;
	uint32_t last_seq[TP_SLOTS] = { 0 };
	struct tp_progress *progress;

	w->pin_error = pin(w->cpu);
	progress = tp_progress_map(w);
	if (!progress)
		ops = 0;
	pthread_barrier_wait(w->start);
	w->start_ns = now_ns();
	for (op = 0; op < ops && !*stop; op++) {
		tp_op(cpu, &seed, (uint32_t)op, sh->counters, &sh->records[0][cpu], MAX_CPUS,
		      last_seq);
		progress->done = op + 1;
	}
	w->end_ns = now_ns();
	w->ops = op;
	memcpy(w->last_seq, last_seq, sizeof(last_seq));
	return NULL;
}

/*
 * A timed run's window: SECS seconds from when every thread has done its first
 * op (on several nodes the start barrier's wake-up reaches them apart), each
 * thread's ops in it read from its progress page into window_ops. Returns
 * the window's length in ns. A thread that has not started within 60 s is
 * not waited for (its window_ops stay 0).
 */
static uint64_t tp_window(struct tp_worker *w, unsigned int secs)
{
	uint64_t t1, deadline = now_ns() + 60 * 1000000000ull;

	for (int i = 0; i < ncpus; i++)
		while (w[i].progress && !w[i].progress->done && now_ns() < deadline)
			usleep(10000);
	t1 = now_ns();
	for (int i = 0; i < ncpus; i++)
		w[i].window_ops = w[i].progress ? w[i].progress->done : 0;
	sleep(secs);
	for (int i = 0; i < ncpus; i++)
		w[i].window_ops = (w[i].progress ? w[i].progress->done : 0) - w[i].window_ops;
	return now_ns() - t1;
}

/*
 * Runs the throughput mode NAME (local or shared) with OPS per thread, or, if
 * SECS is not 0, for SECS seconds. The main thread waits on CPU 0, the
 * timekeeping CPU: on another it would restart that CPU's tick.
 *
 * A run with OPS prints their total over the time from the first thread's
 * start to the last one's end. A timed run prints the ops of its window
 * (tp_window), when every thread runs, and the run's totals after them.
 * Both add thread_rate_sum, each thread's ops over its own time, summed, and
 * start_skew, the time between the first thread's start and the last's.
 */
static int test_throughput(const char *name, unsigned long ops, unsigned int secs)
{
	int shared_mode = !strcmp(name, "shared");
	struct tp_shared *sh = shared_mode ? calloc(1, sizeof(*sh)) : NULL;
	struct tp_worker *w = calloc((size_t)ncpus, sizeof(*w));
	/* On a page of its own: written once, read by every thread at every op. */
	volatile int *stop =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t bad_counters = 0, bad_records = 0, unpinned = 0, unmapped = 0, counted = 0;
	uint64_t first = UINT64_MAX, last = 0, total = 0, last_start = 0, stop_ns = 0;
	uint64_t window_ns = 0, window_total = 0;
	pthread_barrier_t start;
	double seconds, rate_sum = 0;
	char per_thread[MAX_CPUS * 12] = "";

	if (!w || (shared_mode && !sh) || stop == MAP_FAILED) {
		printf("cvmm-guest-test: %s: FAIL out of memory\n", name);
		return 1;
	}
	if (secs)
		ops = UINT32_MAX - 1; /* the records' sequence numbers are 32-bit */
	pin(0);
	pthread_barrier_init(&start, NULL, (unsigned int)ncpus + (secs ? 1 : 0));
	for (int i = 0; i < ncpus; i++) {
		w[i].cpu = i;
		w[i].ops = ops;
		w[i].start = &start;
		w[i].stop = stop;
		w[i].shared = sh;
		pthread_create(&w[i].thread, NULL, shared_mode ? shared_worker : local_worker,
			       &w[i]);
	}
	if (secs) {
		pthread_barrier_wait(&start);
		window_ns = tp_window(w, secs);
		__atomic_store_n(stop, 1, __ATOMIC_RELAXED);
		stop_ns = now_ns();
	}
	for (int i = 0; i < ncpus; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].progress)
			munmap(w[i].progress, 4096);
		first = w[i].start_ns < first ? w[i].start_ns : first;
		last = w[i].end_ns > last ? w[i].end_ns : last;
		last_start = w[i].start_ns > last_start ? w[i].start_ns : last_start;
		total += w[i].ops;
		window_total += w[i].window_ops;
		if (w[i].end_ns > w[i].start_ns)
			rate_sum += (double)w[i].ops * 1e9 / (double)(w[i].end_ns - w[i].start_ns);
		if (window_ns)
			snprintf(per_thread + strlen(per_thread),
				 sizeof(per_thread) - strlen(per_thread), "%s%.0f", i ? "," : "",
				 (double)w[i].window_ops * 1e9 / (double)window_ns);
		unpinned += w[i].pin_error != 0;
		unmapped += w[i].map_error;
		bad_counters += w[i].bad_counters;
		bad_records += w[i].bad_records;
	}
	if (shared_mode) {
		for (int c = 0; c < TP_COUNTERS; c++)
			counted += sh->counters[c];
		bad_counters = counted != total;
		for (int i = 0; i < ncpus; i++)
			bad_records +=
				tp_bad_records(i, w[i].last_seq, &sh->records[0][i], MAX_CPUS);
	}
	seconds = (double)(last - first) / 1e9;
	if (bad_counters || bad_records || unpinned || unmapped || last <= first) {
		printf("cvmm-guest-test: %s: FAIL threads=%d ops=%llu bad_counters=%llu "
		       "bad_records=%llu unpinned=%llu unmapped=%llu seconds=%.3f\n",
		       name, ncpus, (unsigned long long)total, (unsigned long long)bad_counters,
		       (unsigned long long)bad_records, (unsigned long long)unpinned,
		       (unsigned long long)unmapped, seconds);
		return 1;
	}
	printf("cvmm-guest-test: %s: PASS threads=%d ", name, ncpus);
	if (secs)
		printf("ops=%llu seconds=%.3f ops_per_s=%.0f thread_ops_per_s=%s run_ops=%llu "
		       "run_seconds=%.3f stop_lag=%.3f ",
		       (unsigned long long)window_total, (double)window_ns / 1e9,
		       (double)window_total * 1e9 / (double)window_ns, per_thread,
		       (unsigned long long)total, seconds, ((double)last - (double)stop_ns) / 1e9);
	else
		printf("ops=%llu seconds=%.3f ops_per_s=%.0f ", (unsigned long long)total, seconds,
		       (double)total / seconds);
	printf("thread_rate_sum=%.0f start_skew=%.3f\n", rate_sum,
	       (double)(last_start - first) / 1e9);
	return 0;
}

#define COW_PAGES 64 /* more than the kernel's 33-page single-flush ceiling */

struct cow {
	pthread_barrier_t step;
	int cpu[2]; /* the two CPUs taking turns */
	unsigned long rounds;
	volatile uint32_t *buf;	  /* this round's pages, one word per page */
	volatile uint32_t *other; /* a region whose protection change flushes the TLB */
	uint32_t before, after;	  /* what the pages hold at the fork, and after it */
	unsigned long stale;	  /* rounds whose child saw the write made after its fork */
	unsigned long lost;	  /* rounds whose writer did not read back its own write */
	int error;
	uint64_t phase_ns[5]; /* thread 0's time at each step of the last round */
};

static void cow_step(struct cow *c, int me, int step)
{
	pthread_barrier_wait(&c->step);
	if (me == 0)
		c->phase_ns[step] = now_ns();
}

static void cow_fill(volatile uint32_t *buf, uint32_t v)
{
	for (int i = 0; i < COW_PAGES; i++)
		buf[i * (4096 / sizeof(*buf))] = v + (uint32_t)i;
}

static int cow_count(volatile uint32_t *buf, uint32_t v)
{
	int bad = 0;

	for (int i = 0; i < COW_PAGES; i++)
		bad += buf[i * (4096 / sizeof(*buf))] != v + (uint32_t)i;
	return bad;
}

/* A full TLB flush of this CPU: a protection change over more pages than the
 * kernel flushes one by one. */
static int cow_flush(struct cow *c)
{
	size_t len = COW_PAGES * 4096;

	if (mprotect((void *)c->other, len, PROT_READ) ||
	    mprotect((void *)c->other, len, PROT_READ | PROT_WRITE))
		return -1;
	return 0;
}

/* Forks; the child waits for the go byte on the pipe, then exits with the
 * number of pages that do not hold c->before. Returns the child's pid. */
static pid_t cow_fork(struct cow *c, int go[2])
{
	pid_t pid = fork();

	if (pid == 0) {
		char b;

		close(go[1]);
		if (read(go[0], &b, 1) != 1)
			_exit(255);
		_exit(cow_count(c->buf, c->before) ? 1 : 0);
	}
	return pid;
}

/* Thread `me` (0 or 1) of the two: in even rounds thread 0 writes and thread 1
 * forks, in odd rounds the other way round. */
static void cow_round(struct cow *c, int me, unsigned long round)
{
	int forker = (int)(round & 1) ? 0 : 1;
	int go[2] = { -1, -1 };
	pid_t pid = -1;
	int status;

	if (me != forker) {
		/* The writer maps the pages, writes them, and flushes its TLB so
		 * that its translations are settled before the other CPU forks. */
		c->buf = mmap(NULL, COW_PAGES * 4096, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c->buf == MAP_FAILED) {
			c->error = 1;
			c->buf = NULL;
		} else {
			c->before = 0x51000000u + (uint32_t)round * 0x1000u;
			c->after = c->before + 0x800u;
			cow_fill(c->buf, c->before);
			if (cow_flush(c))
				c->error = 1;
		}
	}
	cow_step(c, me, 0);
	if (me == forker && c->buf) {
		if (pipe(go) == 0)
			pid = cow_fork(c, go);
		if (pid < 0)
			c->error = 1;
	}
	cow_step(c, me, 1);
	if (me != forker && c->buf) {
		/* After the fork: each write must fault and copy. */
		cow_fill(c->buf, c->after);
		if (cow_count(c->buf, c->after))
			c->lost++;
	}
	cow_step(c, me, 2);
	if (me == forker && pid > 0) {
		close(go[0]);
		if (write(go[1], "g", 1) != 1 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status) > 1)
			c->error = 1;
		else if (WEXITSTATUS(status) == 1)
			c->stale++;
		close(go[1]);
	} else if (me == forker && go[0] >= 0) {
		close(go[0]);
		close(go[1]);
	}
	cow_step(c, me, 3);
	if (me != forker && c->buf) {
		munmap((void *)c->buf, COW_PAGES * 4096);
		c->buf = NULL;
	}
	cow_step(c, me, 4);
}

static void *cow_thread(void *arg)
{
	struct cow *c = arg;

	if (pin(c->cpu[1]))
		c->error = 1;
	for (unsigned long r = 0; r < c->rounds; r++)
		cow_round(c, 1, r);
	return NULL;
}

static int test_cow(unsigned long rounds)
{
	struct cow c = { .cpu = { 0, ncpus - 1 }, .rounds = rounds };
	pthread_t helper;

	if (ncpus < 2) {
		printf("cvmm-guest-test: cow: FAIL needs 2 CPUs, %d online\n", ncpus);
		return 1;
	}
	c.other = mmap(NULL, COW_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (c.other == MAP_FAILED || pin(c.cpu[0])) {
		printf("cvmm-guest-test: cow: FAIL cannot set up (mmap or pin)\n");
		return 1;
	}
	cow_fill(c.other, 1);
	pthread_barrier_init(&c.step, NULL, 2);
	pthread_create(&helper, NULL, cow_thread, &c);
	for (unsigned long r = 0; r < rounds; r++) {
		uint64_t t0 = now_ns();

		cow_round(&c, 0, r);
		fprintf(stderr,
			"cvmm-guest-test: cow: round %lu: %.2f s (map %.2f fork %.2f write %.2f "
			"child %.2f unmap %.2f), stale %lu, lost %lu\n",
			r + 1, (double)(now_ns() - t0) / 1e9, (double)(c.phase_ns[0] - t0) / 1e9,
			(double)(c.phase_ns[1] - c.phase_ns[0]) / 1e9,
			(double)(c.phase_ns[2] - c.phase_ns[1]) / 1e9,
			(double)(c.phase_ns[3] - c.phase_ns[2]) / 1e9,
			(double)(c.phase_ns[4] - c.phase_ns[3]) / 1e9, c.stale, c.lost);
	}
	pthread_join(helper, NULL);

	if (!c.stale && !c.lost && !c.error) {
		printf("cvmm-guest-test: cow: PASS cpus=%d,%d rounds=%lu pages=%d\n", c.cpu[0],
		       c.cpu[1], rounds, COW_PAGES);
		return 0;
	}
	printf("cvmm-guest-test: cow: FAIL cpus=%d,%d rounds=%lu stale=%lu lost=%lu error=%d\n",
	       c.cpu[0], c.cpu[1], rounds, c.stale, c.lost, c.error);
	return 1;
}

/*
 * ARG: a count of operations ("20000", into OPS) or, with an s after it, of
 * seconds ("5s", into SECS; 1 to 3600). Returns -1 if it is neither.
 */
static int parse_count(const char *arg, unsigned long *ops, unsigned int *secs)
{
	char *end;
	unsigned long v;

	if (*arg < '0' || *arg > '9')
		return -1;
	v = strtoul(arg, &end, 10);
	if (!strcmp(end, "s") && v >= 1 && v <= 3600) {
		*secs = (unsigned int)v;
		return 0;
	}
	if (*end || !v)
		return -1;
	*ops = v;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long ops = 20000;
	unsigned int secs = 0;

	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpus < 1 || ncpus > MAX_CPUS) {
		fprintf(stderr, "cvmm-guest-test: %d CPUs online; 1 to %d supported\n", ncpus,
			MAX_CPUS);
		return 2;
	}
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: cvmm-guest-test memory|locks|local|shared|cow [OPS]\n"
				"       cvmm-guest-test local|shared Ns\n");
		return 2;
	}
	if (argc == 3 && parse_count(argv[2], &ops, &secs)) {
		fprintf(stderr,
			"cvmm-guest-test: '%s' is not a count of operations "
			"(OPS) or of seconds (Ns)\n",
			argv[2]);
		return 2;
	}
	if (secs && strcmp(argv[1], "local") && strcmp(argv[1], "shared")) {
		fprintf(stderr, "cvmm-guest-test: %s runs a count of operations, not %s\n", argv[1],
			argv[2]);
		return 2;
	}
	if (!strcmp(argv[1], "memory"))
		return test_memory(ops);
	if (!strcmp(argv[1], "locks"))
		return test_locks(ops);
	if (!strcmp(argv[1], "local") || !strcmp(argv[1], "shared"))
		return test_throughput(argv[1], ops, secs);
	if (!strcmp(argv[1], "cow"))
		return test_cow(argc == 3 ? ops : 40);
	fprintf(stderr, "cvmm-guest-test: unknown test '%s' (memory, locks, local, shared, cow)\n",
		argv[1]);
	return 2;
}
