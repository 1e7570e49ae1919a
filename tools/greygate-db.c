/*
 * greygate-db.c - look inside greygate's triplet store
 *
 *   greygate-db [-c FILE] [-o name=value]... COMMAND
 *     stats                       how many triplets, passed, waiting, clients, trusted
 *     dump [triplets|clients]     every record, one line each
 *     lookup --client IP [--sender ADDR] [--rcpt ADDR] [--client-name NAME]
 *                                 what greygate knows and would answer now
 *     expire                      delete expired and corrupt records now
 *     delete KEY                  forget one record (a key as dump prints it)
 *
 * It opens the same database as the daemon, safely while the daemon runs
 * (Berkeley DB's environment is shared), and started as root it becomes the
 * configured user first so it never leaves root-owned files behind.
 * Exit status: 0 success, 1 not found (lookup of nothing, delete), 2 failure,
 * 64 usage or configuration error.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/config.h"
#include "engine/engine.h"
#include "daemon/privs.h"
#include "store/record.h"
#include "store/store.h"
#include "lib/util.h"

#define PROG "greygate-db"

struct walk_state {
	uint64_t now;
	long delay, max_age, awl;
	int want;	/* 0 all, 't' triplets, 'c' clients */
	int print;
	unsigned long triplets, passed, waiting, clients, trusted, corrupt;
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: %s [-c FILE] [-o name=value]... COMMAND\n"
		"  stats | dump [triplets|clients] | expire | delete KEY\n"
		"  lookup --client IP [--sender ADDR] [--rcpt ADDR] [--client-name NAME]\n", PROG);
}

/* when - UTC time stamp, or "-" */
static const char *when(uint64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0)
		return "-";
	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* on_record - count and maybe print one record */
static int on_record(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct walk_state *w = arg;
	struct gg_triplet_rec t;
	struct gg_client_rec c;
	char k[GG_KEY_MAX + 4], a[32], b[32], d[32];

	gg_sanitize(k, sizeof(k), key, klen, GG_KEY_MAX);
	if (klen > 2 && memcmp(key, "t/", 2) == 0 &&
	    gg_record_triplet_decode(val, vlen, &t) == GG_OK) {
		int passed = t.passed_at != 0;
		w->triplets++;
		passed ? w->passed++ : w->waiting++;
		if (w->print && w->want != 'c')
			printf("%s state=%s first=%s last=%s passed=%s defers=%u passes=%u\n", k,
			       passed ? "passed" : (w->now - t.first_seen < (uint64_t)w->delay ?
						    "waiting" : "retry-due"),
			       when(t.first_seen, a, sizeof(a)), when(t.last_seen, b, sizeof(b)),
			       when(t.passed_at, d, sizeof(d)), t.defer_count, t.pass_count);
	} else if (klen > 2 && memcmp(key, "c/", 2) == 0 &&
		   gg_record_client_decode(val, vlen, &c) == GG_OK) {
		int trusted = w->awl > 0 && c.pass_count >= (uint32_t)w->awl;
		w->clients++;
		w->trusted += (unsigned long)trusted;
		if (w->print && w->want != 't')
			printf("%s passes=%u trusted=%s first=%s last=%s\n", k, c.pass_count,
			       trusted ? "yes" : "no", when(c.first_seen, a, sizeof(a)),
			       when(c.last_seen, b, sizeof(b)));
	} else {
		w->corrupt++;
		if (w->print && w->want == 0)
			printf("%s corrupt (%zu bytes; deleted by the next expiry)\n", k, vlen);
	}
	return 0;
}

