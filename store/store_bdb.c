/*
 * store_bdb.c - Berkeley DB 5.3 backend of the triplet store
 *
 * One transactional environment in a directory (database = bdb:DIR) with one
 * B-tree file, triplets.db.  The environment is opened with DB_REGISTER |
 * DB_RECOVER, so a daemon killed with -9 is recovered at the next start
 * while a second process (the milter, an admin tool) can share it safely.
 *
 * Keys are stored packed (store/keypack.h): every operation packs the text
 * key it is given and the walk unpacks what it reads, so nothing above
 * this file knows.  A key that does not unpack is junk to the expiry walk.
 *
 * Cache: a size in MB, or 0 for automatic: a base of a 64th of the
 * machine's memory (AUTO_MIN_MB to AUTO_BASE_MAX_MB: room for the first
 * million or two triplets, so a new database does not outgrow its cache
 * before the next start) plus a quarter of the database files' size at
 * open, at most an eighth of the memory (and never below AUTO_MIN_MB).  The cache is made when the
 * environment's regions are, so open first removes regions that no
 * process uses any more (DB_ENV->remove without DB_FORCE refuses while
 * any process has them open): a new size takes effect at the next start.
 * The size chosen is the store's summary.
 *
 * Upgrade: greygate up to issue 9 kept text keys in greygate.db.  When the
 * environment still holds that file, open copies every record into
 * triplets.db (keys packed, records re-encoded as version 2), in
 * transactions of UPGRADE_BATCH records, then removes greygate.db, and
 * leaves a line for the log in the store's notice.  An upgrade that is
 * interrupted starts again from the beginning at the next open; a lock
 * file (upgrade.lock) keeps two processes from upgrading at once.
 *
 * Durability: commits are written to the log with write(2) before the
 * caller answers the MTA (DB_TXN_WRITE_NOSYNC), so every answered decision
 * survives the death of the process; an operating system crash may lose
 * the last second of decisions, which only means those senders are
 * greylisted again.  Log files are removed automatically once checkpointed.
 *
 * Maintenance: gg_store_bdb's maintain operation starts one background
 * thread that checkpoints every interval and keeps a share of the cache
 * clean (memp_trickle), so neither a checkpoint nor a page eviction ever
 * writes megabytes from inside a request.  The environment handle is
 * opened with DB_THREAD for that thread's sake; the database handle is
 * only ever used by the thread that makes requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <db.h>

#include "store/store.h"
#include "store/store_bdb.h"
#include "store/record.h"
#include "store/keypack.h"
#include "lib/util.h"

#define DB_FILE "triplets.db"		/* format 2: packed keys */
#define DB_FILE_V1 "greygate.db"	/* format 1: text keys, upgraded at open */
#define UPGRADE_BATCH 5000
#define AUTO_MIN_MB 32
#define AUTO_BASE_MAX_MB 256

struct store_bdb {
	struct gg_store base;
	DB_ENV *env;
	DB *db;
	DB_TXN *txn;
	/* The last key packed: a request reads a triplet, then writes it. */
	char last_text[GG_KEY_MAX];
	size_t last_tlen;
	unsigned char last_packed[GG_KEYPACK_MAX];
	size_t last_plen;		/* 0: none yet */
	unsigned char *expire_key;	/* where the expiry walk resumes */
	size_t expire_klen;		/* 0: start from the beginning */
	/* Background maintenance thread. */
	pthread_t thread;
	int thread_running;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop;
	long interval;
	unsigned long checkpoints, trickled;
	char thread_error[256];
};

#define TRICKLE_PERCENT 20	/* keep this share of the cache clean */

