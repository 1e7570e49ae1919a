/*
 * status.h - the one status type every greygate library function returns
 *
 * Libraries (engine/, dnsbl/) never exit and never log: they return one of
 * these and leave the decision and the log line to the caller, which knows
 * the context.  gg_status_str() gives a short, stable English name.
 */
#ifndef GG_STATUS_H
#define GG_STATUS_H

enum gg_status {
	GG_OK = 0,
	GG_NOTFOUND,	/* no such key or entry */
	GG_EINVAL,	/* bad argument or input value */
	GG_EFORMAT,	/* malformed data (record, request, config line) */
	GG_ENOMEM,	/* allocation failed */
	GG_ETOOBIG,	/* input exceeds a configured or built-in limit */
	GG_ETIMEOUT,	/* deadline passed */
	GG_EDNS,	/* DNS failure */
	GG_EDB,		/* database failure */
	GG_EIO,		/* file or socket I/O failure */
	GG_EPERM,	/* permission or privilege failure */
};

const char *gg_status_str(enum gg_status st);

#endif
