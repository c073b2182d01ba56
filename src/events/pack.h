/*
 * Event objects at rest, packed. An event keeps a copy of its object as it was (1.1-1.7 KB of
 * JSON for a payment intent or a charge), and a confirmed payment appends three: most of the
 * bytes a payment puts in the store, and so of what the writer copies into the WAL, the
 * checkpointer copies into the database file and the fsync writes out. The objects of one type
 * are nearly all the same keys and nulls, so they are compressed with zstd against a fixed
 * dictionary of such objects (pack_dict.c) to about a tenth of their size.
 *
 * Format: one byte naming the dictionary (EVENT_PACK_DICT_2 now, EVENT_PACK_DICT_1 in older
 * rows), then a zstd frame (without the dictionary's id, which that byte gives). An object's
 * JSON always starts with '{', so a reader tells a packed object from a plain one (older rows,
 * the PostgreSQL store, which keeps JSON text) by its first byte: event_unpack passes plain JSON
 * through, and refuses a dictionary it does not know rather than pass it off as JSON.
 *
 * Safe from any thread: the dictionaries are shared and read-only, each thread has its own
 * zstd contexts.
 */
#ifndef TENDER_EVENTS_PACK_H
#define TENDER_EVENTS_PACK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "store/db.h"

#define EVENT_PACK_DICT_1 0x01 /* unpacked only: objects packed before 2026-12-05 */
#define EVENT_PACK_DICT_2 0x02
/* first bytes up to this one are kept for dictionaries to come (none starts JSON text) */
#define EVENT_PACK_DICT_LAST 0x08

/* Whether a store of that backend keeps event objects packed: SQLite does; PostgreSQL keeps JSON
 * text (its TEXT column holds no binary). The one place that decides it: the write (events.c)
 * and a request that packs ahead of it (payments_pack) both ask here. */
bool event_packs(enum db_kind kind);

/* Appends json packed to out. 0, or -1 when out has failed, zstd refuses (out of memory) or json
 * is longer than an object ever unpacks to (4 MiB): the caller keeps that one as JSON text. */
int event_pack(const char *json, size_t len, struct buf *out);

/* Whether bytes (an events.data_object value) are a packed object. */
bool event_is_packed(const void *bytes, size_t n);

/* The object's JSON: bytes themselves when they are plain JSON, else their unpacking appended
 * to scratch. 0, or -1 when packed bytes are damaged or name an unknown dictionary (the store
 * is damaged: the caller fails the request). */
int event_unpack(const void *bytes, size_t n, struct buf *scratch, const char **ret_json,
		 size_t *ret_len);

#endif
