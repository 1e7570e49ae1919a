/*
 * t_store_redis.c - unit tests for engine/store_redis.c against a real
 * redis-server, started by this program on a private unix socket (and a
 * loopback TCP port) and stopped at the end: address specs, transactions
 * with buffered writes (read-your-writes, abort, one MULTI/EXEC), the walk
 * over "gg:" keys only, expiry set on every write, junk values, and errors
 * while Redis is down followed by recovery without reopening the store.
 * Exits 77 (skipped) when redis-server is not installed ($GG_REDIS_SERVER
 * names another one).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <hiredis/hiredis.h>

#include "unit.h"
#include "store/record.h"
#include "store/store.h"
#include "store/store_redis.h"

/* The one redis-server of this run. */
static struct {
	const char *bin;
	char *dir, *sock, *log;
	int port;
	pid_t pid;
} srv;

/* find_server - $GG_REDIS_SERVER, else the usual places */
static int find_server(void)
{
	static const char *cands[] = { "/usr/bin/redis-server", "/usr/local/bin/redis-server",
				       "/usr/sbin/redis-server" };
	const char *env = getenv("GG_REDIS_SERVER");

	if (env != NULL && env[0] != '\0') {
		srv.bin = env;
		return access(env, X_OK) == 0;
	}

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++)
		if (access(cands[i], X_OK) == 0) {
			srv.bin = cands[i];
			return 1;
		}
	return 0;
}