/* maintain_main - checkpoint every interval, trickle every second */
static void *maintain_main(void *arg)
{
	struct store_bdb *s = arg;
	struct timespec until;
	long since = 0;
	int ret, nwrote;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		(void)pthread_cond_timedwait(&s->wake, &s->lock, &until);
		if (s->stop)
			break;
		pthread_mutex_unlock(&s->lock);
		nwrote = 0;
		ret = s->env->memp_trickle(s->env, TRICKLE_PERCENT, &nwrote);
		if (++since >= s->interval) {
			since = 0;
			if (ret == 0)
				ret = s->env->txn_checkpoint(s->env, 0, 0, 0);
		}
		pthread_mutex_lock(&s->lock);
		s->trickled += (unsigned long)nwrote;
		if (since == 0)
			s->checkpoints++;
		if (ret != 0)
			snprintf(s->thread_error, sizeof(s->thread_error), "%s", db_strerror(ret));
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* seterr - remember the reason of a failure */
static enum gg_status seterr(struct store_bdb *s, int ret, const char *what)
{
	snprintf(s->base.error, sizeof(s->base.error), "%s: %s", what, db_strerror(ret));
	return GG_EDB;
}

/* errcall - Berkeley DB's own diagnostics become our last error */
static void errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	struct store_bdb *s = env->app_private;

	(void)pfx;
	if (s == NULL)
		return;
	if (s->thread_running && pthread_equal(pthread_self(), s->thread)) {
		pthread_mutex_lock(&s->lock);
		snprintf(s->thread_error, sizeof(s->thread_error), "%s", msg);
		pthread_mutex_unlock(&s->lock);
	} else {
		snprintf(s->base.error, sizeof(s->base.error), "%s", msg);
	}
}

static enum gg_status bdb_begin(struct gg_store *gs)
{
	struct store_bdb *s = (struct store_bdb *)gs;
	int ret;

	if (s->txn != NULL)
		return GG_OK;
	if ((ret = s->env->txn_begin(s->env, NULL, &s->txn, 0)) != 0) {
		s->txn = NULL;
		return seterr(s, ret, "begin transaction");
	}
	return GG_OK;
}

static enum gg_status bdb_commit(struct gg_store *gs)
{
	struct store_bdb *s = (struct store_bdb *)gs;
	DB_TXN *txn = s->txn;
	int ret;

	if (txn == NULL)
		return GG_OK;
	s->txn = NULL;
	if ((ret = txn->commit(txn, 0)) != 0)
		return seterr(s, ret, "commit");
	return GG_OK;
}

static void bdb_abort(struct gg_store *gs)
{
	struct store_bdb *s = (struct store_bdb *)gs;
	DB_TXN *txn = s->txn;

	if (txn == NULL)
		return;
	s->txn = NULL;
	(void)txn->abort(txn);
}

static void dbt_in(DBT *d, const void *p, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->data = (void *)p;
	d->size = (u_int32_t)len;
}

/*
 * key_in - the packed form of a text key (the last one packed is kept, so
 * a put after a get of the same key packs it once); GG_ETOOBIG past
 * GG_KEY_MAX
 */
static enum gg_status key_in(struct store_bdb *s, DBT *d, const void *key, size_t klen)
{
	if (klen > GG_KEY_MAX) {
		snprintf(s->base.error, sizeof(s->base.error), "key of %zu bytes: longer than %d",
			 klen, GG_KEY_MAX);
		return GG_ETOOBIG;
	}
	if (s->last_plen == 0 || klen != s->last_tlen || memcmp(key, s->last_text, klen) != 0) {
		s->last_plen = gg_keypack_pack(key, klen, s->last_packed);
		memcpy(s->last_text, key, klen);
		s->last_tlen = klen;
	}
	dbt_in(d, s->last_packed, s->last_plen);
	return GG_OK;
}

