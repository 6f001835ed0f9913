// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cvmm/lib/fdio.h"
#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "mgmt/sim/image.h"

#define MAX_INPUTS 64

static int cmp_input(const void *a, const void *b)
{
	return strcmp(((const struct sim_image_input *)a)->name,
		      ((const struct sim_image_input *)b)->name);
}

static void to_hex(const unsigned char *bytes, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = digits[bytes[i] >> 4];
		hex[2 * i + 1] = digits[bytes[i] & 15];
	}
	hex[2 * n] = '\0';
}

int sim_image_key(struct sim_image_input *in, size_t n, char key[SIM_KEY_HEX + 1])
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;

	qsort(in, n, sizeof(*in), cmp_input);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(in[i - 1].name, in[i].name))
			return -EINVAL;
	crypto_hash_sha256_init(&st);
	for (size_t i = 0; i < n; i++) {
		crypto_hash_sha256_update(&st, (const unsigned char *)in[i].name,
					  strlen(in[i].name) + 1);
		crypto_hash_sha256_update(&st, (const unsigned char *)in[i].value,
					  strlen(in[i].value) + 1);
	}
	crypto_hash_sha256_final(&st, digest);
	to_hex(digest, SIM_KEY_HEX / 2, key);
	return 0;
}

int sim_hash_file(const char *path, char hex[65])
{
	unsigned char digest[crypto_hash_sha256_BYTES], buf[65536];
	crypto_hash_sha256_state st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	crypto_hash_sha256_init(&st);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		crypto_hash_sha256_update(&st, buf, (size_t)n);
	close(fd);
	if (n < 0)
		return -EIO;
	crypto_hash_sha256_final(&st, digest);
	to_hex(digest, sizeof(digest), hex);
	return 0;
}