/* free_port - a loopback TCP port nobody listens on right now */
static int free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* admin - a plain hiredis connection for looking behind the store's back */
static redisContext *admin(void)
{
	struct timeval tv = { 1, 0 };
	redisContext *c = redisConnectUnixWithTimeout(srv.sock, tv);

	if (c == NULL || c->err) {
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	return c;
}

static void server_start(void)
{
	char port[16];
	int fd;

	snprintf(port, sizeof(port), "%d", srv.port);
	if ((srv.pid = fork()) < 0) {
		perror("fork");
		exit(1);
	}
	if (srv.pid == 0) {
		if ((fd = open(srv.log, O_WRONLY | O_CREAT | O_APPEND, 0600)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execl(srv.bin, srv.bin, "--port", port, "--bind", "127.0.0.1", "-::1",
		      "--unixsocket", srv.sock, "--unixsocketperm", "700", "--save", "",
		      "--appendonly", "no", "--dir", srv.dir, "--databases", "16", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		redisContext *c = admin();
		if (c != NULL) {
			redisFree(c);
			return;
		}
		usleep(25000);
	}
	fprintf(stderr, "redis-server did not start (log: %s)\n", srv.log);
	kill(srv.pid, SIGKILL);
	exit(1);
}

static void server_stop(void)
{
	int st;

	if (srv.pid <= 0)
		return;
	kill(srv.pid, SIGTERM);
	(void)waitpid(srv.pid, &st, 0);
	srv.pid = 0;
}

/* acmd - one admin command, its reply checked to exist */
static redisReply *acmd(const char *fmt, ...)
{
	redisContext *c = admin();
	redisReply *r;
	va_list ap;

	if (c == NULL)
		fail_msg("no admin connection to redis-server");
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	redisFree(c);
	if (r == NULL)
		fail_msg("admin command %s failed", fmt);
	return r;
}

static long long acmd_int(const char *fmt, const char *arg)
{
	redisReply *r = acmd(fmt, arg);
	long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -999;

	freeReplyObject(r);
	return v;
}

/* Fixture: an empty server and a store on its unix socket. */
struct fx {
	struct gg_store *s;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[512] = "", *spec;

	if (f == NULL)
		return -1;
	if (srv.pid == 0)
		server_start();
	freeReplyObject(acmd("FLUSHALL"));
	spec = tu_subst("redis:unix:@@", srv.sock);
	if (gg_store_open(spec, 1, &f->s, err, sizeof(err)) != GG_OK) {
		fprintf(stderr, "cannot open test store: %s\n", err);
		free(spec);
		return -1;
	}
	free(spec);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	gg_store_close(f->s);
	free(f);
	if (srv.pid > 0)
		kill(srv.pid, SIGCONT);	/* after a failed test_redis_hung */
	return 0;
}

static void put1(struct gg_store *s, const char *key, const void *val, size_t vlen)
{
	assert_int_equal(gg_store_begin(s), GG_OK);
	if (s->ops->put(s, key, strlen(key), val, vlen) != GG_OK)
		fail_msg("put %s: %s", key, gg_store_error(s));
	if (gg_store_commit(s) != GG_OK)
		fail_msg("commit %s: %s", key, gg_store_error(s));
}

static enum gg_status get1(struct gg_store *s, const char *key, uint8_t *val, size_t *vlen)
{
	enum gg_status st;

	assert_int_equal(gg_store_begin(s), GG_OK);
	st = s->ops->get(s, key, strlen(key), val, GG_RECORD_MAX, vlen);
	assert_int_equal(gg_store_commit(s), GG_OK);
	return st;
}

static int exists(struct gg_store *s, const char *key)
{
	uint8_t v[GG_RECORD_MAX];
	size_t n;
	enum gg_status st = get1(s, key, v, &n);

	if (st != GG_OK && st != GG_NOTFOUND)
		fail_msg("get %s: %s (%s)", key, gg_status_str(st), gg_store_error(s));
	return st == GG_OK;
}

/* in_redis - does the prefixed key exist, asked behind the store's back */
static int in_redis(const char *key)
{
	char k[512];

	snprintf(k, sizeof(k), GG_REDIS_PREFIX "%s", key);
	return acmd_int("EXISTS %s", k) == 1;
}

static long long pttl(const char *key)
{
	char k[512];

	snprintf(k, sizeof(k), GG_REDIS_PREFIX "%s", key);
	return acmd_int("PTTL %s", k);
}

/* Opening */

static void test_open_specs(void **state)
{
	struct gg_store *s = (struct gg_store *)&s;
	char err[512], spec[512];
	static const char *bad[] = {
		"redis:", "redis:127.0.0.1", "redis:127.0.0.1:", "redis:127.0.0.1:0",
		"redis:127.0.0.1:65536", "redis:127.0.0.1:63x", "redis:127.0.0.1:+6379",
		"redis::6379", "redis:::1:6379", "redis:[::1]6379", "redis:[::1]:",
		"redis:[not-v6]:6379", "redis:[::1:6379", "redis:ho st:6379",
		"redis:127.0.0.1:6379/", "redis:127.0.0.1:6379/x", "redis:127.0.0.1:6379/-1",
		"redis:127.0.0.1:6379/99999999999", "redis:127.0.0.1:6379?db=2",
		"redis:127.0.0.1:6379/2/3", "redis:unix:", "redis:unix:relative.sock",
		"redis:unix:/", "redis:unix:/run/redis/", "redis:unix:/tmp/x.sock/1x/",
	};
	char longpath[300];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (gg_store_open(bad[i], 1, &s, err, sizeof(err)) != GG_EINVAL)
			fail_msg("%s was accepted", bad[i]);
		assert_null(s);
		snprintf(spec, sizeof(spec), "database = %s:", bad[i]);
		tu_assert_contains(err, spec);
	}
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	snprintf(spec, sizeof(spec), "redis:unix:%s", longpath);
	assert_int_equal(gg_store_open(spec, 1, &s, err, sizeof(err)), GG_EINVAL);
	tu_assert_contains(err, "longer than");
	assert_int_equal(gg_store_open("redis:[::1]:6379x", 1, &s, err, sizeof(err)), GG_EINVAL);
	tu_assert_contains(err, "port");
	assert_int_equal(gg_store_open("mysql:localhost", 1, &s, err, sizeof(err)), GG_EINVAL);
	tu_assert_contains(err, "unknown backend");

	/* Good forms: TCP, IPv6, DB numbers, the unix socket with and without DB. */
	const char *good[] = { "redis:127.0.0.1:@@", "redis:127.0.0.1:@@/0", "redis:127.0.0.1:@@/15",
			       "redis:unix:" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char port[16], *g;
		snprintf(port, sizeof(port), "%d", srv.port);
		if (i == 3)
			snprintf(spec, sizeof(spec), "redis:unix:%s/2", srv.sock);
		else {
			g = tu_subst(good[i], port);
			snprintf(spec, sizeof(spec), "%s", g);
			free(g);
		}
		if (gg_store_open(spec, 1, &s, err, sizeof(err)) != GG_OK)
			fail_msg("%s: %s", spec, err);
		assert_string_equal(s->ops->name, "redis");
		if (gg_store_begin(s) != GG_OK)
			fail_msg("%s: begin: %s", spec, gg_store_error(s));
		assert_int_equal(s->ops->put(s, "k", 1, "v", 1), GG_OK);
		if (gg_store_commit(s) != GG_OK)
			fail_msg("%s: commit: %s", spec, gg_store_error(s));
		gg_store_close(s);
	}
	gg_store_close(NULL);
}

static void test_ipv6(void **state)
{
	struct gg_store *s;
	char err[512], spec[64];
	uint8_t v[GG_RECORD_MAX];
	size_t n;
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 sin6;

	(void)state;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	sin6.sin6_port = htons((uint16_t)srv.port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)) != 0) {
		if (fd >= 0)
			close(fd);
		skip();		/* no ::1 on this machine */
	}
	close(fd);
	snprintf(spec, sizeof(spec), "redis:[::1]:%d/1", srv.port);
	assert_int_equal(gg_store_open(spec, 1, &s, err, sizeof(err)), GG_OK);
	put1(s, "six", "v6", 2);
	assert_int_equal(get1(s, "six", v, &n), GG_OK);
	assert_int_equal(n, 2);
	gg_store_close(s);
	/* It went to database 1, not 0. */
	assert_false(in_redis("six"));
}

static void test_db_number(void **state)
{
	struct gg_store *s;
	char err[512], spec[512];
	redisReply *r;

	(void)state;
	snprintf(spec, sizeof(spec), "redis:unix:%s/3", srv.sock);
	assert_int_equal(gg_store_open(spec, 1, &s, err, sizeof(err)), GG_OK);
	put1(s, "in-three", "x", 1);
	gg_store_close(s);
	assert_false(in_redis("in-three"));
	r = acmd("EVAL %s 0", "redis.call('SELECT', 3); return redis.call('EXISTS', 'gg:in-three')");
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	assert_int_equal(r->integer, 1);
	freeReplyObject(r);

	/* A database the server does not have: every operation says why. */
	snprintf(spec, sizeof(spec), "redis:unix:%s/99", srv.sock);
	assert_int_equal(gg_store_open(spec, 1, &s, err, sizeof(err)), GG_OK);
	assert_int_equal(gg_store_begin(s), GG_EDB);
	tu_assert_contains(gg_store_error(s), "SELECT 99");
	tu_assert_contains(gg_store_error(s), "out of range");
	gg_store_close(s);
}

static void test_connection_refused(void **state)
{
	struct gg_store *s;
	char err[512], spec[64], want[64];
	uint8_t v[GG_RECORD_MAX];
	size_t n;
	int port = free_port();

	(void)state;
	snprintf(spec, sizeof(spec), "redis:127.0.0.1:%d", port);
	/* Opening works without a server: the daemon starts and fails open. */
	assert_int_equal(gg_store_open(spec, 1, &s, err, sizeof(err)), GG_OK);
	assert_int_equal(gg_store_begin(s), GG_EDB);
	snprintf(want, sizeof(want), "redis 127.0.0.1:%d: ", port);
	tu_assert_contains(gg_store_error(s), want);
	tu_assert_contains(gg_store_error(s), "Connection refused");
	assert_int_equal(s->ops->get(s, "k", 1, v, sizeof(v), &n), GG_EDB);
	assert_int_equal(s->ops->put(s, "k", 1, "v", 1), GG_EDB);
	assert_int_equal(s->ops->del(s, "k", 1), GG_EDB);
	tu_assert_contains(gg_store_error(s), "Connection refused");
	gg_store_close(s);
}

/* Transactions */

static void test_put_get_del(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	uint8_t v[GG_RECORD_MAX];
	size_t n = 0;

	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->put(s, "k1", 2, "value-1", 7), GG_OK);
	assert_int_equal(s->ops->put(s, "k2", 2, "value-22", 8), GG_OK);
	assert_int_equal(s->ops->get(s, "k1", 2, v, sizeof(v), &n), GG_OK);
	assert_int_equal(n, 7);
	assert_int_equal(gg_store_commit(s), GG_OK);

	assert_int_equal(get1(s, "k1", v, &n), GG_OK);
	assert_int_equal(n, 7);
	assert_memory_equal(v, "value-1", 7);
	assert_int_equal(get1(s, "k2", v, &n), GG_OK);
	assert_int_equal(n, 8);
	assert_int_equal(get1(s, "k3", v, &n), GG_NOTFOUND);
	assert_int_equal(get1(s, "k", v, &n), GG_NOTFOUND);
	/* Keys carry the prefix in Redis. */
	assert_true(in_redis("k1"));
	assert_int_equal(acmd_int("EXISTS %s", "k1"), 0);

	put1(s, "k1", "v", 1);
	assert_int_equal(get1(s, "k1", v, &n), GG_OK);
	assert_int_equal(n, 1);

	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->del(s, "k1", 2), GG_OK);
	assert_int_equal(s->ops->del(s, "k1", 2), GG_NOTFOUND);
	assert_int_equal(s->ops->del(s, "nope", 4), GG_NOTFOUND);
	assert_int_equal(gg_store_commit(s), GG_OK);
	assert_int_equal(get1(s, "k1", v, &n), GG_NOTFOUND);
	assert_int_equal(get1(s, "k2", v, &n), GG_OK);

	/* Binary keys and values, and an empty value. */
	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->put(s, "b\0in", 4, "\0\1\2", 3), GG_OK);
	assert_int_equal(s->ops->put(s, "empty", 5, "", 0), GG_OK);
	assert_int_equal(gg_store_commit(s), GG_OK);
	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->get(s, "b\0in", 4, v, sizeof(v), &n), GG_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(v, "\0\1\2", 3);
	assert_int_equal(s->ops->get(s, "empty", 5, v, sizeof(v), &n), GG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(gg_store_commit(s), GG_OK);
}

