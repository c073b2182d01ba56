/* Shared by the recurring-billing resources (subscriptions.c, invoices.c, test_clocks.c): their
 * rows, renderings and the few steps one asks of another. Everything here runs inside the
 * caller's transaction, on r's merchant, with strings in r's arena. */
#ifndef TENDER_API_BILLING_INTERNAL_H
#define TENDER_API_BILLING_INTERNAL_H

#include "api/resources.h"
#include "billing/billing.h"
#include "http/req.h"

/* Stripe's bound on a subscription's items (and so on an invoice's subscription lines). */
#define SUB_ITEMS_MAX 20
/* Stripe's bound on the invoice items one invoice takes (more stay pending for the next one),
 * and so on an invoice's lines. */
#define INVOICE_ITEMS_MAX 250
#define INVOICE_LINES_MAX (SUB_ITEMS_MAX + INVOICE_ITEMS_MAX)
/* Stripe's bound on a quantity. */
#define BILLING_QUANTITY_MAX 1000000

struct invoice {
	char id[ID_MAX];
	int64_t created, version;
	const char *customer, *subscription, *status, *billing_reason;
	char currency[8];
	int64_t subtotal, total, amount_paid, attempt_count;
	int64_t next_payment_attempt; /* 0: none */
	bool auto_advance;
	int64_t period_start, period_end;
	const char *number, *payment_intent, *customer_email, *customer_name, *description;
	const char *metadata, *lines, *test_clock; /* lines: JSON array of line_item objects */
	int64_t finalized_at, paid_at, voided_at;  /* 0: not */
};

/* DB_OK, DB_NOTFOUND, or < 0. */
int invoice_load(struct req *r, struct db *db, const char *id, struct invoice *ret);
int invoice_insert(struct req *r, struct db *db, const struct invoice *in);
/* Writes the mutable columns where the row is still at in->version; bumps it. DB_CONFLICT when
 * it changed meanwhile. */
int invoice_update(struct req *r, struct db *db, struct invoice *in);
/* Appends event `type` with the invoice as its object. 0, or -1 with r->err. */
int invoice_emit(struct req *r, struct db *db, const struct invoice *in, const char *type);
/* Renders it; prefix: where it sits in the answer for expand[] (`payments`), "" at the top,
 * "latest_invoice." inside a subscription; NULL expands nothing (an event's object). */
int invoice_render(struct req *r, struct db *db, const struct invoice *in, const char *prefix,
		   struct json *j);
/* The invoice's `number`: the customer's invoice_prefix and its count of invoices so far. */
int invoice_number_next(struct req *r, struct db *db, const char *customer, const char **ret);

/* A customer of r's merchant as billing needs it: DB_OK (found: not deleted) or < 0. */
struct billing_customer {
	bool found;
	const char *email, *name, *default_pm, *test_clock, *currency;
};
int billing_customer_get(struct req *r, struct db *db, const char *id,
			 struct billing_customer *ret);

/* ---- invoice items (invoice_items.c) ---- */

struct invoice_item {
	char id[ID_MAX];
	int64_t created; /* Stripe's `date` */
	const char *customer;
	char currency[8];
	int64_t amount, unit_amount, quantity; /* amount = unit_amount × quantity; < 0: a credit */
	const char *price, *description, *metadata, *subscription, *subscription_item;
	const char *invoice, *test_clock; /* invoice NULL: pending */
	int64_t period_start, period_end;
	bool proration, discountable, deleted;
};
/* DB_OK, DB_NOTFOUND, or < 0. */
int invoice_item_load(struct req *r, struct db *db, const char *id, struct invoice_item *ret);
/* Inside a write: stores new item ii (its id set by the caller) and appends
 * invoiceitem.created. 0, or -1 with r->err. */
int invoice_item_insert(struct req *r, struct db *db, const struct invoice_item *ii);

/* The pending items an invoice takes, read before its write: customer's items in currency
 * that are of subscription `sub` or of none (sub NULL: of none), oldest first, at most
 * INVOICE_ITEMS_MAX (the rest wait for a later invoice). */
struct pending_items {
	int n;
	int64_t sum; /* overflow-checked */
	char (*ids)[ID_MAX];
	int64_t *amounts;
};
/* 0, or -1 with r->err (a sum out of range is a 400 on `customer`). */
int invoice_items_pending(struct req *r, struct db *db, const char *customer, const char *currency,
			  const char *sub, struct pending_items *ret);
/* Inside the invoice's write: the items read go onto invoice `invoice`, each where it is still
 * pending with the amount read; one that changed meanwhile fails the write (ERR_INVALID_STATE).
 * 0, or -1 with r->err. */