static enum gg_status bdb_get(struct gg_store *gs, const void *key, size_t klen,
			      void *val, size_t vsize, size_t *vlen)
{
	struct store_bdb *s = (struct store_bdb *)gs;
	DBT k, d;
	int ret;

	if (key_in(s, &k, key, klen) != GG_OK)
		return GG_ETOOBIG;
	memset(&d, 0, sizeof(d));
	d.data = val;
	d.ulen = (u_int32_t)vsize;
	d.flags = DB_DBT_USERMEM;
	ret = s->db->get(s->db, s->txn, &k, &d, 0);
	if (ret == DB_NOTFOUND)
		return GG_NOTFOUND;
	if (ret == DB_BUFFER_SMALL) {
		/* Larger than any record we write: junk, let the caller delete it. */
		*vlen = 0;
		return GG_EFORMAT;
	}
	if (ret != 0)
		return seterr(s, ret, "get");
	*vlen = d.size;
	return GG_OK;
}

static enum gg_status bdb_put(struct gg_store *gs, const void *key, size_t klen,
			      const void *val, size_t vlen)
{
	struct store_bdb *s = (struct store_bdb *)gs;
	DBT k, d;
	int ret;

	if (key_in(s, &k, key, klen) != GG_OK)
		return GG_ETOOBIG;
	dbt_in(&d, val, vlen);
	if ((ret = s->db->put(s->db, s->txn, &k, &d, 0)) != 0)
		return seterr(s, ret, "put");
	return GG_OK;
}

static enum gg_status bdb_del(struct gg_store *gs, const void *key, size_t klen)
{
	struct store_bdb *s = (struct store_bdb *)gs;
	DBT k;
	int ret;

	if (key_in(s, &k, key, klen) != GG_OK)
		return GG_ETOOBIG;
	ret = s->db->del(s->db, s->txn, &k, 0);
	if (ret == DB_NOTFOUND)
		return GG_NOTFOUND;
	if (ret != 0)
		return seterr(s, ret, "delete");
	return GG_OK;
}

/* expire_one - the record under the cursor: deleted if junk or older than before */
static enum gg_status expire_one(struct store_bdb *s, DBC *cur, const DBT *k, const DBT *d,
				 uint64_t before, struct gg_expire_stats *st)
{
	uint64_t last;
	char text[GG_KEY_MAX];
	size_t tlen;
	int junk, ret;

	st->examined++;
	/* Keys that do not unpack, and values that do not decode, are junk. */
	junk = gg_keypack_unpack(k->data, k->size, text, sizeof(text), &tlen) != GG_OK ||
	       gg_record_last_seen(d->data, d->size, &last) != GG_OK;
	if (!junk && last >= before)
		return GG_OK;
	if ((ret = cur->del(cur, 0)) != 0)
		return seterr(s, ret, "expire: delete");
	junk ? st->corrupt++ : st->expired++;
	return GG_OK;
}

/* remember_next - the key after the slice, where the next slice starts */
static enum gg_status remember_next(struct store_bdb *s, DBC *cur, DBT *k, DBT *d, int *done)
{
	unsigned char *nk;
	int ret = cur->get(cur, k, d, DB_NEXT);

	if (ret == DB_NOTFOUND) {
		*done = 1;
		s->expire_klen = 0;
		return GG_OK;
	}
	if (ret != 0)
		return seterr(s, ret, "expire: read");
	if ((nk = realloc(s->expire_key, k->size ? k->size : 1)) == NULL)
		return GG_ENOMEM;
	s->expire_key = nk;
	memcpy(s->expire_key, k->data, k->size);
	s->expire_klen = k->size;
	return GG_OK;
}

/* bdb_expire_slice - one bounded step of the expiry walk, in its own transaction */
static enum gg_status bdb_expire_slice(struct gg_store *gs, uint64_t before, unsigned budget,
				       struct gg_expire_stats *st, int *done)
{
	struct store_bdb *s = (struct store_bdb *)gs;
	DB_TXN *txn = NULL;
	DBC *cur = NULL;
	DBT k, d;
	enum gg_status status = GG_OK;
	int ret, flag;
	unsigned n;