static void test_abort_discards(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;

	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->put(s, "new", 3, "x", 1), GG_OK);
	gg_store_abort(s);
	assert_false(exists(s, "new"));
	assert_false(in_redis("new"));

	put1(s, "kept", "x", 1);
	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->del(s, "kept", 4), GG_OK);
	assert_int_equal(s->ops->put(s, "other", 5, "y", 1), GG_OK);
	gg_store_abort(s);
	assert_true(exists(s, "kept"));
	assert_false(exists(s, "other"));
	put1(s, "after", "z", 1);
	assert_true(exists(s, "after"));
}

static void test_read_your_writes(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	uint8_t v[GG_RECORD_MAX];
	size_t n;

	put1(s, "old", "committed", 9);
	assert_int_equal(gg_store_begin(s), GG_OK);
	/* Writes are buffered: Redis sees nothing until commit... */
	assert_int_equal(s->ops->put(s, "t/a", 3, "first", 5), GG_OK);
	assert_false(in_redis("t/a"));
	/* ...but the transaction reads them, the latest one winning. */
	assert_int_equal(s->ops->get(s, "t/a", 3, v, sizeof(v), &n), GG_OK);
	assert_int_equal(n, 5);
	assert_int_equal(s->ops->put(s, "t/a", 3, "second!", 7), GG_OK);
	assert_int_equal(s->ops->get(s, "t/a", 3, v, sizeof(v), &n), GG_OK);
	assert_int_equal(n, 7);
	assert_memory_equal(v, "second!", 7);
	/* A delete in the transaction hides the committed value. */
	assert_int_equal(s->ops->del(s, "old", 3), GG_OK);
	assert_int_equal(s->ops->get(s, "old", 3, v, sizeof(v), &n), GG_NOTFOUND);
	assert_true(in_redis("old"));
	/* Deleting a buffered put, then writing it again. */
	assert_int_equal(s->ops->put(s, "t/b", 3, "b", 1), GG_OK);
	assert_int_equal(s->ops->del(s, "t/b", 3), GG_OK);
	assert_int_equal(s->ops->get(s, "t/b", 3, v, sizeof(v), &n), GG_NOTFOUND);
	assert_int_equal(s->ops->del(s, "t/b", 3), GG_NOTFOUND);
	assert_int_equal(s->ops->put(s, "t/c", 3, "c", 1), GG_OK);
	assert_int_equal(s->ops->del(s, "t/c", 3), GG_OK);
	assert_int_equal(s->ops->put(s, "t/c", 3, "cc", 2), GG_OK);
	assert_int_equal(gg_store_commit(s), GG_OK);
	/* One commit applied everything. */
	assert_true(in_redis("t/a"));
	assert_false(in_redis("old"));
	assert_false(in_redis("t/b"));
	assert_int_equal(get1(s, "t/c", v, &n), GG_OK);
	assert_int_equal(n, 2);
	assert_int_equal(get1(s, "t/a", v, &n), GG_OK);
	assert_memory_equal(v, "second!", 7);
}