/* Runs argv with CVMM_CACHE set; its stdout goes to out (if not NULL), stderr passes. */
static int run_script(const char *const argv[], const char *cache, char *out, size_t len)
{
	int pipefd[2] = { -1, -1 }, status;
	size_t fill = 0;
	pid_t pid;

	if (out && pipe2(pipefd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (out)
			dup2(pipefd[1], STDOUT_FILENO);
		else
			dup2(STDERR_FILENO, STDOUT_FILENO);
		setenv("CVMM_CACHE", cache, 1);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (out) {
		ssize_t n;

		close(pipefd[1]);
		while ((n = read(pipefd[0], out + fill, len - 1 - fill)) > 0)
			fill += (size_t)n;
		out[fill] = '\0';
		close(pipefd[0]);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static void remove_tree(const char *dir, const char *cache)
{
	const char *rm[] = { "/bin/rm", "-rf", dir, NULL };

	run_script(rm, cache, NULL, 0);
}

/* mgmt/image next to the program: BIN/../../mgmt/image (or ../../../ for build/san/bin). */
static int find_datadir(char *buf, size_t len)
{
	const char *env = getenv("CVMM_DATADIR");
	char exe[512], probe[700];
	ssize_t n;

	if (env) {
		snprintf(buf, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	for (int up = 0; up < 4; up++) {
		snprintf(exe, sizeof(exe), "%s", dirname(exe));
		snprintf(probe, sizeof(probe), "%s/mgmt/image/mkimage.sh", exe);
		if (!access(probe, X_OK))
			return format_checked(buf, len, "%s/mgmt/image", exe);
	}
	return -ENOENT;
}

static void default_cache(char *buf, size_t len)
{
	const char *env = getenv("CVMM_CACHE"), *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (env)
		snprintf(buf, len, "%s", env);
	else if (xdg)
		snprintf(buf, len, "%s/cvmm", xdg);
	else
		snprintf(buf, len, "%s/.cache/cvmm", home ? home : "/root");
}

/* Splits "name value\n" lines of text into inputs (in place). */
static size_t parse_inputs(char *text, struct sim_image_input *in, size_t max)
{
	size_t n = 0;

	for (char *line = strtok(text, "\n"); line && n < max; line = strtok(NULL, "\n")) {
		char *sp = strchr(line, ' ');

		if (!sp)
			continue;
		*sp = '\0';
		in[n].name = line;
		in[n].value = sp + 1;
		n++;
	}
	return n;
}

static int compute_key(struct sim_image *img)
{
	static char text[8192];
	char script[700], init[700], script_hash[65], init_hash[65];
	struct sim_image_input in[MAX_INPUTS];
	const char *argv[] = { script, "inputs", NULL };
	size_t n;
	int ret;

	snprintf(script, sizeof(script), "%s/mkimage.sh", img->datadir);
	snprintf(init, sizeof(init), "%s/init", img->datadir);
	ret = sim_hash_file(script, script_hash);
	if (!ret)
		ret = sim_hash_file(init, init_hash);
	if (ret) {
		pr_err("cannot read the image recipe in %s: %s", img->datadir, strerror(-ret));
		return ret;
	}
	ret = run_script(argv, img->cachedir, text, sizeof(text));
	if (ret) {
		pr_err("could not list the node image's inputs (%s inputs failed)", script);
		return ret;
	}
	in[0] = (struct sim_image_input){ "recipe:mkimage.sh", script_hash };
	in[1] = (struct sim_image_input){ "recipe:init", init_hash };
	n = 2 + parse_inputs(text, in + 2, MAX_INPUTS - 2);
	ret = sim_image_key(in, n, img->key);
	if (ret)
		pr_err("the image inputs list a name twice");
	return ret;
}

static int mkdir_p(const char *path)
{
	char tmp[600];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int sim_image_prepare(struct sim_image *img, const char *cache_dir)
{
	char tmpdir[700], script[700];
	const char *argv[] = { script, "base", tmpdir, NULL };
	int ret;

	memset(img, 0, sizeof(*img));
	if (sodium_init() < 0) {
		pr_err("libsodium failed to initialise");
		return -EIO;
	}
	ret = find_datadir(img->datadir, sizeof(img->datadir));
	if (ret) {
		pr_err("cannot find mgmt/image/mkimage.sh next to this program "
		       "(set CVMM_DATADIR to the tree's mgmt/image)");
		return ret;
	}
	if (cache_dir)
		snprintf(img->cachedir, sizeof(img->cachedir), "%s", cache_dir);
	else
		default_cache(img->cachedir, sizeof(img->cachedir));
	ret = compute_key(img);
	if (ret)
		return ret;
	snprintf(img->dir, sizeof(img->dir), "%s/node-%s", img->cachedir, img->key);
	snprintf(img->kernel, sizeof(img->kernel), "%s/vmlinuz", img->dir);
	snprintf(img->base, sizeof(img->base), "%s/base.cpio.gz", img->dir);
	if (!access(img->kernel, R_OK) && !access(img->base, R_OK)) {
		pr_info("node image %s (cached)", img->key);
		return 0;
	}

	pr_info("building node image %s in %s", img->key, img->cachedir);
	ret = mkdir_p(img->cachedir);
	if (ret) {
		pr_err("cannot create the cache %s: %s", img->cachedir, strerror(-ret));
		return ret;
	}
	/* Built aside and renamed into place: a failed build leaves no half image. */
	snprintf(tmpdir, sizeof(tmpdir), "%s/.node-%s.XXXXXX", img->cachedir, img->key);
	if (!mkdtemp(tmpdir)) {
		ret = -errno;
		pr_err("cannot create a directory in %s: %s", img->cachedir, strerror(errno));
		return ret;
	}
	snprintf(script, sizeof(script), "%s/mkimage.sh", img->datadir);
	ret = run_script(argv, img->cachedir, NULL, 0);
	if (ret) {
		pr_err("building the node image failed (see the messages above)");
		goto out_rm;
	}
	/* mkdtemp made it private; the image is for every user of this cache. */
	chmod(tmpdir, 0755);
	if (rename(tmpdir, img->dir)) {
		/* Another launcher built the same key meanwhile: use theirs. */
		if (errno == ENOTEMPTY || errno == EEXIST)
			goto out_rm;
		ret = -errno;
		pr_err("cannot move the image into %s: %s", img->dir, strerror(errno));
		goto out_rm;
	}
	return 0;

out_rm:
	remove_tree(tmpdir, img->cachedir);
	return ret;
}

static int append_file(int out, const char *path)
{
	char buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		ret = write_full(out, buf, (size_t)n);
		if (ret)
			break;
	}
	if (n < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int sim_image_initrd(const struct sim_image *img, const char *bindir, const char *rundir,
		     char *initrd, size_t len)
{
	char script[700], overlay[600];
	const char *argv[] = { script, "overlay", bindir, overlay, NULL };
	int fd, ret;

	snprintf(script, sizeof(script), "%s/mkimage.sh", img->datadir);
	snprintf(overlay, sizeof(overlay), "%s/overlay.cpio.gz", rundir);
	ret = run_script(argv, img->cachedir, NULL, 0);
	if (ret) {
		pr_err("packing %s into the node image failed", bindir);
		return ret;
	}
	/* The kernel unpacks concatenated cpio archives in order: base, then ours. */
	snprintf(initrd, len, "%s/initrd.img", rundir);
	fd = open(initrd, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		pr_err("cannot create %s: %s", initrd, strerror(errno));
		return ret;
	}
	ret = append_file(fd, img->base);
	if (!ret)
		ret = append_file(fd, overlay);
	close(fd);
	if (ret)
		pr_err("cannot write %s: %s", initrd, strerror(-ret));
	return ret;
}
