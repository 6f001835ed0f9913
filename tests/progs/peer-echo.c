// SPDX-License-Identifier: GPL-2.0
/*
 * peer-echo: proves that the nodes of a cluster reach each other over the
 * interconnect. Run on every node at once (`cvmm sim --all`): each node
 * serves TCP echo on PORT and sends 4 KiB of random bytes to every other node,
 * expecting them back unchanged. Prints one TAP line per peer; exits 0 only
 * when every peer echoed correctly and every peer's echo request was served.
 *
 * The cluster comes from CVMM_NODE_ID and CVMM_NODE_ADDRS ("a0,a1,..."), which
 * every sim node has in its environment.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cvmm/lib/fdio.h"

#define PORT	  7777
#define MSG	  4096
#define MAX_PEERS 16
#define WAIT_SECS 60

struct server {
	int fd;
	int expected; /* connections to serve */
	int served;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *serve(void *arg)
{
	struct server *s = arg;
	uint8_t buf[MSG];

	while (s->served < s->expected) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		int c;

		if (poll(&p, 1, WAIT_SECS * 1000) <= 0)
			break; /* a peer never came */
		c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		if (!read_full(c, buf, MSG) && !write_full(c, buf, MSG))
			s->served++;
		close(c);
	}
	return NULL;
}

static int echo_to(const char *addr, double *ms, char *why, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	uint8_t out[MSG], in[MSG];
	double deadline = now() + WAIT_SECS, t0;
	int fd = -1;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return snprintf(why, len, "bad address %s", addr), -1;
	for (size_t i = 0; i < MSG; i++)
		out[i] = (uint8_t)rand();
	/* The peer may not listen yet: it boots and starts at its own pace. */
	while (now() < deadline) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return snprintf(why, len, "socket: %s", strerror(errno)), -1;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		close(fd);
		fd = -1;
		usleep(200000);
	}
	if (fd < 0)
		return snprintf(why, len, "could not connect within %ds", WAIT_SECS), -1;
	t0 = now();
	if (write_full(fd, out, MSG) || read_full(fd, in, MSG)) {
		close(fd);
		return snprintf(why, len, "connection broke during the echo"), -1;
	}
	*ms = (now() - t0) * 1e3;
	close(fd);
	if (memcmp(in, out, MSG))
		return snprintf(why, len, "the echo differs from what was sent"), -1;
	return 0;
}

int main(void)
{
	const char *id_s = getenv("CVMM_NODE_ID"), *addrs_s = getenv("CVMM_NODE_ADDRS");
	char addrs[1024], *addr[MAX_PEERS], why[128];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct server srv = { 0 };
	pthread_t thread;
	int n = 0, id, one = 1, failed = 0, test = 0;

	if (!id_s || !addrs_s) {
		fprintf(stderr, "peer-echo: CVMM_NODE_ID and CVMM_NODE_ADDRS are not set "
				"(run it on sim nodes: cvmm sim --all -- peer-echo)\n");
		return 2;
	}
	id = atoi(id_s);
	snprintf(addrs, sizeof(addrs), "%s", addrs_s);
	for (char *a = strtok(addrs, ","); a && n < MAX_PEERS; a = strtok(NULL, ","))
		addr[n++] = a;
	if (id < 0 || id >= n) {
		fprintf(stderr, "peer-echo: node id %d is not in the %d addresses\n", id, n);
		return 2;
	}
	srand((unsigned int)(time(NULL) ^ id));

	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(srv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	if (srv.fd < 0 || bind(srv.fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(srv.fd, 16)) {
		fprintf(stderr, "peer-echo: cannot listen on port %d: %s\n", PORT, strerror(errno));
		return 1;
	}
	srv.expected = n - 1;
	pthread_create(&thread, NULL, serve, &srv);

	printf("1..%d\n", n);
	for (int p = 0; p < n; p++) {
		double ms = 0;

		if (p == id)
			continue;
		if (echo_to(addr[p], &ms, why, sizeof(why))) {
			printf("not ok %d - node%d -> node%d (%s): %s\n", ++test, id, p, addr[p],
			       why);
			failed = 1;
		} else {
			printf("ok %d - node%d -> node%d (%s): 4 KiB echoed in %.2f ms\n", ++test,
			       id, p, addr[p], ms);
		}
		fflush(stdout);
	}
	pthread_join(thread, NULL);
	close(srv.fd);
	if (srv.served != srv.expected) {
		printf("not ok %d - node%d served %d of %d peers' echo requests\n", ++test, id,
		       srv.served, srv.expected);
		failed = 1;
	} else {
		printf("ok %d - node%d served all %d peers' echo requests\n", ++test, id,
		       srv.served);
	}
	return failed;
}