/* calls - how often the server ran a command since the last CONFIG RESETSTAT */
static long calls(const char *cmd)
{
	redisReply *r = acmd("INFO commandstats");
	char pat[64];
	const char *p;
	long n = 0;

	snprintf(pat, sizeof(pat), "cmdstat_%s:calls=", cmd);
	if (r->type == REDIS_REPLY_STRING && (p = strstr(r->str, pat)) != NULL)
		n = strtol(p + strlen(pat), NULL, 10);
	freeReplyObject(r);
	return n;
}

static void test_prefetch(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	const void *keys[4] = { "c/a", "t/a", "t/missing", "t/b" };
	size_t lens[4] = { 3, 3, 9, 3 };
	uint8_t v[GG_RECORD_MAX];
	size_t n;

	assert_true(gg_store_can_prefetch(s));
	put1(s, "c/a", "client", 6);
	put1(s, "t/a", "triplet", 7);
	put1(s, "t/b", "bee", 3);
	freeReplyObject(acmd("CONFIG RESETSTAT"));
	assert_int_equal(gg_store_begin(s), GG_OK);
	gg_store_prefetch(s, 4, keys, lens);
	/* Every get of the batch is answered from the one MGET. */
	assert_int_equal(s->ops->get(s, "c/a", 3, v, sizeof(v), &n), GG_OK);
	assert_int_equal(n, 6);
	assert_memory_equal(v, "client", 6);
	assert_int_equal(s->ops->get(s, "t/a", 3, v, sizeof(v), &n), GG_OK);
	assert_memory_equal(v, "triplet", 7);
	assert_int_equal(s->ops->get(s, "t/missing", 9, v, sizeof(v), &n), GG_NOTFOUND);
	/* The transaction's own writes win over what was read. */
	assert_int_equal(s->ops->put(s, "t/b", 3, "written", 7), GG_OK);
	assert_int_equal(s->ops->get(s, "t/b", 3, v, sizeof(v), &n), GG_OK);
	assert_memory_equal(v, "written", 7);
	/* A value larger than the buffer is junk, as without prefetching. */
	assert_int_equal(s->ops->get(s, "c/a", 3, v, 2, &n), GG_EFORMAT);
	assert_int_equal(calls("mget"), 1);
	assert_int_equal(calls("get"), 0);
	assert_int_equal(gg_store_commit(s), GG_OK);
	/* After the transaction nothing prefetched is left: the next get asks Redis. */
	freeReplyObject(acmd("SET " GG_REDIS_PREFIX "t/a changed"));
	assert_int_equal(get1(s, "t/a", v, &n), GG_OK);
	assert_memory_equal(v, "changed", 7);
	assert_int_equal(calls("get"), 1);
	/* Outside a transaction a prefetch is ignored. */
	gg_store_prefetch(s, 4, keys, lens);
	assert_int_equal(calls("mget"), 1);
	/* A key never prefetched is still read from Redis in the transaction. */
	assert_int_equal(gg_store_begin(s), GG_OK);
	gg_store_prefetch(s, 1, keys, lens);
	assert_int_equal(s->ops->get(s, "t/b", 3, v, sizeof(v), &n), GG_OK);
	assert_memory_equal(v, "written", 7);
	gg_store_abort(s);
	assert_int_equal(calls("get"), 2);
}

