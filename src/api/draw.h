/*
 * A draw on a merchant's available balance: a payout, or a transfer that no charge funds.
 *
 * The available balance is a sum over the merchant's balance transactions, read in a read
 * transaction before the write so that the single writer never scans them. Two draws checked
 * against the same balance could then both pass; so the write claims the merchant's draw count
 * in the currency (ledger_draws / ledger_draw_next, ledger_payout.h), moving it from the number
 * the read saw to the next, and a draw that finds it moved reads again. draw_run does all of
 * it: the read (with the caller's own checks in the same transaction), the balance check
 * (balance_insufficient), the write, and up to DRAW_ATTEMPTS reads when other draws came
 * between (then 409 lock_timeout). A refund or dispute landing between the read and the write
 * may take the balance below zero, as it may on Stripe.
 */
#ifndef TENDER_API_DRAW_H
#define TENDER_API_DRAW_H

#include <stdbool.h>
#include <stdint.h>

#include "http/req.h"

#define DRAW_ATTEMPTS 5

struct draw {
	const char *currency;
	int64_t amount;
	store_fn check; /* more reads in the same read transaction (NULL: none); gets ctx */
	store_fn write; /* the write, which calls draw_claim first; gets ctx */
	void *ctx;
	/* draw_run's own */
	struct req *r;
	int64_t available, seen;
	bool raced;
};

/* 0 once the write committed, or -1 with r->err. */
int draw_run(struct req *r, struct draw *d);
/* First in the write: claims the draw. 0, or -1 with r->err (lock_timeout when another draw
 * claimed the count first: draw_run reads again). */
int draw_claim(struct db *db, struct draw *d);

#endif