int invoice_items_claim(struct req *r, struct db *db, const struct pending_items *p,
			const char *invoice);
/* The lines of invoice `invoice`'s items, each an element of the open JSON array j. 0 or < 0. */
int invoice_items_lines(struct req *r, struct db *db, const char *invoice, struct json *j);
/* Inside a write: a deleted draft's items are pending again. 0, or -1 with r->err. */
int invoice_items_release(struct req *r, struct db *db, const char *invoice);
/* Inside the write that closes invoice in with a total below zero (nothing is charged): the
 * credit is a new pending item of the customer, for its next invoice. 0, or -1 with r->err. */
int invoice_credit_carry(struct req *r, struct db *db, const struct invoice *in, int64_t now);

/* ---- changing a subscription's items (subscriptions.c; subscription_items.c calls it) ---- */

/* One change: an existing item (id) changed or deleted, or a new one (id NULL). */
struct sub_item_change {
	const char *id;
	const char *price;	   /* the new price; NULL: unchanged (a new item needs one) */
	int64_t quantity;	   /* 0: unchanged (a new item: 1) */
	const char *metadata_path; /* the param path of its metadata hash; NULL: unchanged */
	bool deleted;
	const char *shown; /* its name in errors: "items[0]", "" for subscription_items */
};
enum sub_change_answer { SUB_ANSWER_SUBSCRIPTION, SUB_ANSWER_ITEM, SUB_ANSWER_ITEM_DELETED };
struct sub_change {
	const char *subscription;
	int n;
	struct sub_item_change ch[SUB_ITEMS_MAX];
	const char *proration_behavior; /* create_prorations (NULL), none, always_invoice */
	int64_t proration_date;		/* 0: now (the subscription's time) */
	const char *payment_behavior;	/* allow_incomplete (NULL) or error_if_incomplete */
	bool own_params;		/* also POST /v1/subscriptions/{id}'s other parameters */
	enum sub_change_answer answer;
	char item[ID_MAX]; /* the item answered; a new item's id is set here */
};
/* Applies c as one change of the subscription (its items, prorations as invoice items, an
 * invoice paid at once for always_invoice or a new interval) and answers. 0, or -1 with r->err. */
int subscription_change(struct req *r, struct sub_change *c);
/* Renders subscription item `id` (DB_NOTFOUND when absent); ret_sub (may be NULL) its
 * subscription's id, in r's arena. */
int subscription_item_render_by_id(struct req *r, struct db *db, const char *id, struct json *j,
				   const char **ret_sub);

/* The subscription's side of an invoice's outcome (subscriptions.c). `attempted`: the attempt
 * that just ended; the invoice row is already updated. 0, or -1 with r->err. */
int subscription_invoice_paid(struct req *r, struct db *db, const struct invoice *in);
int subscription_invoice_failed(struct req *r, struct db *db, const struct invoice *in,
				bool give_up);

/* The time billing runs on for objects of test clock `clock` (NULL: r->now): the clock's
 * frozen time, or, while the scheduler advances it, r->now (the step's own time). */
int billing_now(struct req *r, struct db *db, const char *clock, int64_t *ret);

/* A test clock of r's merchant (test_clocks.c). */
struct test_clock {
	char id[ID_MAX];
	int64_t created, frozen_time, target_time;
	const char *name, *status;
	bool deleted;
};
int test_clock_load(struct req *r, struct db *db, const char *id, struct test_clock *ret);

/* The scheduler's steps for one subscription and one advancing clock (subscriptions.c,
 * test_clocks.c). */
struct app;
/* Does the first thing due for subscription `id` of merchant at time t (its own time), in its
 * own writes. 1 done, 0 nothing was due, < 0 failed (nothing done): SUBSCRIPTION_STEP_AGAIN
 * when the store was overloaded (nothing is wrong with the subscription; do it again soon). */
#define SUBSCRIPTION_STEP_AGAIN (-2)
int subscription_step(struct app *app, const char *host, const char *merchant, const char *id,
		      int64_t t);

/* Inside a write: every live subscription of customer canceled now (a test clock's deletion
 * takes its customers with it). 0, or -1 with r->err. */
int subscriptions_cancel_for_customer(struct req *r, struct db *db, const char *customer);
/* The end of an advance: the clock's frozen_time becomes target and its status ready
 * (test_helpers.test_clock.ready), unless it changed meanwhile. 0 or < 0. */
int test_clock_ready(struct app *app, struct store *s, const char *merchant, const char *id,
		     int64_t target);

#endif
