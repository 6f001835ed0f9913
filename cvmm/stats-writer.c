// SPDX-License-Identifier: GPL-2.0
/*
 * The thread that keeps `cvmm node`'s live statistics file current
 * (cvmm/stats-writer.h). Its lock orders the node's hand-over of its DSM
 * and VM against a sample being taken: the node never destroys what the
 * writer is reading.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cvmm/hypercall.h"
#include "cvmm/lib/fdio.h"
#include "cvmm/lib/log.h"
#include "cvmm/stats-file.h"
#include "cvmm/stats-writer.h"
#include "cvmm/vm.h"
#include "dsm/dsm.h"

#define STATS_PERIOD_S 1
/* The text of a node: ~3.5 KiB of latency histogram, a line per vCPU and call. */
#define STATS_BUF (64 * 1024)

struct stats_writer {
	char path[4096], tmp[4096 + 8];
	char vc[64];

	pthread_mutex_t lock; /* everything below */
	pthread_cond_t cond;
	bool stop;
	struct dsm *dsm;
	struct vm *vm;
	struct stats_sample s;
	bool write_failed; /* logged once */

	pthread_t thread;
	char buf[STATS_BUF];
};

/* Refreshes the sample from what the node has now; under the lock. */
static void take_sample(struct stats_writer *w)
{
	struct stats_sample *s = &w->s;

	if (w->dsm) {
		dsm_get_stats(w->dsm, &s->dsm);
		dsm_count_pages(w->dsm, &s->pages_owned, &s->pages_homed);
		s->nhot = dsm_hot_pages_period(w->dsm, s->hot, STATS_MAX_HOT);
		s->have_dsm = true;
	}
	if (w->vm && w->vm->cluster) {
		/* vCPUs move between nodes (vcpu-move, leave): the ones that run here now */
		s->nvcpus = 0;
		for (unsigned int i = 0; i < w->vm->nr_cpus && s->nvcpus < STATS_MAX_VCPUS; i++) {
			if (w->vm->vcpus[i].remote)
				continue;
			s->vcpu[s->nvcpus].vcpu = i;
			s->vcpu[s->nvcpus].node = s->node;
			s->nvcpus++;
		}
	}
	if (w->vm && w->vm->hc) {
		s->ncalls = 0;
		for (uint32_t nr = 1; nr < HC_NR && s->ncalls < STATS_MAX_CALLS; nr++) {
			s->call[s->ncalls].name = hypercall__name(nr);
			s->call[s->ncalls].count =
				atomic_load_explicit(&w->vm->hc->calls[nr], memory_order_relaxed);
			s->ncalls++;
		}
		s->have_calls = true;
	}
}

static int write_file(struct stats_writer *w, int len)
{
	int fd, ret;

	fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ret = write_full(fd, w->buf, (size_t)len);
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(w->tmp, w->path))
		ret = -errno;
	if (ret)
		unlink(w->tmp);
	return ret;
}

/* Samples, formats and writes once; under the lock. */
static void write_once(struct stats_writer *w)
{
	int len, ret;

	take_sample(w);
	len = stats_format(&w->s, w->buf, sizeof(w->buf));
	ret = len < 0 ? len : write_file(w, len);
	if (ret && !w->write_failed)
		pr_err("stats file %s: %s (not written until further notice)", w->path,
		       strerror(-ret));
	else if (!ret && w->write_failed)
		pr_info("stats file %s: written again", w->path);
	w->write_failed = ret != 0;
}

static void *writer_main(void *arg)
{
	struct stats_writer *w = arg;
	struct timespec t;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		write_once(w);
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_sec += STATS_PERIOD_S;
		while (!w->stop && pthread_cond_timedwait(&w->cond, &w->lock, &t) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int stats_writer_start(const char *vc, unsigned int node, struct stats_writer **out)
{
	const char *path = getenv("CVMM_STATS_FILE");
	struct stats_writer *w;
	pthread_condattr_t ca;
	sigset_t all, old;
	int ret;

	*out = NULL;
	if (!path || !*path)
		return 0;
	if (strlen(path) >= sizeof(w->path)) {
		pr_err("CVMM_STATS_FILE: path too long");
		return -ENAMETOOLONG;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	snprintf(w->path, sizeof(w->path), "%s", path);
	snprintf(w->tmp, sizeof(w->tmp), "%s.tmp", path);
	snprintf(w->vc, sizeof(w->vc), "%s", vc);
	w->s.vc = w->vc;
	w->s.node = node;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	/*
	 * The writer takes no signal: a process-directed SIGTERM must reach the
	 * thread that handles it (cvmm/kvm.c blocks it in the threads it starts,
	 * not in this one), not end the node by its default action here.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		pr_err("stats file %s: cannot start its thread: %s", path, strerror(-ret));
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return ret;
	}
	*out = w;
	return 0;
}

void stats_writer_set_dsm(struct stats_writer *w, struct dsm *d)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	take_sample(w); /* the last figures of the DSM handed back */
	w->dsm = d;
	take_sample(w);
	pthread_mutex_unlock(&w->lock);
}

void stats_writer_set_vm(struct stats_writer *w, struct vm *vm)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	take_sample(w);
	w->vm = vm;
	take_sample(w);
	pthread_mutex_unlock(&w->lock);
}

void stats_writer_place_vcpu(struct stats_writer *w, unsigned int vcpu, unsigned int node)
{
	struct stats_sample *s;
	unsigned int i;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	s = &w->s;
	for (i = 0; i < s->nvcpus && s->vcpu[i].vcpu != vcpu; i++)
		;
	if (i < STATS_MAX_VCPUS) {
		s->vcpu[i].vcpu = vcpu;
		s->vcpu[i].node = node;
		if (i == s->nvcpus)
			s->nvcpus++;
	}
	pthread_mutex_unlock(&w->lock);
}

void stats_writer_stop(struct stats_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	write_once(w); /* the thread is gone: the lock is no longer needed */
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
