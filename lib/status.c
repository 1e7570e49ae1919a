/*
 * status.c - names for enum gg_status
 */
#include "lib/status.h"

/* gg_status_str - short stable name of a status, for log lines */
const char *gg_status_str(enum gg_status st)
{
	switch (st) {
	case GG_OK:		return "ok";
	case GG_NOTFOUND:	return "not found";
	case GG_EINVAL:		return "invalid argument";
	case GG_EFORMAT:	return "malformed data";
	case GG_ENOMEM:		return "out of memory";
	case GG_ETOOBIG:	return "limit exceeded";
	case GG_ETIMEOUT:	return "timeout";
	case GG_EDNS:		return "DNS failure";
	case GG_EDB:		return "database failure";
	case GG_EIO:		return "I/O failure";
	case GG_EPERM:		return "permission denied";
	}
	return "unknown status";
}