/* cmd_lookup - explain one client/sender/recipient */
static int cmd_lookup(struct gg_engine *e, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "client", required_argument, NULL, 'a' },
		{ "sender", required_argument, NULL, 's' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "client-name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct gg_request req;
	struct gg_explain x;
	const char *client = NULL, *sender = "", *rcpt = "", *name = "unknown";
	char a[32], b[32], d[32];
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'a': client = optarg; break;
		case 's': sender = optarg; break;
		case 'r': rcpt = optarg; break;
		case 'n': name = optarg; break;
		default: usage(stderr); return 64;
		}
	}
	if (client == NULL) {
		usage(stderr);
		return 64;
	}
	gg_request_init(&req);
	gg_request_set(&req, GG_RF_CLIENT_ADDRESS, client, strlen(client));
	gg_request_set(&req, GG_RF_CLIENT_NAME, name, strlen(name));
	gg_request_set(&req, GG_RF_SENDER, sender, strlen(sender));
	gg_request_set(&req, GG_RF_RECIPIENT, rcpt, strlen(rcpt));
	gg_request_set(&req, GG_RF_PROTOCOL_STATE, "RCPT", 4);
	if (gg_engine_explain(e, &req, NULL, (uint64_t)time(NULL), &x) != GG_OK) {
		fprintf(stderr, "%s: database error: %s\n", PROG, gg_store_error(e->store));
		return 2;
	}
	printf("key: %s\n", x.verdict.key[0] ? x.verdict.key : "(none: decided without the database)");
	if (x.have_client)
		printf("client: %s passes=%u trusted=%s last=%s\n", x.client_key, x.client.pass_count,
		       x.trusted_client ? "yes" : "no", when(x.client.last_seen, a, sizeof(a)));
	if (x.have_triplet)
		printf("triplet: first=%s last=%s passed=%s defers=%u passes=%u\n",
		       when(x.triplet.first_seen, a, sizeof(a)), when(x.triplet.last_seen, b, sizeof(b)),
		       when(x.triplet.passed_at, d, sizeof(d)), x.triplet.defer_count,
		       x.triplet.pass_count);
	else if (x.verdict.key[0])
		printf("triplet: not in the database\n");
	printf("answer now: %s reason=%s%s%s%s", gg_engine_action_str(x.verdict.action),
	       x.verdict.reason, x.verdict.detail[0] ? " (" : "", x.verdict.detail,
	       x.verdict.detail[0] ? ")" : "");
	if (x.verdict.action == GG_ACTION_GREYLIST)
		printf(" retry in %lds", x.verdict.remaining);
	printf("\n");
	return x.have_triplet || x.have_client || !x.verdict.key[0] ? 0 : 1;
}

/* The command line: -c FILE, -o name=value..., then the command and its words. */
struct db_args {
	struct gg_config_source config;		/* -c, -o */
	int argc;		/* the command and what follows it */
	char **argv;
};

/* What a command works on: the configuration, the store, the engine over them. */
struct db {
	const struct gg_config *cfg;
	struct gg_store *store;
	struct gg_engine engine;
	uint64_t now;
};