static void test_many_writes_one_commit(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	char key[32];
	uint8_t v[GG_RECORD_MAX];
	size_t n;

	/* A large batch: the buffer grows, the pipeline stays one MULTI/EXEC. */
	assert_int_equal(gg_store_begin(s), GG_OK);
	for (int i = 0; i < 1500; i++) {
		snprintf(key, sizeof(key), "t/many-%04d", i);
		assert_int_equal(s->ops->put(s, key, strlen(key), key, strlen(key)), GG_OK);
	}
	assert_int_equal(s->ops->get(s, "t/many-0777", 11, v, sizeof(v), &n), GG_OK);
	assert_int_equal(gg_store_commit(s), GG_OK);
	assert_int_equal(acmd_int("DBSIZE%s", ""), 1500);
	assert_int_equal(get1(s, "t/many-1499", v, &n), GG_OK);
	assert_memory_equal(v, "t/many-1499", 11);
}

static void test_txn_edges(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	struct gg_expire_stats st = { 0, 0, 0 };
	char buf[64];
	int done = 0;

	assert_int_equal(gg_store_commit(s), GG_OK);
	gg_store_abort(s);
	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->put(s, "a", 1, "1", 1), GG_OK);
	assert_int_equal(gg_store_commit(s), GG_OK);
	assert_int_equal(gg_store_commit(s), GG_OK);
	assert_true(exists(s, "a"));
	/* Outside a transaction: auto-commit. */
	assert_int_equal(s->ops->put(s, "b", 1, "2", 1), GG_OK);
	assert_true(in_redis("b"));
	assert_int_equal(s->ops->del(s, "b", 1), GG_OK);
	assert_false(in_redis("b"));
	assert_int_equal(s->ops->del(s, "b", 1), GG_NOTFOUND);
	/* Maintenance is Redis's business. */
	assert_int_equal(gg_store_checkpoint_now(s), GG_OK);
	assert_int_equal(s->ops->maintain(s, 60), GG_OK);
	assert_int_equal(s->ops->maintain_error(s, buf, sizeof(buf)), 0);
	assert_int_equal(s->ops->expire_slice(s, 1000, 10, &st, &done), GG_OK);
	assert_true(done);
	assert_int_equal(st.examined, 0);
}

