/* Shared by the recurring-billing resources (subscriptions.c, invoices.c, test_clocks.c): their
 * rows, renderings and the few steps one asks of another. Everything here runs inside the
 * caller's transaction, on r's merchant, with strings in r's arena. */
#ifndef TENDER_API_BILLING_INTERNAL_H
#define TENDER_API_BILLING_INTERNAL_H

#include "api/resources.h"
#include "billing/billing.h"
#include "billing/tax.h"
#include "http/req.h"

/* Stripe's bound on a subscription's items (and so on an invoice's subscription lines). */
#define SUB_ITEMS_MAX 20
/* Stripe's bound on the invoice items one invoice takes (more stay pending for the next one),
 * and so on an invoice's lines. */
#define INVOICE_ITEMS_MAX 250
#define INVOICE_LINES_MAX (SUB_ITEMS_MAX + INVOICE_ITEMS_MAX)
/* How long an auto-advancing draft waits before it is finalized (and its payment attempted):
 * Stripe's hour (a subscription's renewal invoice, a one-off invoice with auto_advance). */
#define INVOICE_DRAFT_WINDOW_S 3600
/* The longest payment term Tender takes (days_until_due; ten years). */
#define INVOICE_DAYS_UNTIL_DUE_MAX 3650
/* Stripe's bound on a quantity. */
#define BILLING_QUANTITY_MAX 1000000

/* A request's rates (`tax_rates[]`, `default_tax_rates[]`): present when sent (they replace the
 * object's; "" or an empty array: none). shown: the parameter's name in errors. */
struct tax_rate_spec {
	bool present;
	int n;
	const char *ids[BILLING_TAX_RATES_MAX];
	const char *shown;
	/* the rates come from an object that took them already (a Checkout Session's or a quote's
	 * lines, a schedule's phase): one archived since keeps applying, as an archived rate keeps
	 * working where it is applied */
	bool carried;
};
/* What one rate took from a line, or (summed) from an invoice. */
struct invoice_tax_entry {
	char rate[ID_MAX];
	bool inclusive;
	int64_t amount, taxable;
};
#define INVOICE_TAX_TOTALS_MAX 64
/* An invoice's taxes: per rate (and inclusiveness), in the order the lines first take them;
 * exclusive and inclusive sums; pre_discount_inclusive the inclusive tax inside its lines'
 * amounts before discounts (subtotal_excluding_tax = subtotal − it). */
struct invoice_tax_totals {
	int n;
	struct invoice_tax_entry e[INVOICE_TAX_TOTALS_MAX];
	int64_t exclusive, inclusive, pre_discount_inclusive;
};
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
	/* the invoice-level discounts it takes (JSON array of ids), and once computed what every
	 * discount took in all (JSON array of {amount, discount}); see invoice_discounts_apply */
	const char *discounts, *total_discount_amounts;
	int64_t finalized_at, paid_at, voided_at; /* 0: not */
	int64_t marked_uncollectible_at;	  /* 0: not */
	/* a preview's (invoice_preview.c) lines, rendered whole: nothing of it is stored */
	const char *preview_lines;
	/* a preview's billing credits (invoice_credits_preview): its total_pretax_credit_amounts
	 * (JSON array) and its lines' ({line id: array}); NULL: none */
	const char *preview_credits, *preview_line_credits;
	/* set when it is finalized (invoice_balance_apply): the customer's balance before and
	 * after it took it, and what it charges (total + starting_balance, at least 0) */
	int64_t starting_balance, ending_balance, amount_due;
	/* set by invoice_balance_apply: its amount due was below the currency's minimum charge
	 * (Stripe's invoice_too_small): not charged, it is paid and the amount went onto the
	 * customer's balance as a debit; the caller marks it paid as one with nothing due */
	bool too_small;
	/* the invoice of a payment already made (Checkout's invoice_creation): finalizing it takes
	 * nothing from the customer's balance, so that it records what the payment charged */
	bool balance_untouched;
	/* not stored: the amount due its finalizing write checks (planned_due) was planned with
	 * its customer's billing credits taken off (invoice_credits_apply), so they apply */
	bool credits_planned;
	/* charge_automatically (NULL reads as it) or send_invoice: the customer pays through the
	 * hosted page (invoice_page.c) or the merchant marks it paid; never charged by Tender's
	 * scheduler. days_until_due (when has_days_until_due) or due_date (0: none) says when it is
	 * due; an open one's next_payment_attempt is then the time of its overdue notice (rendered
	 * null). */
	const char *collection_method;
	bool has_days_until_due;
	int64_t days_until_due, due_date;
	const char *hosted_token_hash; /* finalized invoices: their page's secret's hash (NULL: a
					* draft, or one finalized before every invoice had one) */
	bool paid_out_of_band;
	/* a preview's taxes (nothing of it is stored; NULL: read from invoice_tax_amounts) */
	const struct invoice_tax_totals *preview_taxes;
	/* a create's default_tax_rates (invoice_draft_create; NULL: none) */
	const struct tax_rate_spec *default_tax_spec;
	/* automatic_tax[enabled]: Stripe Tax computes its lines' taxes (invoice_lines_auto_tax) */
	bool automatic_tax;
	/* not stored: a preview's customer_details[address] (JSON), where Stripe Tax places its
	 * customer instead of the customer's own address (NULL: the customer's) */
	const char *auto_tax_address;
	/* not stored: its bank debit was just returned (invoice_debit_settled); a subscription
	 * activated by that debit's first invoice is then past_due, as after a declined renewal */
	bool debit_returned;
	/* payment_settings[payment_method_types]: a JSON array (["card","sepa_debit"]), NULL: not
	 * set (any type Tender takes for it) */
	const char *payment_method_types;
	/* payment_settings[payment_method_options][customer_balance] as shown (JSON), NULL: none */
	const char *pmo_customer_balance;
	/* its own settings (invoice_settings.c): a JSON object, NULL: none set */
	const char *settings;
	/* not stored: invoice_draft_create takes the request's settings parameters (POST
	 * /v1/invoices), once its customer and currency are known */
	bool settings_params;
	/* not stored: POST /v1/invoices' from_invoice[invoice], the finalized invoice this draft
	 * revises (its lines and settings copied; finalizing the revision voids it) */
	const struct invoice *revises;
};
/* Stripe's bounds on an invoice's custom_fields: 4 of them, name and value 30 bytes each */
#define INVOICE_CUSTOM_FIELDS_MAX 4
#define INVOICE_CUSTOM_FIELD_MAX 30
/* invoice_settings.c: the children of an invoice's settings parameters (create and update
 * declare them alike) */
extern const struct param_spec invoice_custom_field_params[];
extern const struct param_spec invoice_rendering_options_params[];
extern const struct param_spec invoice_rendering_params[];
extern const struct param_spec invoice_shipping_details_params[];
extern const struct param_spec invoice_shipping_cost_params[];
extern const struct param_spec invoice_transfer_data_params[];
extern const struct param_spec invoice_issuer_params[];
/* A new PaymentIntent paying in: its Connect terms (on_behalf_of, transfer_data,
 * application_fee_amount) and statement_descriptor, from its settings, onto pv; a fee or a
 * transfer larger than what it charges is a 400. 0, or -1 with r->err. */
struct pi_invoice;
/* in's application_fee_amount and transfer_data[amount] are at most `amount`: 0, or -1 with
 * r->err (a 400). */
int invoice_connect_fits(struct req *r, const struct invoice *in, int64_t amount);
int invoice_pi_terms(struct req *r, const struct invoice *in, struct pi_invoice *pv);
/* Inside a write: the request's settings parameters (footer, custom_fields, …, effective_at)
 * checked against in (its customer, its status) and merged into in->settings, which the caller
 * saves (invoice_insert, invoice_update). 0 (nothing asked for: in untouched), or -1 with
 * r->err. */
int invoice_settings_apply(struct req *r, struct db *db, struct invoice *in);
/* in's setting key as JSON text (r's arena), NULL when unset or null */
const char *invoice_setting(struct req *r, const struct invoice *in, const char *key);
/* in's string setting key (r's arena), NULL when unset */
const char *invoice_setting_str(struct req *r, const struct invoice *in, const char *key);
/* What its shipping_cost adds to its total (amount_shipping; 0: none). */
int64_t invoice_shipping_amount(const struct invoice *in);
/* Stripe's effective_at: the one given, else finalized_at (0: none) */
int64_t invoice_effective_at(const struct invoice *in);
/* key: in's setting key, or null */
struct json;
void invoice_settings_render(struct req *r, const struct invoice *in, const char *key,
			     struct json *j);
/* payment_settings[payment_method_types] of the request at param (shown: its name in errors):
 * card, sepa_debit and us_bank_account, each bank debit only in its currency (eur, usd;
 * currency NULL: not checked). 1 given
 * (*ret the JSON array to store, NULL for '' = none), 0 absent, -1 with r->err. */
int billing_pm_types_param(struct req *r, const char *param, const char *shown,
			   const char *currency, const char **ret);
