/* Draws on a merchant's available balance (draw.h). */
#include "api/draw.h"

#include "ledger/ledger_payout.h"

static int read_fn(struct db *db, void *p)
{
	struct draw *d = p;
	struct req *r = d->r;
	if (d->check && d->check(db, d->ctx) != 0)
		return -1;
	if (ledger_available_balance(db, r->merchant_id, d->currency, &d->available) != DB_OK ||
	    ledger_draws(db, r->merchant_id, d->currency, &d->seen) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

int draw_run(struct req *r, struct draw *d)
{
	d->r = r;
	for (int attempt = 0; attempt < DRAW_ATTEMPTS; attempt++) {
		if (req_read(r, read_fn, d) != 0)
			return -1;
		if (d->available < d->amount)
			return req_fail(r, ERR_BALANCE_INSUFFICIENT, "amount", NULL);
		d->raced = false;
		if (req_write(r, d->write, d->ctx) == 0)
			return 0;
		if (!d->raced)
			return -1;
		r->err.set = false;
	}
	return req_fail(r, ERR_PAYOUT_CONFLICT, NULL, NULL);
}

int draw_claim(struct db *db, struct draw *d)
{
	struct req *r = d->r;
	d->raced = false;
	int rc = ledger_draw_next(db, r->merchant_id, d->currency, d->seen);
	if (rc == DB_CONFLICT) {
		d->raced = true;
		return req_fail(r, ERR_PAYOUT_CONFLICT, NULL, NULL);
	}
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}