static void test_small_buffer(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	uint8_t big[200], v[GG_RECORD_MAX];
	size_t n = 99;

	memset(big, 'j', sizeof(big));
	put1(s, "junk", big, sizeof(big));
	assert_int_equal(get1(s, "junk", v, &n), GG_EFORMAT);
	assert_int_equal(n, 0);
	put1(s, "max", big, GG_RECORD_MAX);
	assert_int_equal(get1(s, "max", v, &n), GG_OK);
	assert_int_equal(n, GG_RECORD_MAX);
	/* Any buffer: one byte too small is too small, from Redis and from the write buffer. */
	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->get(s, "max", 3, v, GG_RECORD_MAX - 1, &n), GG_EFORMAT);
	assert_int_equal(s->ops->put(s, "buffered", 8, "1234567", 7), GG_OK);
	assert_int_equal(s->ops->get(s, "buffered", 8, v, 6, &n), GG_EFORMAT);
	assert_int_equal(s->ops->get(s, "buffered", 8, v, 7, &n), GG_OK);
	assert_int_equal(n, 7);
	gg_store_abort(s);
}

static void test_wrong_type(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	uint8_t v[GG_RECORD_MAX];
	size_t n;

	/* Another program's list under our prefix is junk: GG_EFORMAT, and del removes it. */
	freeReplyObject(acmd("RPUSH %s %s", "gg:t/list", "x"));
	assert_int_equal(get1(s, "t/list", v, &n), GG_EFORMAT);
	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->del(s, "t/list", 6), GG_OK);
	assert_int_equal(gg_store_commit(s), GG_OK);
	assert_false(in_redis("t/list"));
	/* And a put over it replaces it. */
	freeReplyObject(acmd("RPUSH %s %s", "gg:t/list", "x"));
	put1(s, "t/list", "ok", 2);
	assert_int_equal(get1(s, "t/list", v, &n), GG_OK);
}

/* Walk */

struct walk_acc {
	size_t n, stop_after, undecodable, prefixed;
	int saw_a;
};

static int walk_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct walk_acc *w = arg;
	uint64_t last;

	if (klen >= 3 && memcmp(key, "gg:", 3) == 0)
		w->prefixed++;
	if (klen == 3 && memcmp(key, "t/a", 3) == 0)
		w->saw_a = 1;
	if (gg_record_last_seen(val, vlen, &last) != GG_OK)
		w->undecodable++;
	w->n++;
	return w->stop_after && w->n >= w->stop_after;
}

static void put_triplet(struct gg_store *s, const char *key, uint64_t first, uint64_t last)
{
	struct gg_triplet_rec r = { first, last, 0, 1, 0 };
	uint8_t buf[GG_RECORD_MAX];

	put1(s, key, buf, gg_record_triplet_encode(&r, buf));
}

static void test_walk(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	struct walk_acc w;
	char key[32];

	memset(&w, 0, sizeof(w));
	assert_int_equal(s->ops->walk(s, walk_cb, &w), GG_OK);
	assert_int_equal(w.n, 0);
	put_triplet(s, "t/b", 10, 20);
	put_triplet(s, "t/a", 10, 20);
	put1(s, "zzz", "junk", 4);
	/* Other applications' keys are not ours: never visited. */
	freeReplyObject(acmd("SET %s %s", "other:t/x", "v"));
	freeReplyObject(acmd("SET %s %s", "ggx", "v"));
	freeReplyObject(acmd("RPUSH %s %s", "gg:t/list", "v"));	/* ours, but not a string */
	memset(&w, 0, sizeof(w));
	assert_int_equal(s->ops->walk(s, walk_cb, &w), GG_OK);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.undecodable, 1);
	assert_int_equal(w.prefixed, 0);
	assert_true(w.saw_a);
	memset(&w, 0, sizeof(w));
	w.stop_after = 2;
	assert_int_equal(s->ops->walk(s, walk_cb, &w), GG_OK);
	assert_int_equal(w.n, 2);

	/* Many keys: several SCAN steps, each key once. */
	assert_int_equal(gg_store_begin(s), GG_OK);
	for (int i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "t/w-%04d", i);
		assert_int_equal(s->ops->put(s, key, strlen(key), "x", 1), GG_OK);
	}
	assert_int_equal(gg_store_commit(s), GG_OK);
	memset(&w, 0, sizeof(w));
	assert_int_equal(s->ops->walk(s, walk_cb, &w), GG_OK);
	assert_int_equal(w.n, 2003);
}

/* Expiry */

