/*
 * Object ids: PREFIX + 24 base62 characters. The first 8 characters encode the creation time in
 * milliseconds (fixed width, in an alphabet whose ASCII order is its numeric order), so ids sort
 * by creation time and B-tree inserts land at the right edge (the lever issue 10 measured: ~1.7x
 * more inserts per second than random ids). The next 5 characters order ids made in the same
 * millisecond; the last 11 are ~65 bits from the CSPRNG, so ids stay unguessable. Callers treat
 * ids as opaque: nothing parses the time back out.
 *
 * Listed objects (those with a `created`) take their id from id_new_at, whose time part always
 * lies in the object's `created` second. So a merchant's objects sort by id in the order of
 * (created, creation), and a `created` range is an id range (id_created_bound): lists page
 * through the primary key and need no (created, id) index of their own, one B-tree fewer for
 * every object and event written (issue 10).
 */
#ifndef TENDER_CORE_ID_H
#define TENDER_CORE_ID_H

#include <stddef.h>
#include <stdint.h>

#define ID_BODY_LEN 24
#define ID_MAX 64 /* room for the longest prefix + body + NUL */

/* Writes prefix (e.g. "cus_") followed by a fresh id body into out (size >= ID_MAX). */
void id_new(char *out, const char *prefix);
/* The latest `created` (seconds) an id can carry: its millisecond must fit the 8 time characters
 * (62^8 ms, past the year 8000). Earlier or later seconds are clamped to 0 and this. */
#define ID_CREATED_MAX INT64_C(218340105583)
/* Like id_new, for an object whose `created` is the given second (unix time): the id's time part
 * is inside that second, whatever the clock says, and ids made for one second sort in the order
 * they were made. */
void id_new_at(char *out, const char *prefix, int64_t created);
/* prefix + the time part that starts second `created` (size of out >= ID_MAX): every id made by
 * id_new_at(…, prefix, c) sorts after it when c >= created and before it when c < created.
 * created <= 0 gives the bare prefix (before every id), created > ID_CREATED_MAX prefix + "~"
 * (after every id). */
void id_created_bound(char *out, const char *prefix, int64_t created);
/* Random base62 string of n characters (n < size of out). For secrets such as API keys. */
void id_random_base62(char *out, size_t n);
/* True when s looks like PREFIX + [0-9A-Za-z_]{1,120}: cheap rejection of garbage ids. */
int id_valid(const char *s, const char *prefix);

#endif