	*done = 0;
	if ((ret = s->env->txn_begin(s->env, NULL, &txn, 0)) != 0)
		return seterr(s, ret, "expire: begin transaction");
	if ((ret = s->db->cursor(s->db, txn, &cur, 0)) != 0) {
		status = seterr(s, ret, "expire: cursor");
		goto out;
	}
	/* Buffers grow to fit: a record of any size is read, judged and deleted. */
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.flags = d.flags = DB_DBT_REALLOC;
	if (s->expire_klen > 0) {
		if ((k.data = malloc(s->expire_klen)) == NULL) {
			status = GG_ENOMEM;
			goto out;
		}
		memcpy(k.data, s->expire_key, s->expire_klen);
		k.size = (u_int32_t)s->expire_klen;
		flag = DB_SET_RANGE;
	} else {
		flag = DB_FIRST;
	}
	for (n = 0; n < budget; n++) {
		ret = cur->get(cur, &k, &d, flag);
		flag = DB_NEXT;
		if (ret == DB_NOTFOUND) {
			*done = 1;
			s->expire_klen = 0;
			break;
		}
		if (ret != 0) {
			status = seterr(s, ret, "expire: read");
			goto out;
		}
		if ((status = expire_one(s, cur, &k, &d, before, st)) != GG_OK)
			goto out;
	}
	if (!*done)
		status = remember_next(s, cur, &k, &d, done);
out:
	free(k.data);
	free(d.data);
	if (cur != NULL)
		(void)cur->close(cur);
	if (status == GG_OK) {
		if ((ret = txn->commit(txn, 0)) != 0)
			status = seterr(s, ret, "expire: commit");
	} else {
		(void)txn->abort(txn);
	}
	return status;
}

static enum gg_status bdb_checkpoint(struct gg_store *gs)
{
	struct store_bdb *s = (struct store_bdb *)gs;
	int ret;

	if ((ret = s->env->txn_checkpoint(s->env, 0, 0, 0)) != 0)
		return seterr(s, ret, "checkpoint");
	return GG_OK;
}

/* bdb_maintain - start the background checkpoint thread */
static enum gg_status bdb_maintain(struct gg_store *gs, long interval)
{
	struct store_bdb *s = (struct store_bdb *)gs;
	int ret;

	if (s->thread_running)
		return GG_OK;
	s->interval = interval > 0 ? interval : 60;
	if ((ret = pthread_create(&s->thread, NULL, maintain_main, s)) != 0) {
		snprintf(s->base.error, sizeof(s->base.error), "cannot start the database "
			 "maintenance thread: %s", strerror(ret));
		return GG_EDB;
	}
	s->thread_running = 1;
	return GG_OK;
}

/* bdb_maintain_error - the last failure of the maintenance thread, once */
static int bdb_maintain_error(struct gg_store *gs, char *buf, size_t size)
{
	struct store_bdb *s = (struct store_bdb *)gs;
	int have;

	pthread_mutex_lock(&s->lock);
	have = s->thread_error[0] != '\0';
	if (have) {
		snprintf(buf, size, "%s", s->thread_error);
		s->thread_error[0] = '\0';
	}
	pthread_mutex_unlock(&s->lock);
	return have;
}

