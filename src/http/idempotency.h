/*
 * Idempotency, with Stripe's semantics (docs/FRAMEWORK.md has the whole story):
 * the first result of a keyed POST is saved in the same transaction as its effects (req_write),
 * replayed byte for byte afterwards; same key + other parameters → 400 idempotency_error; same key
 * while the first request still runs → 409 idempotency_key_in_use (an in-process claim; across
 * nodes the unique key of the record decides, and the loser replays the winner's result).
 */
#ifndef TENDER_HTTP_IDEMPOTENCY_H
#define TENDER_HTTP_IDEMPOTENCY_H

#include <stdbool.h>

#include "http/errors.h"
#include "store/db.h"

struct req;

#define IDEMPOTENCY_KEY_MAX 255

/* SQL over idempotency_keys AS i: the saved answer. A record whose answer was an event's object
 * names the event (body_event, see idem_save) and keeps an empty body; the answer is the
 * event's object, NULL when that event is missing (a damaged store). */
#define IDEM_ANSWER_SQL "CASE WHEN i.body_event IS NULL THEN i.body ELSE e.data_object END"
#define IDEM_ANSWER_JOIN                                                                           \
	" FROM idempotency_keys i LEFT JOIN events e ON i.body_event IS NOT NULL"                  \
	" AND e.merchant_id = i.merchant_id AND e.id = i.body_event"
#define IDEMPOTENCY_TTL_S (24 * 3600)

/* Hashes method, path and parameters into r's idempotency hash. */
void idem_hash_request(struct req *r);
/* Looks up a saved result. 0: none; 1: r->out/status hold the replay; -1: r->err set. */
int idem_lookup(struct req *r);
/* Before the first lookup: notes the key's release generation, so that idem_claim can tell
 * (r->idem_changed) whether a request with the key may have finished since (then look again). */
void idem_note_generation(struct req *r);
/* Claims the key in-process. 0 ok; -1 with r->err (409) when another request holds it. */
int idem_claim(struct req *r);
void idem_release(struct req *r);
/* Inside the write transaction: saves r->status/r->out. 0 ok, 1 when a record already exists
 * (another node won the race), < 0 on error. */
int idem_save(struct db *db, struct req *r);
/* Whether an error a keyed request's handler answered is saved as that key's result, as Stripe
 * saves the outcome of a request once its endpoint began executing: its refusals (a refund
 * beyond the charge, a balance too small, a charge already captured …) and declines, so that the
 * same key replays them and refuses other parameters. Not saved: what never began executing or
 * may be asked again as it is (the parameters' validation, authentication, 409 conflicts with a
 * request running at the same time, 429, 5xx). */
bool idem_error_saved(enum api_err code);
/* After the handler failed with such an error (r->err): renders it and saves it in a write of its
 * own (the handler's effects were rolled back; there are none to save it with). 0 when r->out and
 * r->status now hold the answer to send (the error, or the result another node saved first for
 * the key), -1 when nothing could be saved (r->err is answered unsaved). */
int idem_save_error(struct req *r);
/* Deletes records older than the TTL (at most batch_max, from the oldest; see idempotency.c on
 * SQLite); returns the number pruned or < 0. */
int idem_prune(struct db *db, int64_t now, int64_t batch_max);
/* Whether idem_prune has something to delete on this shard: 1, 0, or < 0 on error. */
int idem_prune_due(struct db *db, int64_t now);

#endif
