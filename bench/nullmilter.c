/*
 * nullmilter.c - gg-nullmilter, a libmilter milter that does no work at all
 *
 * gg-nullmilter registers with libmilter on one socket (-l, in libmilter's
 * syntax: inet:PORT@127.0.0.1, inet6:PORT@::1 or unix:/path) and answers
 * every recipient "451 4.7.1" (smfi_setreply plus SMFIS_TEMPFAIL), as a
 * greylister answers a new triplet, and every other step CONTINUE.  It
 * keeps no state, parses nothing and logs nothing: its throughput under
 * gg-miltergen is the ceiling of libmilter and the milter protocol on
 * this machine, against which greygate-milter (and rspamd's milter) are
 * compared by bench/run --milter.
 *
 * It asks libmilter for the same protocol steps greygate-milter asks for
 * (connect, HELO, MAIL, RCPT; no headers, end of headers, body, DATA or
 * unknown commands) and the same SMFIF_ADDHDRS action, so both see the
 * same traffic from the MTA side.
 *
 * Threads: libmilter's, one per session; the callbacks share nothing.
 * SIGINT/SIGTERM end smfi_main() through libmilter's own signal thread.
 * Exit status: 0 after a clean stop, 1 on a usage or socket error.
 */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#define NULL_REPLY_TEXT "Greylisted by gg-nullmilter, try again later"

/* null_negotiate - the steps greygate-milter asks for, no more */
static sfsistat null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                   unsigned long f2, unsigned long f3, unsigned long *pf0,
                   unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    const unsigned long skip = SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN |
                   SMFIP_NODATA;

    (void)ctx;
    (void)f2;
    (void)f3;
    *pf0 = f0 & SMFIF_ADDHDRS;
    *pf1 = f1 & skip;
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

/* null_connect / null_helo / null_envfrom - nothing to do */
static sfsistat null_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
    (void)ctx;
    (void)hostname;
    (void)hostaddr;
    return SMFIS_CONTINUE;
}

static sfsistat null_helo(SMFICTX *ctx, char *helohost)
{
    (void)ctx;
    (void)helohost;
    return SMFIS_CONTINUE;
}

static sfsistat null_envfrom(SMFICTX *ctx, char **argv)
{
    (void)ctx;
    (void)argv;
    return SMFIS_CONTINUE;
}

/* null_envrcpt - every recipient is greylisted */
static sfsistat null_envrcpt(SMFICTX *ctx, char **argv)
{
    (void)argv;
    if (smfi_setreply(ctx, "451", "4.7.1", NULL_REPLY_TEXT) != MI_SUCCESS)
        return SMFIS_TEMPFAIL;	/* the MTA's own 4xx text then */
    return SMFIS_TEMPFAIL;
}

/* null_eom / null_abort / null_close - nothing to do */
static sfsistat null_eom(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

static sfsistat null_abort(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

static sfsistat null_close(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

/* usage - the one line of help, exit 1 */
static void usage(void)
{
    fprintf(stderr, "usage: gg-nullmilter -l SOCKET   (inet:PORT@127.0.0.1, inet6:PORT@::1, "
        "unix:/path)\n");
    exit(1);
}

int main(int argc, char **argv)
{
    struct smfiDesc desc = {
        .xxfi_name = (char *)"gg-nullmilter",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS,
        .xxfi_connect = null_connect,
        .xxfi_helo = null_helo,
        .xxfi_envfrom = null_envfrom,
        .xxfi_envrcpt = null_envrcpt,
        .xxfi_eom = null_eom,
        .xxfi_abort = null_abort,
        .xxfi_close = null_close,
        .xxfi_negotiate = null_negotiate,
    };
    const char *sock = NULL;
    int opt;

    while ((opt = getopt(argc, argv, "l:h")) != -1) {
        switch (opt) {
        case 'l':
            sock = optarg;
            break;
        default:
            usage();
        }
    }
    if (sock == NULL || optind != argc)
        usage();
    if (smfi_register(desc) != MI_SUCCESS) {
        fprintf(stderr, "gg-nullmilter: smfi_register failed\n");
        return 1;
    }
    if (smfi_setconn((char *)sock) != MI_SUCCESS || smfi_opensocket(1) != MI_SUCCESS) {
        fprintf(stderr, "gg-nullmilter: cannot open %s (in use, or no permission)\n", sock);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