static enum gg_status bdb_walk(struct gg_store *gs, int (*cb)(void *, const void *, size_t,
	const void *, size_t), void *arg)
{
	struct store_bdb *s = (struct store_bdb *)gs;
	DBC *cur = NULL;
	DBT k, d;
	int ret;
	enum gg_status status = GG_OK;

	if ((ret = s->db->cursor(s->db, NULL, &cur, DB_READ_COMMITTED)) != 0)
		return seterr(s, ret, "walk: cursor");
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.flags = d.flags = DB_DBT_REALLOC;
	while ((ret = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		char text[GG_KEY_MAX];
		size_t tlen;
		/* A key that does not unpack is shown as it is stored: junk. */
		int stop = gg_keypack_unpack(k.data, k.size, text, sizeof(text), &tlen) == GG_OK ?
			   cb(arg, text, tlen, d.data, d.size) : cb(arg, k.data, k.size, d.data, d.size);
		if (stop != 0)
			break;
	}
	free(k.data);
	free(d.data);
	if (ret != 0 && ret != DB_NOTFOUND)
		status = seterr(s, ret, "walk: read");
	(void)cur->close(cur);
	return status;
}

static void bdb_close(struct gg_store *gs)
{
	struct store_bdb *s = (struct store_bdb *)gs;

	if (s->thread_running) {
		pthread_mutex_lock(&s->lock);
		s->stop = 1;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
		s->thread_running = 0;
	}
	bdb_abort(gs);
	if (s->db != NULL)
		(void)s->db->close(s->db, 0);
	if (s->env != NULL) {
		(void)s->env->txn_checkpoint(s->env, 0, 0, 0);
		(void)s->env->close(s->env, 0);
	}
	free(s->expire_key);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	free(s);
}

static const struct gg_store_ops bdb_ops = {
	.name = "bdb",
	.begin = bdb_begin,
	.commit = bdb_commit,
	.abort = bdb_abort,
	.get = bdb_get,
	.put = bdb_put,
	.del = bdb_del,
	.expire_slice = bdb_expire_slice,
	.checkpoint = bdb_checkpoint,
	.walk = bdb_walk,
	.maintain = bdb_maintain,
	.maintain_error = bdb_maintain_error,
	.close = bdb_close,
};

/* notice_add - one more sentence for the log line open leaves */
static void notice_add(struct store_bdb *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void notice_add(struct store_bdb *s, const char *fmt, ...)
{
	size_t n = strlen(s->base.notice);
	va_list ap;

	if (n > 0 && n + 2 < sizeof(s->base.notice)) {
		memcpy(s->base.notice + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(s->base.notice + n, sizeof(s->base.notice) - n, fmt, ap);
	va_end(ap);
}

/* file_bytes - the size of dir/name, 0 if there is none */
static uint64_t file_bytes(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    stat(path, &st) != 0)
		return 0;
	return (uint64_t)st.st_size;
}

/*
 * cache_size_mb - the configured size, or for 0 (auto): a 64th of the
 * memory (32 to 256 MB) plus a quarter of the database, at most an eighth
 * of the memory
 */
static size_t cache_size_mb(size_t want_mb, const char *dir, char *why, size_t whysize)
{
	uint64_t db = file_bytes(dir, DB_FILE) + file_bytes(dir, DB_FILE_V1), mb;
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	uint64_t mem = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize / 1048576 : 0;
	uint64_t base = mem / 64, cap = mem / 8;

	if (want_mb > 0) {
		snprintf(why, whysize, "from database_cache_size");
		return want_mb;
	}
	base = base < AUTO_MIN_MB ? AUTO_MIN_MB : base > AUTO_BASE_MAX_MB ? AUTO_BASE_MAX_MB : base;
	mb = base + db / 4 / 1048576;
	if (cap < AUTO_MIN_MB)
		cap = AUTO_MIN_MB;
	snprintf(why, whysize, "auto: %llu MB and a quarter of the %llu MB database%s",
		 (unsigned long long)base, (unsigned long long)(db / 1048576),
		 mb > cap ? ", at most an eighth of the memory" : "");
	return (size_t)(mb > cap ? cap : mb);
}

/* remove_unused_regions - so a new cache size applies; refused while in use */
static void remove_unused_regions(const char *dir)
{
	DB_ENV *env;

	if (db_env_create(&env, 0) == 0)
		(void)env->remove(env, dir, 0);		/* frees the handle either way */
}

/* upgrade_copy - every record of the version 1 file into s->db, in batches */
static int upgrade_copy(struct store_bdb *s, DB *old, unsigned long *copied,
			unsigned long *junk, char *err, size_t errsize)
{
	DBC *cur = NULL;
	DB_TXN *txn = NULL;
	DBT k, d;
	unsigned n = 0;
	int ret;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.flags = d.flags = DB_DBT_REALLOC;
	if ((ret = old->cursor(old, NULL, &cur, 0)) != 0)
		goto fail;
	while ((ret = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		unsigned char pk[GG_KEYPACK_MAX], val[GG_RECORD_MAX];
		struct gg_triplet_rec t;
		struct gg_client_rec c;
		size_t vlen;
		DBT pkd, vd;

		/* Only what the engine can read is worth keeping. */
		if (k.size > GG_KEY_MAX) {
			(*junk)++;
			continue;
		}
		if (gg_record_triplet_decode(d.data, d.size, &t) == GG_OK)
			vlen = gg_record_triplet_encode(&t, val);
		else if (gg_record_client_decode(d.data, d.size, &c) == GG_OK)
			vlen = gg_record_client_encode(&c, val);
		else {
			(*junk)++;
			continue;
		}
		if (txn == NULL && (ret = s->env->txn_begin(s->env, NULL, &txn, 0)) != 0) {
			txn = NULL;
			goto fail;
		}
		dbt_in(&pkd, pk, gg_keypack_pack(k.data, k.size, pk));
		dbt_in(&vd, val, vlen);
		if ((ret = s->db->put(s->db, txn, &pkd, &vd, 0)) != 0)
			goto fail;
		(*copied)++;
		if (++n == UPGRADE_BATCH) {
			n = 0;
			ret = txn->commit(txn, 0);
			txn = NULL;
			if (ret != 0)
				goto fail;
		}
	}
	if (ret != DB_NOTFOUND)
		goto fail;
	if (txn != NULL && (ret = txn->commit(txn, 0)) != 0) {
		txn = NULL;
		goto fail;
	}
	(void)cur->close(cur);
	free(k.data);
	free(d.data);
	return 0;
fail:
	snprintf(err, errsize, "upgrading %s: %s%s%s", DB_FILE_V1, db_strerror(ret),
		 s->base.error[0] ? ": " : "", s->base.error);
	if (txn != NULL)
		(void)txn->abort(txn);
	if (cur != NULL)
		(void)cur->close(cur);
	free(k.data);
	free(d.data);
	return -1;
}

/*
 * upgrade - copy greygate.db (format 1) into triplets.db and remove it,
 * if the environment still has it; 0 when there is nothing (left) to do
 */
static int upgrade(struct store_bdb *s, const char *dir, char *err, size_t errsize)
{
	char lockpath[4096];
	unsigned long copied = 0, junk = 0;
	struct timespec t0, t1;
	DB *old = NULL;
	int fd, ret, rc = -1;

	if (snprintf(lockpath, sizeof(lockpath), "%s/upgrade.lock", dir) >= (int)sizeof(lockpath)) {
		snprintf(err, errsize, "database directory name too long: %s", dir);
		return -1;
	}
	if ((fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || flock(fd, LOCK_EX) != 0) {
		snprintf(err, errsize, "cannot lock %s: %s", lockpath, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((ret = db_create(&old, s->env, 0)) != 0)
		goto fail;
	ret = old->open(old, NULL, DB_FILE_V1, NULL, DB_BTREE, DB_AUTO_COMMIT, 0600);
	if (ret == ENOENT) {
		rc = 0;			/* nothing to upgrade, or another process did */
		goto out;
	}
	if (ret != 0)
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (upgrade_copy(s, old, &copied, &junk, err, errsize) != 0)
		goto out;
	(void)old->close(old, 0);
	old = NULL;
	if ((ret = s->env->dbremove(s->env, NULL, DB_FILE_V1, NULL, DB_AUTO_COMMIT)) != 0)
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	notice_add(s, "upgraded %s/%s to %s: %lu records copied with packed keys, %lu unreadable "
		   "ones left out, in %.1f s; %s removed", dir, DB_FILE_V1, DB_FILE, copied, junk,
		   (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		   DB_FILE_V1);
	rc = 0;
	goto out;
fail:
	snprintf(err, errsize, "upgrading %s/%s: %s%s%s", dir, DB_FILE_V1, db_strerror(ret),
		 s->base.error[0] ? ": " : "", s->base.error);
out:
	if (old != NULL)
		(void)old->close(old, 0);
	(void)flock(fd, LOCK_UN);
	close(fd);
	return rc;
}

/* gg_store_bdb_open - open (creating and recovering) the environment in dir */
enum gg_status gg_store_bdb_open(const char *dir, size_t cache_mb, struct gg_store **out,
				 char *err, size_t errsize)
{
	struct store_bdb *s;
	char why[128];
	int ret;
	u_int32_t flags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_MPOOL | DB_RECOVER | DB_REGISTER | DB_THREAD;

	*out = NULL;
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errsize, "cannot create database directory %s: %s", dir, strerror(errno));
		return GG_EIO;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->expire_key = malloc(GG_KEYPACK_MAX)) == NULL) {
		free(s);
		snprintf(err, errsize, "out of memory");
		return GG_ENOMEM;
	}
	s->base.ops = &bdb_ops;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	remove_unused_regions(dir);
	if ((ret = db_env_create(&s->env, 0)) != 0) {
		snprintf(err, errsize, "db_env_create: %s", db_strerror(ret));
		free(s->expire_key);
		free(s);
		return GG_EDB;
	}
	s->env->app_private = s;
	s->env->set_errcall(s->env, errcall);
	cache_mb = cache_size_mb(cache_mb, dir, why, sizeof(why));
	(void)s->env->set_cachesize(s->env, (u_int32_t)(cache_mb / 1024),
				    (u_int32_t)((cache_mb % 1024) * 1024 * 1024), 1);
	(void)s->env->set_lk_detect(s->env, DB_LOCK_DEFAULT);
	(void)s->env->set_flags(s->env, DB_TXN_WRITE_NOSYNC, 1);
	/* Allocate region files in full now: a sparse region on a file system that
	 * fills up later would kill the process with SIGBUS instead of an error. */
	(void)s->env->set_flags(s->env, DB_REGION_INIT, 1);
	(void)s->env->log_set_config(s->env, DB_LOG_AUTO_REMOVE, 1);
	if ((ret = s->env->open(s->env, dir, flags, 0600)) != 0) {
		snprintf(err, errsize, "cannot open Berkeley DB environment %s: %s%s%s", dir,
			 db_strerror(ret), s->base.error[0] ? ": " : "", s->base.error);
		goto fail;
	}
	if ((ret = db_create(&s->db, s->env, 0)) != 0) {
		snprintf(err, errsize, "db_create: %s", db_strerror(ret));
		goto fail;
	}
	if ((ret = s->db->open(s->db, NULL, DB_FILE, NULL, DB_BTREE,
			       DB_CREATE | DB_AUTO_COMMIT, 0600)) != 0) {
		snprintf(err, errsize, "cannot open %s/%s: %s%s%s", dir, DB_FILE, db_strerror(ret),
			 s->base.error[0] ? ": " : "", s->base.error);
		goto fail;
	}
	if (upgrade(s, dir, err, errsize) != 0)
		goto fail;
	{
		u_int32_t gb = 0, bytes = 0;
		int n = 0;
		unsigned long long have;
		(void)s->env->get_cachesize(s->env, &gb, &bytes, &n);
		have = (unsigned long long)gb * 1024 + bytes / 1048576;
		/* Berkeley DB adds its overhead to a small cache: say what was asked. */
		if (have + 1 < cache_mb)
			snprintf(s->base.summary, sizeof(s->base.summary), "cache %llu MB, as made by "
				 "a process that still has it open, not %zu MB (%s)", have, cache_mb, why);
		else
			snprintf(s->base.summary, sizeof(s->base.summary), "cache %zu MB, %s",
				 cache_mb, why);
	}
	*out = &s->base;
	return GG_OK;
fail:
	bdb_close(&s->base);
	return GG_EDB;
}