static void test_expiry_set(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	long long t, day = GG_REDIS_LIFETIME_MARGIN * 1000LL;

	/* Without a lifetime: 35 days (greylist_max_age's default) plus the margin. */
	put1(s, "t/default", "x", 1);
	t = pttl("t/default");
	assert_true(t > 35 * day + day - 60000 && t <= 35 * day + day);

	assert_int_equal(gg_store_set_lifetime(s, 3600), GG_OK);
	put1(s, "t/hour", "x", 1);
	t = pttl("t/hour");
	assert_true(t > (3600 + GG_REDIS_LIFETIME_MARGIN - 60) * 1000LL &&
		    t <= (3600 + GG_REDIS_LIFETIME_MARGIN) * 1000LL);
	/* An overwrite starts the clock again; a key written outside greygate has none. */
	freeReplyObject(acmd("PEXPIRE %s %s", "gg:t/default", "5000"));
	assert_true(pttl("t/default") <= 5000);
	put1(s, "t/default", "y", 1);
	assert_true(pttl("t/default") > 5000);
	/* Auto-commit writes get it too. */
	assert_int_equal(s->ops->put(s, "t/auto", 6, "z", 1), GG_OK);
	assert_true(pttl("t/auto") > 3600 * 1000LL);
}

static void test_expiry_real(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	uint8_t v[GG_RECORD_MAX];
	size_t n;

	/* The margin is added to any lifetime, so make the key short-lived by hand. */
	put1(s, "t/short", "x", 1);
	freeReplyObject(acmd("PEXPIRE %s %s", "gg:t/short", "100"));
	usleep(300000);
	assert_int_equal(get1(s, "t/short", v, &n), GG_NOTFOUND);
}

/* Errors */

static void test_redis_down_and_back(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	uint8_t v[GG_RECORD_MAX];
	size_t n;
	struct timespec a, b;
	enum gg_status st;
	char want[600];

	put1(s, "t/before", "x", 1);
	server_stop();
	snprintf(want, sizeof(want), "redis %s: ", srv.sock);

	/* The open connection breaks: the read fails with the reason, nothing crashes. */
	st = gg_store_begin(s);
	if (st == GG_OK) {
		st = s->ops->get(s, "t/before", 8, v, sizeof(v), &n);
		gg_store_abort(s);
	}
	assert_int_equal(st, GG_EDB);
	tu_assert_contains(gg_store_error(s), want);
	/* Afterwards: fast failures, at most one connection attempt a second. */
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(gg_store_begin(s), GG_EDB);
		tu_assert_contains(gg_store_error(s), want);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 500);
	assert_int_equal(s->ops->walk(s, walk_cb, &(struct walk_acc){ 0 }), GG_EDB);
	usleep(1100000);
	assert_int_equal(gg_store_begin(s), GG_EDB);
	tu_assert_contains(gg_store_error(s), "No such file or directory");

	/* Back again: the same store works without being reopened, within the
	 * back-off (two failures in a row: two seconds). */
	server_start();
	clock_gettime(CLOCK_MONOTONIC, &a);
	while (gg_store_begin(s) != GG_OK) {
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (b.tv_sec - a.tv_sec > 5)
			fail_msg("no reconnection 5 s after Redis came back: %s", gg_store_error(s));
		usleep(50000);
	}
	gg_store_abort(s);
	put1(s, "t/after", "y", 1);
	assert_int_equal(get1(s, "t/after", v, &n), GG_OK);
	assert_true(pttl("t/after") > 0);
}

static long ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (long)((b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000);
}

static void test_redis_hung(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	uint8_t v[GG_RECORD_MAX];
	size_t n;
	struct timespec a;
	long ms;

	put1(s, "t/hung", "x", 1);
	kill(srv.pid, SIGSTOP);
	/* A server that accepts but never answers: the command times out. */
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->get(s, "t/hung", 6, v, sizeof(v), &n), GG_EDB);
	gg_store_abort(s);
	ms = ms_since(&a);
	if (ms < GG_REDIS_TIMEOUT_MS - 50 || ms > GG_REDIS_TIMEOUT_MS + 500)
		fail_msg("the timed-out GET took %ld ms", ms);
	tu_assert_contains(gg_store_error(s), "redis ");
	/* For the next second nothing waits on it. */
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 20; i++)
		assert_int_equal(gg_store_begin(s), GG_EDB);
	assert_true(ms_since(&a) < 100);
	/* The second attempt (the kernel still accepts) times out again... */
	usleep(1050000);
	if (gg_store_begin(s) == GG_OK) {
		assert_int_equal(s->ops->get(s, "t/hung", 6, v, sizeof(v), &n), GG_EDB);
		gg_store_abort(s);
	}
	/* ...and now the store waits two seconds before trying again. */
	usleep(1200000);
	assert_int_equal(gg_store_begin(s), GG_EDB);
	kill(srv.pid, SIGCONT);
	clock_gettime(CLOCK_MONOTONIC, &a);
	while (gg_store_begin(s) != GG_OK) {
		if (ms_since(&a) > 3000)
			fail_msg("no reconnection 3 s after Redis resumed: %s", gg_store_error(s));
		usleep(50000);
	}
	assert_int_equal(s->ops->get(s, "t/hung", 6, v, sizeof(v), &n), GG_OK);
	assert_int_equal(gg_store_commit(s), GG_OK);
}