/* Inside the write that finalized invoice in: one whose payment_method_types name
 * customer_balance (send_invoice, or charge_automatically with customer_balance its only type)
 * gets its PaymentIntent paid from the customer's cash balance (api/cash_balance.c:
 * cash_invoice_pay), paid at once when the cash covers it; a charge_automatically one whose
 * intent waits for a transfer counts the attempt (invoice.payment_action_required, never
 * retried by itself). *in is read again after. Any other invoice is left as it is. 0, or -1
 * with r->err. */
int invoice_cash_collect(struct req *r, struct db *db, struct invoice *in);
/* Is a payment_method_types array exactly ["customer_balance"]: a charge_automatically
 * invoice (or subscription) collected from the customer's cash balance, never charged? */
bool billing_pm_types_cash_only(const char *types);
/* Does a payment_method_types array (NULL: not set, any) allow type? */
bool billing_pm_types_allow(const char *types, const char *type);
/* Is it collected by the customer (collection_method=send_invoice)? */
bool invoice_sends(const struct invoice *in);
/* The URL of invoice id's hosted page (http://host/invoice/{merchant}/{secret}), in r's arena;
 * NULL when the vault cannot derive it. ret_hash (may be NULL): the secret's SHA-256, what the
 * invoice row keeps. */
const char *invoice_hosted_url(struct req *r, const char *id, char ret_hash[65]);
/* The hosted page's payment (invoice_page.c): open invoice in, as the page read it (its version
 * guards the payment's write: a form posted twice, or an invoice changed meanwhile, pays
 * nothing), paid with PaymentMethod pm through the same PaymentIntent path as POST …/pay, with
 * the cardholder present: a card asking for 3-D Secure leaves the intent requires_action and
 * ret_challenge_url the challenge, which comes back to return_url. 0 (ret_challenge_url NULL:
 * the intent's write settled the invoice), or -1 with r->err (a decline is a card error). */
int invoice_pay_on_page(struct req *r, const struct invoice *in, const char *pm,
			const char *return_url, const char **ret_challenge_url);
/* Finalizes draft in at now inside the caller's write (invoices.c's finalize: numbered, the
 * customer's balance applied, invoice.finalized); planned_due as invoice_balance_apply's. 0, or
 * -1 with r->err. */
int invoice_finalize_rows(struct req *r, struct db *db, struct invoice *in, int64_t now,
			  int64_t planned_due);
/* The terms of invoice in finalized at now, before its row is saved: a send_invoice one's
 * due_date (days_until_due counted from now) and its overdue notice as its next step; the
 * hosted page's secret hash (every finalized invoice has one). 0, or -1 with r->err. */
int invoice_finalize_terms(struct req *r, struct invoice *in, int64_t now);

/* DB_OK, DB_NOTFOUND, or < 0. */
int invoice_load(struct req *r, struct db *db, const char *id, struct invoice *ret);
int invoice_insert(struct req *r, struct db *db, const struct invoice *in);
/* Writes the mutable columns where the row is still at in->version; bumps it. DB_CONFLICT when
 * it changed meanwhile. */
int invoice_update(struct req *r, struct db *db, struct invoice *in);
/* Writes in->lines (a draft's subscription lines, recomputed before it is finalized:
 * subscriptions.c) where the row is still at in->version, without bumping it (the caller's
 * invoice_update does). DB_OK, DB_CONFLICT when it changed meanwhile, or < 0. */
int invoice_lines_update(struct req *r, struct db *db, const struct invoice *in);
/* Appends event `type` with the invoice as its object. 0, or -1 with r->err. */
int invoice_emit(struct req *r, struct db *db, const struct invoice *in, const char *type);
/* Renders it; prefix: where it sits in the answer for expand[] (`payments`), "" at the top,
 * "latest_invoice." inside a subscription; NULL expands nothing (an event's object). */
int invoice_render(struct req *r, struct db *db, const struct invoice *in, const char *prefix,
		   struct json *j);
/* The invoice's one invoice_payment (Stripe's object for a payment of an invoice): its id,
 * "inpay_" and the invoice id's body (0; -1 when the invoice has no PaymentIntent), and the
 * object rendered into j (nothing when it has none). */
int invoice_payment_id(const struct invoice *in, char out[ID_MAX + 8]);
void invoice_payment_render(const struct invoice *in, struct json *j);
/* invoice id loaded and rendered (a list's or a search's row: prefix "data."). DB_OK,
 * DB_NOTFOUND or < 0. */
int invoice_render_by_id(struct req *r, struct db *db, const char *id, const char *prefix,
			 struct json *j);
/* Inside the write that finalizes invoice in (its total set, its row not yet saved): the
 * customer's credit balance applied to it (customer_balance_apply: a credit pays up to its
 * total, a debit is added, a total below zero credits the balance), setting
 * in->starting_balance, ending_balance and amount_due. planned_due: what the amount due was
 * computed to be before the write (its PaymentIntent's amount; invoice_planned_due), or -1 for
 * an invoice charged later (POST …/pay); a different result fails the write (the balance moved
 * meanwhile). 0, or -1 with r->err. */
int invoice_balance_apply(struct req *r, struct db *db, struct invoice *in, int64_t planned_due);
/* Before an invoice's write: what it will charge, its amount due with the customer's balance as
 * it is now; 0 when that is below the currency's minimum charge (invoice_too_small: it will not
 * be charged). 0, or -1 with r->err. */
int invoice_planned_due(struct req *r, struct db *db, const char *customer, const char *currency,
			int64_t total, int64_t *ret_due);
/* Inside the write that voids invoice in: the balance it took goes back to the customer
 * (unapplied_from_invoice). 0, or -1 with r->err. */
int invoice_balance_return(struct req *r, struct db *db, const struct invoice *in);
/* The invoice's lines as one JSON array of line_item objects, into b (credit_notes.c reads
 * them). 0 or -1. */
int invoice_lines_json(struct req *r, struct db *db, const struct invoice *in, struct buf *b);
/* Billing credits an invoice's lines take (billing_credits.c): amount[k] off line line[k]. */
struct invoice_line_credits {
	int n;
	const char **line;
	const int64_t *amount;
};
/* Billing credits (billing_credits.c). Invoice in, finalized at now: its customer's credit
 * grants in its currency in effect then, in Stripe's order, take its lines in their scope
 * (after discounts, never more than a line's amount nor the invoice's total); write: each
 * (grant, line) a credits_applied debit in the caller's write and in->total lowered, once per
 * invoice; else only *ret_applied (what planning an amount due takes off). 0, or -1 with
 * r->err. */
int invoice_credits_apply(struct req *r, struct db *db, struct invoice *in, int64_t now, bool write,
			  int64_t *ret_applied);
/* Inside the write that voids invoice in: every credit it took goes back to its grant (a credit
 * of type credits_application_invoice_voided; expired again at once when its grant is past
 * its expiry or voided), once. 0, or -1 with r->err. */
int invoice_credits_return(struct req *r, struct db *db, const struct invoice *in, int64_t now);
/* The invoice's total_pretax_credit_amounts (its credits_applied debits) into j. DB_OK or < 0. */
int invoice_credits_render(struct req *r, struct db *db, const char *invoice, struct json *j);
/* The JSON array of the invoice's lines in b from offset from, with each line's
 * pretax_credit_amounts filled from its debits (untouched without any). DB_OK or < 0. */
int invoice_credits_lines_patch(struct req *r, struct db *db, const char *invoice, struct buf *b,
				size_t from);
/* A preview's billing credits (nothing written): what its finalization would take of its lines
 * (in->preview_lines, n_lines of them) at now, never more than room in all, into
 * ret_credits[i] for line i (*ret_any: some), and as the invoice and its lines would show them
 * into in->preview_credits and preview_line_credits (NULL: none). 0, or -1 with r->err. */
int invoice_credits_preview(struct req *r, struct db *db, struct invoice *in, int64_t now,
			    int64_t room, int n_lines, int64_t *ret_credits, bool *ret_any);
/* in->preview_lines with each line's pretax_credit_amounts from in->preview_line_credits. 0, or
 * -1 with r->err. */
int invoice_credits_preview_patch(struct req *r, struct invoice *in);
/* A one-off invoice's header before its write (POST /v1/invoices, a preview of the customer's
 * pending items): customer in->customer (of r's merchant, else 404), currency `cur` (NULL or "":
 * the customer's, else its oldest pending item's, else usd), a draft made now (ret_now: the
 * customer's clock's time) without lines or discounts. 0, or -1 with r->err. */
int invoice_oneoff_head(struct req *r, struct db *db, const char *cur, struct invoice *in,
			int64_t *ret_now);
/* The invoice's `number`: the customer's invoice_prefix and its count of invoices so far. */
int invoice_number_next(struct req *r, struct db *db, const char *customer, const char **ret);

