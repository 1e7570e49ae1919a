/*
 * store_bdb.h - Berkeley DB backend of the triplet store (see store.h)
 */
#ifndef GG_STORE_BDB_H
#define GG_STORE_BDB_H

#include "store/store.h"

/* Open or create the transactional environment in dir; cache size in MB. */
enum gg_status gg_store_bdb_open(const char *dir, size_t cache_mb, struct gg_store **out,
				 char *err, size_t errsize);

#endif