static void test_commit_fails(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	uint8_t v[GG_RECORD_MAX];
	size_t n;

	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->put(s, "t/lost", 6, "x", 1), GG_OK);
	server_stop();
	assert_int_equal(gg_store_commit(s), GG_EDB);
	tu_assert_contains(gg_store_error(s), "redis ");
	server_start();
	usleep(1100000);
	/* Nothing half-applied, the buffer is gone, the next transaction is clean. */
	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->get(s, "t/lost", 6, v, sizeof(v), &n), GG_NOTFOUND);
	assert_int_equal(gg_store_commit(s), GG_OK);
	put1(s, "t/ok", "y", 1);
	assert_true(in_redis("t/ok"));
}

static void test_server_errors(void **state)
{
	struct gg_store *s = ((struct fx *)*state)->s;
	uint8_t v[GG_RECORD_MAX];
	size_t n;

	/* A server refusing writes (out of memory): the commit fails with Redis's words. */
	freeReplyObject(acmd("CONFIG SET maxmemory %s", "1"));
	assert_int_equal(gg_store_begin(s), GG_OK);
	assert_int_equal(s->ops->put(s, "t/oom", 5, "x", 1), GG_OK);
	assert_int_equal(gg_store_commit(s), GG_EDB);
	tu_assert_contains(gg_store_error(s), "OOM");
	freeReplyObject(acmd("CONFIG SET maxmemory %s", "0"));
	/* The connection is still good. */
	put1(s, "t/fine", "x", 1);
	assert_int_equal(get1(s, "t/fine", v, &n), GG_OK);
}

int main(void)
{
	struct tu_suite s = { 0 };
	int failed;

	if (!find_server()) {
		printf("SKIP: t_store_redis: redis-server is not installed\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	srv.dir = tu_mkdtemp();
	srv.sock = tu_subst("@@/redis.sock", srv.dir);
	srv.log = tu_subst("@@/redis.log", srv.dir);
	if ((srv.port = free_port()) < 0) {
		fprintf(stderr, "no free loopback port\n");
		return 1;
	}
	server_start();

#define T(fn, label) tu_add_fixture(&s, fn, fx_setup, fx_teardown, NULL, "%s", label)
	T(test_open_specs, "open: every redis: form, and bad specs named in the error");
	T(test_ipv6, "open: [::1]:PORT/DB over IPv6");
	T(test_db_number, "open: /DB selects the database; a missing one is an error with the reason");
	T(test_connection_refused, "open works without a server; operations fail with the reason");
	T(test_put_get_del, "put, get and del in transactions; keys carry the gg: prefix");
	T(test_abort_discards, "abort really discards puts and deletes");
	T(test_read_your_writes, "a transaction reads its own buffered writes; commit applies them");
	T(test_prefetch, "prefetch: one MGET answers the batch's gets; own writes win; ends with the transaction");
	T(test_many_writes_one_commit, "1500 writes in one transaction");
	T(test_txn_edges, "commit/abort without begin, begin twice, auto-commit, no-op maintenance");
	T(test_small_buffer, "a value larger than the buffer is GG_EFORMAT");
	T(test_wrong_type, "a non-string value under the prefix is junk the caller can delete");
	T(test_walk, "walk visits gg: records only, without the prefix, and can stop early");
	T(test_expiry_set, "every write sets the expiry: lifetime plus margin");
	T(test_expiry_real, "Redis forgets an expired record");
	T(test_redis_down_and_back, "Redis stopped: GG_EDB with the reason, cheap retries; back: works");
	T(test_redis_hung, "Redis hung: commands time out after 500 ms, retries back off");
	T(test_commit_fails, "a commit to a stopped Redis fails cleanly");
	T(test_server_errors, "an error reply to a write fails the commit, the connection survives");
#undef T
	failed = tu_run(&s, "t_store_redis");
	server_stop();
	tu_rmtree(srv.dir);
	free(srv.sock);
	free(srv.log);
	free(srv.dir);
	return failed ? 1 : 0;
}