/* parse_args - the options into *a; -1 to go on, else the exit status */
static int parse_args(int argc, char **argv, struct db_args *a)
{
	char err[128];
	int opt;

	memset(a, 0, sizeof(*a));
	gg_config_source_init(&a->config);
	while ((opt = getopt(argc, argv, "+c:o:h")) != -1) {
		switch (opt) {
		case 'c':
		case 'o':
			if (gg_config_source_option(&a->config, opt, optarg, err, sizeof(err)) != GG_OK) {
				fprintf(stderr, "%s: %s\n", PROG, err);
				return 64;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 64;
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
	return -1;
}

/* cmd_walk - stats and dump: one pass over every record */
static int cmd_walk(struct db *d, int argc, char **argv)
{
	struct walk_state w = { .now = d->now, .delay = d->cfg->greylist_delay,
				.max_age = d->cfg->greylist_max_age,
				.awl = d->cfg->greylist_auto_whitelist };

	w.print = argv[0][0] == 'd';
	if (w.print && argc > 1)
		w.want = strcmp(argv[1], "triplets") == 0 ? 't' :
		    strcmp(argv[1], "clients") == 0 ? 'c' : -1;
	if (w.want < 0) {
		usage(stderr);
		return 64;
	}
	if (d->store->ops->walk(d->store, on_record, &w) != GG_OK) {
		fprintf(stderr, "%s: %s\n", PROG, gg_store_error(d->store));
		return 2;
	}
	if (!w.print)
		printf("triplets=%lu passed=%lu waiting=%lu clients=%lu trusted_clients=%lu "
		       "corrupt=%lu\n", w.triplets, w.passed, w.waiting, w.clients, w.trusted,
		       w.corrupt);
	return 0;
}

/* cmd_expire - delete what is past greylist_max_age and what is corrupt, all of it now */
static int cmd_expire(struct db *d, int argc, char **argv)
{
	struct gg_expire_stats st = { 0, 0, 0 };
	int done = 0;

	(void)argc;
	(void)argv;
	while (!done)
		if (d->store->ops->expire_slice(d->store,
						d->now - (uint64_t)d->cfg->greylist_max_age, 1000,
						&st, &done) != GG_OK) {
			fprintf(stderr, "%s: %s\n", PROG, gg_store_error(d->store));
			return 2;
		}
	printf("examined=%lu expired=%lu corrupt_deleted=%lu\n", st.examined, st.expired,
	       st.corrupt);
	return 0;
}

/* cmd_delete - forget one record, in its own transaction */
static int cmd_delete(struct db *d, int argc, char **argv)
{
	const char *key;
	enum gg_status st;

	if (argc < 2) {
		usage(stderr);
		return 64;
	}
	key = argv[1];
	if ((st = gg_store_begin(d->store)) == GG_OK &&
	    (st = d->store->ops->del(d->store, key, strlen(key))) == GG_OK)
		st = gg_store_commit(d->store);
	else
		gg_store_abort(d->store);
	if (st == GG_OK)
		return 0;
	fprintf(stderr, "%s: %s: %s\n", PROG, key,
		st == GG_NOTFOUND ? "no such record" : gg_store_error(d->store));
	return st == GG_NOTFOUND ? 1 : 2;
}

/* cmd_lookup_db - lookup on the engine */
static int cmd_lookup_db(struct db *d, int argc, char **argv)
{
	return cmd_lookup(&d->engine, argc, argv);
}

static const struct command {
	const char *name;
	int (*run)(struct db *d, int argc, char **argv);
} commands[] = {
	{ "stats", cmd_walk },
	{ "dump", cmd_walk },
	{ "lookup", cmd_lookup_db },
	{ "expire", cmd_expire },
	{ "delete", cmd_delete },
};

int main(int argc, char **argv)
{
	struct db_args a;
	const struct command *cmd = NULL;
	struct gg_config *cfg;
	struct db d;
	char err[1024];
	int rc;

	/* A Redis server that closes the connection must give an error, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if ((rc = parse_args(argc, argv, &a)) >= 0)
		return rc;
	for (size_t i = 0; i < GG_ARRAY_LEN(commands); i++)
		if (strcmp(a.argv[0], commands[i].name) == 0)
			cmd = &commands[i];
	if ((cfg = gg_config_read(&a.config, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return 64;
	}
	if (cmd == NULL) {
		usage(stderr);
		gg_config_free(cfg);
		return 64;
	}
	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	d.now = (uint64_t)time(NULL);
	if (gg_privs_drop(cfg->user, gg_store_bdb_dir(cfg->database), err, sizeof(err)) != GG_OK ||
	    gg_store_open(cfg->database, (size_t)cfg->database_cache_size, &d.store, err,
			  sizeof(err)) != GG_OK) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		gg_config_free(cfg);
		return 2;
	}
	if (d.store->notice[0] != '\0')
		fprintf(stderr, "%s: %s\n", PROG, d.store->notice);
	gg_engine_init(&d.engine, cfg, d.store);
	rc = cmd->run(&d, a.argc, a.argv);
	gg_store_close(d.store);
	gg_config_free(cfg);
	return rc;
}