/* A customer of r's merchant as billing needs it: DB_OK (found: not deleted) or < 0. */
struct billing_customer {
	bool found;
	const char *email, *name, *default_pm, *test_clock, *currency;
	const char *default_source; /* its default_source (a card, bank account or source) */
};
int billing_customer_get(struct req *r, struct db *db, const char *id,
			 struct billing_customer *ret);
/* What pays an invoice when no payment names it, in Stripe's order (billing/billing.h,
 * billing_pay_with): in's own default_payment_method and default_source (in NULL: an invoice
 * being made, which has none), its subscription's default_payment_method and default_source
 * (sub_pm, sub_source; NULL: none), its customer's invoice_settings.default_payment_method and
 * default_source (cf). A PaymentMethod or a source id; NULL: none. */
const char *invoice_pay_with(struct req *r, const struct invoice *in, const char *sub_pm,
			     const char *sub_source, const struct billing_customer *cf);

/* ---- invoice items (invoice_items.c) ---- */

struct invoice_item {
	char id[ID_MAX];
	int64_t created; /* Stripe's `date` */
	const char *customer;
	char currency[8];
	int64_t amount, unit_amount, quantity; /* amount = unit_amount × quantity; < 0: a credit */
	/* a sub-cent unit amount, decimal text of minor units (NULL: unit_amount); amount is then
	 * quantity × it rounded once (tiers_decimal_amount) */
	const char *unit_amount_decimal;
	/* a quantity with decimals (quantity_decimal, its text; NULL: `quantity` is whole): amount
	 * is the unit amount times it rounded once (tiers_decimal_product), and `quantity` its
	 * whole part, as Stripe truncates it */
	const char *quantity_decimal;
	const char *price, *description, *metadata, *subscription, *subscription_item;
	const char *invoice, *test_clock; /* invoice NULL: pending */
	int64_t period_start, period_end;
	bool proration, discountable, deleted;
	/* its own tax_behavior (exclusive, inclusive, unspecified) and tax_code (txcd_…), which
	 * Stripe Tax takes for its line before the merchant's default behaviour and its product's
	 * code; NULL: not given */
	const char *tax_behavior, *tax_code;
	/* a proration a subscription's discounts applied to (subscriptions.c, proration_add): the
	 * billing mode it was made under ("classic", "included": amount is net of the discounts,
	 * its line not discounted again; "itemized": amount is gross, its line's discount_amounts
	 * take them off) and their shares of it (JSON [{amount, discount}]); NULL: none */
	const char *pd_mode, *pd_amounts;
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
/* The same, of subscription sub alone (an invoice made for it by POST /v1/invoices). */
int invoice_items_pending_of(struct req *r, struct db *db, const char *customer,
			     const char *currency, const char *sub, struct pending_items *p);
/* Inside a write: every item on invoice `from` copied onto draft `to` (new ids, made at now,
 * with their tax rates; invoiceitem.created each): a revision's lines. 0, or -1 with r->err. */
int invoice_items_copy(struct req *r, struct db *db, const char *from, const char *to, int64_t now);
/* Inside the invoice's write: the items read go onto invoice `invoice`, each where it is still
 * pending with the amount read; one that changed meanwhile fails the write (ERR_INVALID_STATE).
 * 0, or -1 with r->err. */
int invoice_items_claim(struct req *r, struct db *db, const struct pending_items *p,
			const char *invoice);
/* The lines of invoice `invoice`'s items, each an element of the open JSON array j. 0 or < 0. */
/* discounted: the invoice has discounts (its lines show theirs; else none are looked up). */
int invoice_items_lines(struct req *r, struct db *db, const char *invoice, bool discounted,
			struct json *j);
/* Renders item ii's line on its invoice (ii->invoice); discounted: the invoice has discounts,
 * and what they took from the line is `amounts` (a JSON array; NULL: as stored). 0 or -1. */
int invoice_item_line_render(struct req *r, struct db *db, const struct invoice_item *ii,
			     bool discounted, const char *amounts, struct json *j);
/* The same with taxes e (n entries; e NULL: as stored for the line). */
int invoice_item_line_render_taxed(struct req *r, struct db *db, const struct invoice_item *ii,
				   bool discounted, const char *amounts,
				   const struct invoice_tax_entry *e, int n, struct json *j);
/* The same with own_ids (a JSON array; NULL: as stored) as the line's own `discounts`: an
 * invoice preview's invoice_items[n][discounts], which are never stored. */
int invoice_item_line_render_own(struct req *r, struct db *db, const struct invoice_item *ii,
				 bool discounted, const char *amounts,
				 const struct invoice_tax_entry *e, int n, const char *own_ids,
				 struct json *j);
/* One line of a draft's bulk edit (invoice_lines_edit.c: add_lines, update_lines, remove_lines,
 * a line's update), inside its write: POST /v1/invoiceitems' create and update reading the
 * request's parameters at r->params as those endpoints read their own (the caller points
 * r->params at the line, and gives a create its customer, currency and invoice), storing the
 * item and appending its event. The draft's totals are the caller's, computed once every line
 * is done (invoice_discounts_apply). *ret: the item as stored. 0, or -1 with r->err. */
int invoice_item_create_step(struct req *r, struct db *db, struct invoice_item *ret);
int invoice_item_update_step(struct req *r, struct db *db, const char *id,
			     struct invoice_item *ret);
/* Item id off its draft: deleted (invoiceitem.deleted), or with unassign pending again
 * (invoiceitem.updated). */
int invoice_item_remove_step(struct req *r, struct db *db, const char *id, bool unassign);
/* Pending item id (of in's customer and currency; of no subscription or of in's) put on draft in
 * (invoiceitem.updated); errors name `invoice_item`. */
int invoice_item_assign_step(struct req *r, struct db *db, const char *id, const struct invoice *in,
			     struct invoice_item *ret);
/* Inside a write: a deleted draft's items are pending again. 0, or -1 with r->err. */
int invoice_items_release(struct req *r, struct db *db, const char *invoice);
/* Inside the write that finalizes invoice in with a total below zero, when its customer's
 * balance is in another currency and cannot take the credit (invoice_balance_apply): the credit
 * is a new pending item of the customer, for its next invoice in the invoice's currency. 0, or
 * -1 with r->err. */
int invoice_credit_carry(struct req *r, struct db *db, const struct invoice *in, int64_t now);

/* ---- changing a subscription's items (subscriptions.c; subscription_items.c calls it) ---- */

/* One change: an existing item (id) changed or deleted, or a new one (id NULL). */
struct sub_item_change {
	const char *id;
	const char *price;	   /* the new price; NULL: unchanged (a new item needs one) */
	int64_t quantity;	   /* 0: unchanged (a new item: 1) */
	const char *metadata_path; /* the param path of its metadata hash; NULL: unchanged */
	struct tax_rate_spec tax;  /* its tax_rates[] (present: replaced) */
	bool deleted;
	bool clear_usage;  /* deleted: a metered item's usage since its period began not billed */
	const char *shown; /* its name in errors: "items[0]", "" for subscription_items */
	/* /v1/subscription_items' price_data: the dotted path of its hash ("price_data"; NULL:
	 * none), a new price made inactive by the change's write (items[n][price_data] of
	 * POST /v1/subscriptions/{id} is found by its own path) */
	const char *price_data;
	/* billing_thresholds[usage_gte] as the item shows it (JSON; NULL: none), when
	 * thresholds_set ("" unsets) */
	const char *thresholds;
	bool thresholds_set;
	/* its discounts[] (NULL: unchanged; n 0: none, discounts='') */
	const struct discount_spec *dspec;
	/* a new price for an existing item without a quantity sets it back to 1, as Stripe
	 * documents for POST /v1/subscriptions/{id}'s items (subscription_changes_parse); the
	 * customer portal and /v1/subscription_items keep the item's quantity */
	bool price_resets_quantity;
};
/* SUB_ANSWER_SCHEDULE: the subscription schedule named in `item` (its cancel) */
enum sub_change_answer {
	SUB_ANSWER_SUBSCRIPTION,
	SUB_ANSWER_ITEM,
	SUB_ANSWER_ITEM_DELETED,
	SUB_ANSWER_SCHEDULE
};
/* Connect terms of subscriptions, quotes and payment links (subscriptions.c) */
/* A percentage of at most two decimals, 0 … 100 (application_fee_percent,
 * transfer_data[amount_percent]) into percent_e4 (billing/billing.h). 0, or -1 with r->err
 * (400 on param). */
int billing_percent2_parse(struct req *r, const char *param, const char *v, int64_t *ret);
/* Inside a transaction: transfer_data[destination] and on_behalf_of (either NULL: not given)
 * are connected accounts of r's merchant that may take payments, as a PaymentIntent's are.
 * 0, or -1 with r->err. */
int billing_connect_check(struct req *r, struct db *db, const char *destination,
			  const char *on_behalf_of);
/* Inside a transaction: the Connect terms of the accepted one-time quote whose invoice is
 * `invoice` (quotes.c): application_fee_amount and transfer_data[destination, amount], each at
 * most `amount`, and on_behalf_of. 1 when there is such a quote with terms (*ret set), 0 when
 * not, -1 with r->err. */
int quote_invoice_connect(struct req *r, struct db *db, const char *invoice, int64_t amount,
			  struct payment_connect *ret);

/* The names a change's trial parameters are read under: dotted path and name in errors. */
struct sub_trial_names {
	const char *trial_end, *trial_end_shown;
	const char *from_plan, *from_plan_shown;
	const char *anchor, *anchor_shown;
};
struct sub_change {
	const char *subscription;
	int n;
	struct sub_item_change ch[SUB_ITEMS_MAX];
	const char *proration_behavior; /* create_prorations (NULL), none, always_invoice */
	int64_t proration_date;		/* 0: now (the subscription's time) */
	const char *payment_behavior;	/* allow_incomplete (NULL), error_if_incomplete,
					 * pending_if_incomplete or default_incomplete */
	bool own_params;		/* also POST /v1/subscriptions/{id}'s other parameters */
	struct tax_rate_spec
	    default_tax; /* its default_tax_rates[] (own_params; present: replaced) */
	/* POST /v1/subscriptions/{id}/resume: a paused subscription billed again, from now
	 * (billing_cycle_anchor now) or on its old cycle (unchanged, its current period's
	 * remaining time prorated by proration_behavior) */
	bool resume;
	bool resume_unchanged;
	/* payment_behavior=resume_on_payment_success: it stays paused until its resumption
	 * invoice is paid (retried meanwhile); else it resumes on the attempt (a decline leaves
	 * it past_due, the invoice not retried by itself) */
	bool resume_on_success;
	/* made by a subscription schedule's phase change (the scheduler, at the phase's end): the
	 * subscription's test clock may be advancing */
	bool scheduled;
	/* a preview's trial_end, trial_from_plan and billing_cycle_anchor (invoice_preview.c):
	 * read under these names, as the update reads its own (NULL: the update's, own_params) */
	const struct sub_trial_names *trial_names;
	/* a schedule's phase previewed (subscription_preview): its change is made at the phase's
	 * start, proration_date, which may be ahead of now */
	bool phase_preview;
	enum sub_change_answer answer;
	char item[ID_MAX]; /* the item answered; a new item's id is set here */
	/* run in the change's write once its rows are stored (NULL: nothing): the customer
	 * portal's plan change marks its session's flow done there (billing_portal.c) */
	int (*in_write)(struct req *r, struct db *db, void *ctx);
	void *in_write_ctx;
};
/* Reads the changes of items `param` (items, subscription_details.items, subscription_items)
 * into c (n and ch[]); shown: their name in errors ("items"). 0, or -1 with r->err. */
int subscription_changes_parse(struct req *r, const char *param, const char *shown,
			       struct sub_change *c);
/* An item's billing_thresholds[usage_gte] at dotted `path` (shown: its name in errors):
 * *ret_set when given, *ret its JSON as the item shows it (NULL: "" unsets). 0, or -1 with
 * r->err. */
int subscription_item_thresholds_param(struct req *r, const char *path, const char *shown,
				       const char **ret, bool *ret_set);
/* The parameters of a change (POST /v1/subscriptions/{id}'s, a preview's): items[n]'s,
 * proration_behavior's values, and discounts[n]'s. */
extern const struct param_spec subscription_change_item_params[];
extern const char *const subscription_proration_behaviors[];
extern const struct param_spec subscription_discount_params[];
/* billing_mode[type, flexible[proration_discounts]] of a new subscription (its create, a
 * preview's subscription_details) and of POST /v1/subscriptions/{id}/migrate (type flexible
 * only). */
extern const struct param_spec subscription_billing_mode_params[];
extern const struct param_spec subscription_migrate_mode_params[];
/* billing_mode at dotted `path` (shown: its name in errors): *ret_flexible whether it asks
 * flexible, absent: flexible from API version 2025-09-30 on (Stripe's default since
 * 2025-09-30.clover), else classic; *ret_pd its [flexible][proration_discounts], "included" or
 * "itemized" when flexible, NULL when classic. 0, or -1 with r->err (flexible's settings with
 * classic). */
int subscription_billing_mode_param_pd(struct req *r, const char *path, const char *shown,
				       bool *ret_flexible, const char **ret_pd);
/* a change's price_data[currency, product, recurring, tax_behavior, unit_amount(_decimal)] */
extern const struct param_spec subscription_item_price_data_params[];
/* Applies c as one change of the subscription (its items, prorations as invoice items, an
 * invoice paid at once for always_invoice or a new interval) and answers. 0, or -1 with r->err. */
int subscription_change(struct req *r, struct sub_change *c);
/* Renders subscription item `id` (DB_NOTFOUND when absent), at prefix in the answer for
 * expand[] ("" at the top, "data." in a list; NULL: nothing expanded); ret_sub (may be NULL) its
 * subscription's id, in r's arena. */
int subscription_item_render_by_id(struct req *r, struct db *db, const char *id, const char *prefix,
				   struct json *j, const char **ret_sub);

/* The subscription's side of an invoice's outcome (subscriptions.c). `attempted`: the attempt
 * that just ended; the invoice row is already updated. 0, or -1 with r->err. */
int subscription_invoice_paid(struct req *r, struct db *db, const struct invoice *in);
/* The same, paid by PaymentMethod pm (NULL: none known): a subscription with
 * save_default_payment_method=on_subscription takes it as its default_payment_method. */
int subscription_invoice_paid_by(struct req *r, struct db *db, const struct invoice *in,
				 const char *pm);
int subscription_invoice_failed(struct req *r, struct db *db, const struct invoice *in,
				bool give_up);
/* Inside the write of the scheduler's settlement of a bank debit (payments/sepa.c): when pi
 * (now succeeded, or failed back to requires_payment_method) pays an invoice of merchant_id, the
 * invoice's side: paid (invoice.paid, invoice.payment_succeeded, its subscription's), or a
 * failed attempt (invoice.payment_failed, retried on the schedule, its subscription past_due).
 * DB_OK (also for an intent of no invoice), or < 0. */
struct arena;
struct app;
int invoice_debit_settled(struct db *db, struct app *app, struct arena *a, const char *merchant_id,
			  const struct payment_intent *pi, int64_t now);
/* A send_invoice invoice of a subscription still open past its due date (invoice.overdue just
 * emitted): its subscription, when that is its latest invoice and it is active, is past_due. 0,
 * or -1 with r->err. */
int subscription_invoice_overdue(struct req *r, struct db *db, const struct invoice *in);
/* Usage of `customer` (or of one subscription, when given) was reported at t (its clock's
 * time): its active and past_due subscriptions with a billing threshold (their own amount_gte or an
 * item's usage_gte) have their next scheduler step brought forward to t, which checks the
 * thresholds (subscriptions.c, "billing thresholds"). In the report's write. 0, or -1 with r->err.
 */
int subscription_thresholds_due(struct req *r, struct db *db, const char *customer,
				const char *subscription, int64_t t);

/* The time of an invoice's next automatic step (0: none): an open one's next payment attempt,
 * or an auto-advancing draft's finalization (shown as its next_payment_attempt, as on Stripe). */
int64_t invoice_next_step(const struct invoice *in);

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

/* The scheduler's step for one-off invoice `id` of merchant at time t (invoices.c): an
 * auto-advancing draft whose hour is over is finalized, then an open invoice whose next attempt
 * is due is attempted with its customer's default PaymentMethod (none: a failed attempt), in its
 * own writes. 1 done, 0 nothing was due, < 0 failed (SUBSCRIPTION_STEP_AGAIN: the store was
 * overloaded). */
int invoice_advance_step(struct app *app, const char *host, const char *merchant, const char *id,
			 int64_t t);

/* Inside a write: every live subscription of customer canceled now (a test clock's deletion
 * takes its customers with it). 0, or -1 with r->err. */
int subscriptions_cancel_for_customer(struct req *r, struct db *db, const char *customer);
/* The end of an advance: the clock's frozen_time becomes target and its status ready
 * (test_helpers.test_clock.ready), unless it changed meanwhile. 0 or < 0. */
int test_clock_ready(struct app *app, struct store *s, const char *merchant, const char *id,
		     int64_t target);

/* ---- coupons, promotion codes and discounts (coupons.c, promotion_codes.c, discounts.c) ---- */

/* Stripe's bound on the discounts of one object. */
#define DISCOUNTS_MAX 20
/* The longest coupon id a merchant may choose. */
#define COUPON_ID_MAX 200

/* Stripe's currencies: an amount_off coupon's currency_options has at most one entry each */
#define COUPON_CURRENCY_OPTIONS_MAX 135

/*
 * An amount an object has in currencies beside its own (currency_amounts.c): a coupon's
 * currency_options[<currency>][amount_off], a promotion code's
 * restrictions[currency_options][<currency>][minimum_amount]. Sorted by currency, never the
 * object's own; rows made by its create or added by an update, never changed.
 */
#define CURRENCY_AMOUNTS_MAX COUPON_CURRENCY_OPTIONS_MAX
struct currency_amount {
	char currency[8];
	int64_t amount;
};
struct currency_amounts_spec {
	const char *path;	/* the request's dotted path ("restrictions.currency_options") */
	const char *param;	/* its name in errors ("restrictions[currency_options]") */
	const char *field;	/* each entry's amount ("amount_off", "minimum_amount") */
	const char *object;	/* in messages: "coupon", "promotion code" */
	const char *own;	/* the object's own currency, in messages */
	const char *what;	/* what the options give, in messages: "its amount off" */
	const char *sql_list;	/* SELECT currency, amount … merchant $1, owner $2, LIMIT $3 */
	const char *sql_insert; /* (merchant $1, owner $2, currency $3, amount $4, created $5) */
};
/* owner's rows, sorted (r's arena). DB_OK or < 0. */
int currency_amounts_load(struct req *r, struct db *db, const struct currency_amounts_spec *s,
			  const char *owner, const struct currency_amount **ret, int *ret_n);
/* currency's amount among o[0..n) into *ret; false when it has none. */
bool currency_amounts_find(const struct currency_amount *o, int n, const char *currency,
			   int64_t *ret);
/* "currency_options": {<currency>: {<field>: amount}}, own_currency (NULL: none) among them. */
void currency_amounts_render(struct json *j, const char *field, const char *own_currency,
			     int64_t own_amount, const struct currency_amount *o, int n);
/* The request's options at s->path on top of the `stored` ones: each key a known currency other
 * than own_currency, with its field 1 … BILLING_AMOUNT_MAX; a stored one only with the same
 * amount again (an update only adds). *ret / *ret_n: stored and new, sorted; untouched when the
 * request has none (0). 0, or -1 with r->err (Stripe's 400 on the parameter). */
int currency_amounts_parse(struct req *r, const struct currency_amounts_spec *s,
			   const char *own_currency, const struct currency_amount *stored,
			   int n_stored, const struct currency_amount **ret, int *ret_n);
/* Inside the write: o's entries not among `had` are inserted. 0, or -1 with r->err. */
int currency_amounts_insert(struct req *r, struct db *db, const struct currency_amounts_spec *s,
			    const char *owner, const struct currency_amount *had, int n_had,
			    const struct currency_amount *o, int n);

struct coupon {
	char id[COUPON_ID_MAX + 1];
	int64_t created;
	const char *name;
	int64_t percent_e4; /* percent_off × 10,000 (billing.h); 0: an amount_off coupon */
	int64_t amount_off;
	char currency[8];     /* amount_off's */
	const char *duration; /* once, repeating, forever */
	int64_t duration_in_months;
	int64_t max_redemptions, redeem_by; /* 0: none */
	int64_t times_redeemed;
	const char *applies_to; /* JSON array of product ids; NULL: every product */
	const char *metadata;
	bool deleted;
	/* currency_options: sorted by currency, never the coupon's own (r's arena) */
	int n_options;
	const struct currency_amount *options;
};
/* DB_OK (a deleted one too: c->deleted), DB_NOTFOUND, or < 0. */
int coupon_load(struct req *r, struct db *db, const char *id, struct coupon *ret);
/* Can it be redeemed at `now` (real time): not deleted, before redeem_by, under
 * max_redemptions. */
bool coupon_valid(const struct coupon *c, int64_t now);
/* Can it take something off in `currency`: a percent_off coupon in any, an amount_off one in its
 * own currency or one of its currency_options (NULL: none). *ret_amount_off (may be NULL): the
 * amount off in that currency (0 for a percent_off coupon, or when it cannot). */
bool coupon_amount_in(const struct coupon *c, const char *currency, int64_t *ret_amount_off);
/* Does it apply to a line of product `product` (NULL: a line without one)? */
bool coupon_applies_to(const struct coupon *c, const char *product);
/* Renders it (prefix: where it sits for expand[]: applies_to; NULL: an event's object). */
void coupon_render(struct req *r, const struct coupon *c, const char *prefix, struct json *j);

struct promotion_code {
	char id[ID_MAX];
	int64_t created;
	const char *code, *coupon, *customer, *metadata;
	bool active, first_time_transaction;
	int64_t expires_at, max_redemptions, times_redeemed; /* 0: none */
	bool has_minimum;
	int64_t minimum_amount;
	char minimum_amount_currency[8];
	/* the minimum in other currencies (never minimum_amount_currency), sorted; r's arena */
	int n_options;
	const struct currency_amount *options;
};
/* The minimum a purchase in `currency` must reach to redeem it: minimum_amount in its currency,
 * an option's in another. false: it has no minimum for that currency (none at all: *ret 0). */
bool promotion_code_minimum_in(const struct promotion_code *p, const char *currency, int64_t *ret);
int promotion_code_load(struct req *r, struct db *db, const char *id, struct promotion_code *ret);
/* The active promotion code whose code is `code` (whatever its case): DB_OK, DB_NOTFOUND, < 0. */
int promotion_code_find(struct req *r, struct db *db, const char *code, struct promotion_code *ret);

/* One discount: a coupon applied (through a promotion code or not) to a subscription, an
 * invoice or an invoice item. id "" while it is only about to be made (discounts_resolve). */
struct discount {
	char id[ID_MAX];
	struct coupon coupon;
	char promotion_code[ID_MAX]; /* "" none */
	const char *customer, *subscription, *invoice, *invoice_item, *checkout_session;
	const char *subscription_item; /* a subscription item's own (subscription: its) */
	int64_t start, end;	       /* end 0: none */
	bool ended;
};
int discount_load(struct req *r, struct db *db, const char *id, struct discount *ret);
/* Renders it; deleted: Stripe's deleted_discount (DELETE …/discount, its event). */
void discount_render(struct req *r, const struct discount *d, bool deleted, struct json *j);
/* A JSON array of discount ids, rendered as ids or (expand) as discount objects. */
int discounts_render_ids(struct req *r, struct db *db, const char *ids_json, bool expand,
			 struct json *j);

/* A request's discounts: discounts[n][coupon | promotion_code | discount], or (legacy) the
 * single coupon / promotion_code parameters. present: the request names them (replace what
 * the object had; n 0: remove them all, discounts=''). */
struct discount_spec {
	bool present;
	int n;
	struct {
		const char *coupon, *promotion_code, *discount;
		const char *shown; /* its parameter's name in errors */
	} e[DISCOUNTS_MAX];
};
/* Reads `param` (and, with legacy, coupon and promotion_code). 0, or -1 with r->err. */
int discount_spec_parse(struct req *r, const char *param, bool legacy, struct discount_spec *ret);
/* An object's discounts[] at dotted `path` (an item's: items.0.discounts), named in errors as
 * the request names them (items[0][discounts][1][coupon]), into *ret (r's arena; NULL: not
 * given). 0, or -1 with r->err. */
int discount_spec_parse_at(struct req *r, const char *path, const struct discount_spec **ret);

/* What a spec's discounts will be for an object of customer `customer` in `currency` whose
 * amount (for promotion codes' minimum_amount) is `amount`, made at `t` (the object's time):
 * each coupon or promotion code checked (it exists, can be redeemed now, fits the currency and
 * the code's restrictions), each `discount` one of `keep_sub`'s own (subscription updates
 * keep theirs this way), no coupon twice. ret: DISCOUNTS_MAX entries; new ones have id "". 0,
 * or -1 with r->err naming the parameter. */
int discounts_resolve(struct req *r, struct db *db, const struct discount_spec *spec,
		      const char *customer, const char *currency, int64_t amount,
		      const char *keep_sub, int64_t t, struct discount *ret, int *ret_n);

/* What a set of discounts is attached to. */
enum discount_parent {
	DISCOUNT_SUBSCRIPTION,
	DISCOUNT_INVOICE,
	DISCOUNT_INVOICE_ITEM,
	DISCOUNT_CHECKOUT_SESSION,
	DISCOUNT_CUSTOMER,	   /* the customer's own (customers.c): none of the others named */
	DISCOUNT_SUBSCRIPTION_ITEM /* one item's (its subscription named too) */
};
/* Inside the write: parent's discounts become ds (in order): the ones it had and ds does not
 * keep end, the new ones are made, each redeeming its coupon and promotion code (counted, and
 * refused when their limits were reached meanwhile); a subscription's appear in
 * customer.discount.created / .deleted. ds's ids are set. ret_ids: the JSON array of their ids
 * (r's arena; may be NULL). 0, or -1 with r->err. */
int discounts_attach(struct req *r, struct db *db, enum discount_parent kind, const char *parent,
		     const char *customer, int64_t t, struct discount *ds, int n,
		     const char **ret_ids);
/* The discounts a subscription's invoice made at t takes: its discounts not ended, a repeating
 * one only before its end; when it has none, its customer's discount (Stripe: a subscription
 * without discounts of its own inherits the customer's). ret: DISCOUNTS_MAX entries. 0 or < 0. */
int subscription_discounts(struct req *r, struct db *db, const char *sub, int64_t t,
			   struct discount *ret, int *ret_n);
/* Inside the write of a subscription's invoice at t: its discounts whose time is over
 * (repeating ones at their end) end, with customer.discount.deleted; its customer's too. 0, or
 * -1 with r->err. */
int subscription_discounts_expire(struct req *r, struct db *db, const char *sub, int64_t t);
/* ---- a customer's own discount (discounts.c; customers.c calls these) ---- */
/* The customer's discount that an invoice made at t takes (live, before its end): DB_OK,
 * DB_NOTFOUND (none), or < 0. */
int customer_discount_get(struct req *r, struct db *db, const char *customer, int64_t t,
			  struct discount *ret);
/* Inside a customer's write: `coupon` / `promotion_code` (Stripe's customer parameters; "" removes
 * it) checked and redeemed as the customer's one discount at t, replacing the one it had;
 * customer.discount.created / updated / deleted. Nothing when neither is sent. ret_changed (may be
 * NULL): whether it changed. 0, or -1 with r->err. */
int customer_discount_params(struct req *r, struct db *db, const char *customer, int64_t t,
			     bool *ret_changed);
/* DELETE /v1/customers/{id}/discount, inside its write: the discount ends
 * (customer.discount.deleted) and is the answer, deleted. 0, or -1 with r->err (404 when it has
 * none). */
int customer_discount_remove(struct req *r, struct db *db, const char *customer, int64_t t);
/* The customer's live discount rendered as JSON (arena a), or NULL when it has none; for the
 * customer object's `discount` (customers.c renders without a request). DB_OK or < 0. */
int customer_discount_json(struct arena *a, const char *merchant_id, struct db *db,
			   const char *customer, const char **ret);

/* DELETE /v1/subscriptions/{id}/discount, inside its write: every discount of sub ends; the
 * answer is the first, deleted. 0, or -1 with r->err (404 when it has none). */
int subscription_discounts_remove(struct req *r, struct db *db, const char *sub, int64_t t);
/* The discounts subscription item `item`'s invoice lines made at t take first (before its
 * subscription's or customer's): its own not ended, a repeating one only before its end. ret:
 * DISCOUNTS_MAX entries. DB_OK or < 0. */
int subscription_item_discounts(struct req *r, struct db *db, const char *item, int64_t t,
				struct discount *ret, int *ret_n);
/* Inside the write: item `item` of subscription `sub` has discounts ds (n, resolved with the
 * item's id as keep_sub; n 0: none, as when the item is deleted), as discounts_attach makes
 * them, with customer.discount.created / .deleted. ret_ids as discounts_attach's. 0, or -1
 * with r->err. */
int subscription_item_discounts_set(struct req *r, struct db *db, const char *sub, const char *item,
				    const char *customer, int64_t t, struct discount *ds, int n,
				    const char **ret_ids);
/* The JSON array of the ids of item `item`'s live discounts (r's arena), for its object's
 * `discounts`. DB_OK or < 0. */
int subscription_item_discount_ids(struct req *r, struct db *db, const char *item,
				   const char **ret);

/* One line of an invoice as discounts see it, in the invoice's order (its invoice items by id,
 * then its subscription's lines). */
struct inv_line {
	char id[ID_MAX];
	int64_t amount;
	bool discountable;
	const char *product; /* NULL: none */
	int n_own;
	struct discount *own; /* an invoice item's own discounts, applied first */
	/* the tax rates taken on what is left of it after discounts: its own (tax_own: an invoice
	 * item's or subscription item's) or its invoice's defaults */
	int n_tax;
	const struct tax_rate *tax;
	bool tax_own;
	/* what Stripe Tax takes for it (invoice_lines_auto_tax_at): an invoice item's own
	 * tax_behavior and tax_code (NULL: the merchant's default behaviour, its product's code) */
	const char *tax_behavior, *tax_code;
	/* a draft's line's own tax_amounts (invoice_lines_edit.c), taken as they are instead of
	 * its rates' (n_fixed 0: none) */
	int n_fixed;
	const struct invoice_tax_entry *fixed;
	/* an itemized proration's discounts (its invoice item's pd_amounts): what each takes off
	 * it, as computed when it was made, taken before anything else (n_pd 0: none) */
	int n_pd;
	const struct discount *pd;
	const int64_t *pd_amount;
};
/* Line l's itemized proration discounts from item ii (nothing unless ii->pd_mode is
 * "itemized"). 0, or -1 (a discount unknown, out of memory). */
int inv_line_proration_discounts(struct req *r, struct db *db, const struct invoice_item *ii,
				 struct inv_line *l);
/* Item `item`'s line's own tax_amounts on invoice `invoice` (invoice_lines_edit.c) into l->fixed
 * and l->n_fixed (r's arena). DB_OK or < 0. */
int invoice_item_tax_amounts_load(struct req *r, struct db *db, const char *item,
				  const char *invoice, struct inv_line *l);
/* Stripe's rule for a draft some of whose lines have tax_amounts, checked by every write that
 * changes its lines or its taxes: no line with tax rates, no default_tax_rates, no automatic
 * tax. shown: the parameter a refusal names. 0, or -1 with r->err (400). */
int invoice_tax_amounts_allowed(struct req *r, struct db *db, const struct invoice *in,
				const char *shown);
/* The sequence customer's next invoice number takes: one more than its numbered invoices, plus
 * offset (what next_invoice_sequence moved it by, customers.c). DB_OK or < 0. */
int invoice_sequence_next(struct db *db, const char *merchant_id, const char *customer,
			  int64_t offset, int64_t *ret);
/* product's tax_code (NULL: none, or no such product) into *ret (r's arena). DB_OK or < 0. */
int product_tax_code(struct req *r, struct db *db, const char *product, const char **ret);
/* The lines of invoice items `ids` (stored), with their own discounts and products. */
int invoice_item_lines_load(struct req *r, struct db *db, char (*ids)[ID_MAX], int n,
			    struct inv_line *out);
/* An invoice's lines as discounts see them, in its order: the pending items p (stored, with their
 * own discounts) and the prorations pr (not stored yet) by id, then the period's lines (n_period,
 * as given). ret: r's arena. 0, or -1 with r->err. */
int invoice_lines_plan(struct req *r, struct db *db, const struct pending_items *p,
		       const struct invoice_item *pr, int n_pr, const struct inv_line *period,
		       int n_period, struct inv_line **ret, int *ret_n);
/* What discounts took from an invoice's lines, computed and not stored (a preview's):
 * line_amounts[i] the JSON array of line i's ({amount, discount}), total_discount_amounts the
 * sums, subtotal and total as invoice_discounts_apply would set them. */
struct invoice_discounts_result {
	const char **line_amounts;
	const char *total_discount_amounts;
	int64_t subtotal, total;
	/* the taxes: line i's (line_taxes[i], n_line_taxes[i] entries) and the invoice's */
	struct invoice_tax_entry (*line_taxes)[BILLING_TAX_RATES_MAX];
	int *n_line_taxes;
	struct invoice_tax_totals *taxes;
};
int invoice_discounts_compute(struct req *r, const char *currency, struct inv_line *lines, int n,
			      const struct discount *inv, int n_inv,
			      struct invoice_discounts_result *ret);
/* The same with billing credits: credits[i] (at most what line i's discounts leave of it) comes
 * off line i after its discounts and before its taxes, as Stripe's pretax credits do (NULL: none);
 * the total is lowered by them and by the taxes they spare. */
int invoice_discounts_compute_credited(struct req *r, const char *currency, struct inv_line *lines,
				       int n, const struct discount *inv, int n_inv,
				       const int64_t *credits,
				       struct invoice_discounts_result *ret);
/* What invoice in's lines come to after their discounts and before taxes (what billing credits
 * may take at most). Reads only. 0, or -1 with r->err. */
int invoice_pretax_total(struct req *r, struct db *db, const struct invoice *in, int64_t *ret);
/* Credits cr on invoice in's lines: *ret_drop what its total falls by (the credits, and the
 * taxes of what they took: each line's taxes are on its amount after discounts and credits).
 * write: inside its finalizing write, its lines' stored taxes become those after the credits
 * (the caller lowers in->total). 0, or -1 with r->err. */
int invoice_credits_taxes(struct req *r, struct db *db, struct invoice *in,
			  const struct invoice_line_credits *cr, bool write, int64_t *ret_drop);
/* Lines' total before and after discounts `inv` (the invoice-level ones, in order, after each
 * line's own) and billing credits (credits[i] off line i, pretax; NULL: none); ret_left (n of
 * them; NULL: not wanted): what the discounts left of each line. 0, or -1 with r->err. */
int invoice_discount_total(struct req *r, const char *currency, struct inv_line *lines, int n,
			   const struct discount *inv, int n_inv, const int64_t *credits,
			   int64_t *ret_left, int64_t *ret_subtotal, int64_t *ret_total);
/* Whether customer has grants in currency in effect at now (billing_credits.c): *ret. 0, or -1
 * with r->err. */
int invoice_credits_any(struct req *r, struct db *db, const char *customer, const char *currency,
			int64_t now, bool *ret);
/* Before an invoice's write (billing_credits.c): what the grants of customer in currency in
 * effect at now would pay of its planned lines, in the order the invoice will have them
 * (prices[i]: line i's price, NULL: none; left[i]: what its discounts leave of it), as its
 * finalization will take them (invoice_credits_apply), never more than room in all: into
 * ret_credits[i]. Reads only. 0, or -1 with r->err. */
int invoice_credits_plan(struct req *r, struct db *db, const char *customer, const char *currency,
			 int64_t now, int n, const char *const *prices, const int64_t *left,
			 int64_t room, int64_t *ret_credits);
/* Inside a write: invoice in's discounts computed from what it holds now (its stored
 * subscription lines, the invoice items on it and their own discounts, the discounts it
 * names): what each took from each line is stored (replacing a draft's), and in->subtotal,
 * in->total and in->total_discount_amounts are set (the caller saves the row). 0, or -1 with
 * r->err. */
int invoice_discounts_apply(struct req *r, struct db *db, struct invoice *in);
/* The same computation read only (nothing stored): the total in would have with its lines as
 * in->lines holds them. 0, or -1 with r->err. */
int invoice_discounts_total(struct req *r, struct db *db, const struct invoice *in,
			    int64_t *ret_total);
/* Inside the write that finalizes an invoice: the `once` discounts of its subscription or of its
 * customer that took something are used up (ended, customer.discount.deleted). 0, or -1 with
 * r->err. */
int invoice_discounts_used(struct req *r, struct db *db, const struct invoice *in, int64_t t);
/* What one discount took from a line (an invoice's, a credit note's). */
struct discount_amount {
	char discount[ID_MAX];
	int64_t amount;
};
/* The most discounts one line carries (its own and its invoice's). */
#define LINE_DISCOUNTS_MAX (2 * DISCOUNTS_MAX)
/* What each discount took from line `line` of invoice `invoice`, as stored, in the order they
 * were applied: up to LINE_DISCOUNTS_MAX entries in out[]. DB_OK (*ret_n set), or < 0. */
int invoice_line_discounts_load(struct req *r, struct db *db, const char *invoice, const char *line,
				struct discount_amount *out, int *ret_n);
/* [{amount, discount}] of n entries */
void discount_amounts_render(const struct discount_amount *e, int n, struct json *j);
/* A line's discount_amounts ([{amount, discount}]) as stored for invoice `invoice`. */
int invoice_line_discounts_render(struct req *r, struct db *db, const char *invoice,
				  const char *line, struct json *j);

/* ---- tax rates (tax_rates.c; the arithmetic in billing/tax.h) ---- */

struct tax_rate {
	char id[ID_MAX];
	int64_t created;
	int64_t percent_e4; /* percent × 10,000 (billing/tax.h) */
	bool inclusive, active;
	const char *display_name, *country, *state, *jurisdiction, *description, *tax_type;
	const char *metadata;
	/* made by Stripe Tax for a jurisdiction (invoice_lines_auto_tax), stored by the invoice's
	 * write (tax_rate_auto_store) */
	bool automatic;
};
/* DB_OK, DB_NOTFOUND, or < 0. */
int tax_rate_load(struct req *r, struct db *db, const char *id, struct tax_rate *ret);
void tax_rate_render(const struct tax_rate *t, struct json *j);
/* Reads form parameter `param` (a path: "items.0.tax_rates"). 0, or -1 with r->err. */
int tax_rate_spec_parse(struct req *r, const char *param, const char *shown,
			struct tax_rate_spec *ret);
/* Inside a write: owner's (an invoice item, invoice, subscription or subscription item id)
 * rates become s's, each one of r's merchant (else 404) and active unless owner had it already
 * (an archived rate is not newly applied). Nothing when !s->present. 0, or -1 with r->err. */
int tax_links_set(struct req *r, struct db *db, const char *owner, const struct tax_rate_spec *s);
/* owner's rates in order (ret: BILLING_TAX_RATES_MAX entries). DB_OK or < 0. */
int tax_links_load(struct req *r, struct db *db, const char *owner, struct tax_rate *ret,
		   int *ret_n);
/* Inside a write: `to` gets from's rates as they are (a subscription's defaults become its new
 * invoice's). 0, or -1 with r->err. */
int tax_links_copy(struct req *r, struct db *db, const char *from, const char *to);
/* owner's rates as a JSON array of tax_rate objects. DB_OK or < 0. */
int tax_links_render(struct req *r, struct db *db, const char *owner, struct json *j);

/* Renders entries as a JSON array: the spec's invoice_tax_amount objects (tax_amounts), or with
 * newer the newer API's (taxes: tax_behavior, tax_rate_details). */
void invoice_tax_entries_render(const struct invoice_tax_entry *e, int n, bool newer,
				struct json *j);
/* Line `line` of invoice `invoice` as stored (invoice_tax_amounts). ret_own: the rates are the
 * line's own (not the invoice's defaults). DB_OK or < 0. */
int invoice_line_taxes_load(struct req *r, struct db *db, const char *invoice, const char *line,
			    struct invoice_tax_entry *ret, int *ret_n, bool *ret_own);
/* Renders a line's keys "tax_amounts" and "taxes" (entries e) and "tax_rates" (owner's rates: the
 * invoice item or subscription item of the line; NULL: none) into the open object j. */
void invoice_line_taxes_keys(struct req *r, struct db *db, const struct invoice_tax_entry *e, int n,
			     const char *owner, struct json *j);
/* The same, its entries as stored for line `line` of invoice `invoice`. DB_OK or < 0. */
int invoice_line_taxes_render(struct req *r, struct db *db, const char *invoice, const char *line,
			      const char *owner, struct json *j);
/* The same keys as a JSON fragment (no braces) in r's arena, to splice into a stored line;
 * NULL when out of memory. */
const char *invoice_line_taxes_json(struct req *r, struct db *db, const struct invoice_tax_entry *e,
				    int n, const char *owner);
/* The invoice's taxes as stored. DB_OK or < 0. */
int invoice_tax_totals_load(struct req *r, struct db *db, const char *invoice,
			    struct invoice_tax_totals *ret);
/* Line l's own rates: those spec s names when it is present (a create's or change's, before
 * its write), else owner's (an invoice item or subscription item id); in r's arena; l->tax_own
 * when it has some. 0, or -1 with r->err. */
int invoice_line_tax_own(struct req *r, struct db *db, const char *owner,
			 const struct tax_rate_spec *s, struct inv_line *l);
/* Gives each of n lines without rates of their own the invoice's defaults: those s names when
 * it is present, else owner's (an invoice's or a subscription's default_tax_rates; NULL: none),
 * before the invoice computation. 0, or -1 with r->err. */
int invoice_lines_tax_defaults(struct req *r, struct db *db, const char *owner,
			       const struct tax_rate_spec *s, struct inv_line *lines, int n);

/* ---- automatic tax (invoices.c; the engine in tax/engine.h) ---- */
/* Where customer is for Stripe Tax at time t and what the merchant collects there: *ret_ctx
 * (pointing into r's arena), the merchant's default tax_behavior (*ret_behavior, "" when
 * unset; may be NULL) and *ret_located (false: no address, or not a location;
 * Stripe's requires_location_inputs). 0, or -1 with r->err. */
struct tax_context;
int invoice_auto_tax_place(struct req *r, struct db *db, const char *customer, int64_t t,
			   struct tax_context *ret_ctx, bool *ret_located,
			   const char **ret_behavior);
/* Gives each of n lines the taxes Stripe Tax levies at customer's location (as tax rates the
 * invoice computation takes, billing_tax_line's arithmetic), with the merchant's default
 * tax_behavior. Lines with tax rates of their own or the invoice's defaults: 400 (Stripe
 * refuses both). An unlocatable customer leaves the lines untaxed, *ret_located false (may be
 * NULL). 0, or -1 with r->err. */
int invoice_lines_auto_tax(struct req *r, struct db *db, const char *customer, int64_t t,
			   struct inv_line *lines, int n, bool *ret_located);
/* The same two at address (Stripe's address hash as JSON) instead of the customer's own: a
 * Checkout Session's buyer, or a customer a checkout is about to make or update. customer may be
 * NULL (a guest) or not yet exist; when it exists its tax_exempt and eu_vat id count. */
int invoice_auto_tax_place_at(struct req *r, struct db *db, const char *customer,
			      const char *address, int64_t t, struct tax_context *ret_ctx,
			      bool *ret_located, const char **ret_behavior);
int invoice_lines_auto_tax_at(struct req *r, struct db *db, const char *customer,
			      const char *address, int64_t t, struct inv_line *lines, int n,
			      bool *ret_located);
/* Inside an invoice's write: the automatic rate t as a tax_rates row (once). 0, or -1 with
 * r->err. */
int tax_rate_auto_store(struct req *r, struct db *db, const struct tax_rate *t);
/* Renders an invoice's or subscription's "automatic_tax" key into the open object j. */
void billing_automatic_tax_render(bool enabled, const char *status, struct json *j);

/* ---- invoice lines (invoices.c) ---- */
/* The top-level elements of a stored JSON array (an invoice's lines), at most max. */
int invoice_lines_split(const char *s, const char **items, size_t *lens, int max);
/* Renders a stored subscription line (len bytes, with "discount_amounts":[]) with that array
 * replaced by `amounts` (a JSON array; NULL: left empty). 0 or -1. */
int invoice_line_render_with_amounts(const char *line, size_t len, const char *amounts,
				     struct json *j);
/* Renders a stored subscription line with `amounts` as above and its taxes: its "taxes":[]
 * replaced by the keys tax_amounts, tax_rates (its subscription item's) and taxes of entries
 * e (n). 0 or -1. */
int invoice_line_render_spliced(struct req *r, struct db *db, const char *line, size_t len,
				const char *amounts, const struct invoice_tax_entry *e, int n,
				struct json *j);

/* ---- previews of an invoice to come (invoice_preview.c; subscriptions.c a subscription's) ----
 * Everything is read, nothing is written. */
struct invoice_preview {
	/* its header (a draft, not numbered); in.lines: its period's lines (a JSON array whose
	 * discount_amounts are filled when it is rendered) */
	struct invoice in;
	int64_t t;		       /* when it would be made: its discounts are those of then */
	struct pending_items pending;  /* the customer's pending items it takes */
	const struct invoice_item *pr; /* a change's prorations (not stored) */
	int n_pr;
	struct inv_line *period; /* its period's lines as discounts see them */
	int n_period;
};
struct sub_preview_req {
	const char *subscription;
	const char *invoice_id;	   /* the preview's id */
	struct sub_change *change; /* NULL: the subscription as it is */
	int cancel_at_period_end;  /* -1: as it is, else 0 / 1 */
	bool cancel_now;	   /* canceled now: Tender invoices nothing for that */
	/* subscription_cancel_at: set (cancel_at_set; 0 unsets it), with its proration (false:
	 * proration_behavior=none) */
	bool cancel_at_set, cancel_at_prorate;
	int64_t cancel_at;
	const char *cancel_at_shown; /* its name in errors */
	bool recurring;		     /* preview_mode=recurring: its period's lines alone */
	/* `schedule`: its subscription's next invoice with the phase in force at its renewal */
	const char *schedule;
};
/* Inside a read: subscription schedule id's subscription (*ret_sub) while it is active, for a
 * preview of its next invoice (subscription_schedules.c). DB_OK, DB_NOTFOUND, 1 when it has not
 * started, 2 when it manages none any more (released, canceled, completed), or < 0. */
int subscription_schedule_preview_sub(struct req *r, struct db *db, const char *id,
				      const char **ret_sub);
/* Inside a read: the phase of schedule id in force at `at` for its subscription sub. 0 when
 * sub's items are that phase's already (or it is released by then), 1 with c the change to its
 * items (n, ch[], proration_behavior; c->subscription left as set) and *ret_start the phase's
 * start, 2 when the schedule cancels sub before `at`; -1 with r->err. */
int subscription_schedule_phase_at(struct req *r, struct db *db, const char *id, const char *sub,
				   int64_t at, struct sub_change *c, int64_t *ret_start);
/* The invoice subscription q->subscription makes next: with a change, the invoice the change
 * makes at once (always_invoice, a new interval), else its next period's with the change's
 * prorations; without one, its next period's (its renewal, or its trial's end). Read only,
 * through the same computations as the change and the renewal. 0; 1 when it makes no invoice
 * (canceled or canceled now, ending, paused; r->err not set); -1 with r->err. */
int subscription_preview(struct req *r, struct db *db, const struct sub_preview_req *q,
			 struct invoice_preview *ret);
/* Inside a read or write: the invoice subscription `subscription` makes next, rendered into j
 * as GET /v1/invoices/upcoming?subscription=… answers it (invoice_preview.c; its id is the
 * preview's). 0; 1 when it makes none (r->err then set: the caller clears it); -1 with r->err. */
int invoice_preview_upcoming(struct req *r, struct db *db, const char *subscription,
			     struct json *j);

/* A preview of a subscription still to be made (subscription_details[items] or
 * subscription_items without `subscription`): its parameters as the create takes them, each
 * named by the preview's own parameter in errors (*_shown). */
struct sub_new_preview_req {
	const char *customer;
	const char *currency;		 /* NULL: its items' */
	const char *items, *items_shown; /* the items' parameter: dotted, and as errors name it */
	int64_t start_date;		 /* 0: now; later: made then; earlier: backdated */
	const char *start_shown;
	const char *trial_end; /* "now" or a timestamp (NULL: none) */
	const char *trial_end_shown;
	bool trial_from_plan;
	int64_t anchor; /* billing_cycle_anchor (0: none) */
	const char *anchor_shown;
	bool prorate_none; /* proration_behavior=none: a partial first period bills nothing */
	const struct tax_rate_spec *default_tax; /* NULL or not present: none */
	bool automatic_tax;
	const char *tax_address;	  /* Stripe Tax's place (NULL: the customer's) */
	const struct discount_spec *spec; /* `discounts` (NULL: none given) */
	const char *invoice_id;		  /* the preview's id */
	/* create_preview's schedule_details[phases]: the first phase of a new schedule, as the
	 * subscription it makes (subscription_schedule_new_preview); the fields above but
	 * customer, tax_address and invoice_id are then not read */
	bool schedule;
};
/* Inside a read: the first invoice q's subscription would make if it were created now (or at
 * q->start_date), through the create's own planning and its first invoice's build; ds
 * (DISCOUNTS_MAX entries) and *ret_n_ds the discounts it takes. Nothing is written. 0, or -1
 * with r->err (the create's refusals). */
int subscription_new_preview(struct req *r, struct db *db, const struct sub_new_preview_req *q,
			     struct invoice_preview *ret, struct discount *ds, int *ret_n_ds);

/* An active subscription schedule's cancel with `prorate` / `invoice_now` (Stripe's defaults for
 * it: true): its subscription `sub` canceled as DELETE /v1/subscriptions/{id} cancels it with
 * them (the credit, the final invoice and its payment), the schedule `schedule` canceled in the
 * same write (which it must still manage), and answered. 0, or -1 with r->err. */
int subscription_cancel_prorated_for_schedule(struct req *r, const char *sub, const char *schedule,
					      bool prorate, bool invoice_now);

/* ---- quotes (quotes.c) and what they ask of invoices.c ---- */

/* Inside a write: a one-off draft invoice of in->customer (POST /v1/invoices' create, whose
 * answer it does not render): in->id (kept when set, else made), currency (NULL: the
 * customer's, else its oldest pending item's, else usd), include: the customer's pending items
 * taken, spec: its discounts (not present: the customer's own discount), in->auto_advance,
 * description and metadata as the caller set them; invoice.created. 0, or -1 with r->err. */
int invoice_draft_create(struct req *r, struct db *db, struct invoice *in, const char *currency,
			 bool include, const struct discount_spec *spec);
/* What coupons (in order, each on what the previous left) take off n lines of amounts (each of
 * product products[i], NULL: none): percentages per line, amounts off spread
 * (billing_discount_lines), only on lines of products a coupon applies to. ret_line_discounts
 * (n entries) and the total. 0, or -1 on bad input (n above 20, an amount out of range). */
int quote_discount_lines(const int64_t *amounts, const char *const *products, int n,
			 const struct coupon *coupons, int n_coupons, int64_t *ret_line_discounts,
			 int64_t *ret_total_discount);

/* ---- legacy metered billing: usage records (usage_records.c) ---- */

/* What a usage record needs of subscription item `id` (subscriptions.c): its subscription
 * (status, time, current period, latest invoice) and whether its price is metered, backed by a
 * billing meter or billed from usage records with aggregate_usage. Strings in r's arena.
 * DB_OK, DB_NOTFOUND (not an item of the merchant's), or < 0. */
struct sub_item_usage {
	const char *subscription, *status, *test_clock, *latest_invoice;
	int64_t period_start, period_end;
	int64_t usage_since; /* it came by a change during its period: its usage counts from then */
	bool metered;
	const char *meter, *aggregate_usage;
};
int subscription_item_usage_facts(struct req *r, struct db *db, const char *id,
				  struct sub_item_usage *out);
/* Inside a transaction: subscription item `item`'s usage records aggregated over [start, end)
 * by aggregate_usage (NULL: sum; last_ever reads the records before start too) into *ret, and
 * *overflow when it does not fit int64. DB_OK or < 0. */
int usage_records_total(struct db *db, const char *merchant_id, const char *item,
			const char *aggregate_usage, int64_t start, int64_t end, int64_t *ret,
			bool *overflow);

#endif
