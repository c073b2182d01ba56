/* The API resources: their route tables (listed in routes.c) and the renderers other resources
 * use for expand[]. */
#ifndef TENDER_API_RESOURCES_H
#define TENDER_API_RESOURCES_H

#include "billing/transform.h"
#include "http/req.h"
#include "http/router.h"

extern const struct route customers_routes[];
extern const struct route balance_routes[];
extern const struct route events_routes[];
extern const struct route exchange_rates_routes[];
extern const struct route health_routes[];
extern const struct route payment_intents_routes[];
extern const struct route charges_routes[];
extern const struct route refunds_routes[];
extern const struct route balance_transactions_routes[];
extern const struct route payment_methods_routes[];
extern const struct route webhook_endpoints_routes[];
extern const struct route disputes_routes[];
extern const struct route setup_intents_routes[];
extern const struct route mandates_routes[];
extern const struct route redirect_page_routes[];
extern const struct route mandate_page_routes[];
extern const struct route microdeposit_page_routes[];
extern const struct route bank_transfer_page_routes[];
extern const struct route products_routes[];
extern const struct route plans_routes[];
extern const struct route payouts_routes[];
extern const struct route balance_settings_routes[];
extern const struct route topups_routes[];
extern const struct route apps_secrets_routes[];
extern const struct route identity_routes[];
extern const struct route identity_page_routes[];
extern const struct route financial_connections_routes[];
extern const struct route financial_connections_txn_routes[];
extern const struct route financial_connections_page_routes[];
extern const struct route transfers_routes[];
extern const struct route application_fees_routes[];
extern const struct route payment_links_routes[];
extern const struct route checkout_routes[];
extern const struct route shipping_rates_routes[];
extern const struct route country_specs_routes[];
extern const struct route payment_method_domains_routes[];
extern const struct route payment_method_configurations_routes[];
/* 0 when id is one of r's merchant's active payment method configurations (a read of its own,
 * before the caller's write), else -1 with r->err: Stripe's 404 (param
 * payment_method_configuration), or a 400 for an inactive one. payment_method_configurations.c */
int payment_method_configuration_known(struct req *r, const char *id);
/* Shipping rates (shipping_rates.c), for Checkout Sessions' shipping_options: what a session
 * needs of one (display_name: r's arena). */
struct shipping_rate_facts {
	char id[ID_MAX];
	bool active;
	int64_t amount;
	char currency[8];
	const char *display_name;
};
/* Rate id of r's merchant; DB_OK, DB_NOTFOUND or < 0. */
int shipping_rate_get(struct req *r, struct db *db, const char *id,
		      struct shipping_rate_facts *ret);
/* Inside a write: a rate made from the request's shipping_rate_data at prefix (dotted,
 * "shipping_options.0.shipping_rate_data."; shown: its name in errors), as POST
 * /v1/shipping_rates makes one. 0, or -1 with r->err. */
int shipping_rate_create_inline(struct req *r, struct db *db, const char *prefix, const char *shown,
				struct shipping_rate_facts *ret);
/* The parameters of a shipping rate (POST /v1/shipping_rates, shipping_rate_data). */
extern const struct param_spec shipping_rate_data_params[];
extern const struct route accounts_routes[];
extern const struct route external_accounts_routes[];
extern const struct route account_links_routes[];
extern const struct route persons_routes[];
extern const struct route login_links_routes[];
extern const struct route account_sessions_routes[];
extern const struct route billing_search_routes[];
extern const struct route subscriptions_routes[];
extern const struct route invoices_routes[];
extern const struct route invoice_payments_routes[];
extern const struct route invoice_preview_routes[];
extern const struct route invoice_items_routes[];
extern const struct route invoice_lines_edit_routes[];
/* an invoice item's price_data (a one-time price made inline: currency, product, unit_amount
 * or unit_amount_decimal, tax_behavior), which a subscription's add_invoice_items take too */
extern const struct param_spec invoice_item_price_data_params[];
extern const struct route subscription_items_routes[];
extern const struct route subscription_schedules_routes[];
extern const struct route test_clocks_routes[];
extern const struct route sources_routes[];
extern const struct route sources_api_routes[];
extern const struct route setup_attempts_routes[];
extern const struct route customer_balance_routes[];
extern const struct route cash_balance_routes[];
extern const struct route tax_ids_routes[];
extern const struct route coupons_routes[];
extern const struct route tax_rates_routes[];
extern const struct route tax_routes[];
extern const struct route radar_routes[];
extern const struct route confirmation_tokens_routes[];
extern const struct route ephemeral_keys_routes[];
extern const struct route entitlements_routes[];
extern const struct route billing_meters_routes[];
extern const struct route billing_alerts_routes[];
extern const struct route billing_credits_routes[];
extern const struct route usage_records_routes[];
/* Inside a write of r's merchant: value (a card fingerprint, item_type "card_fingerprint", or an
 * email, "email") goes into the merchant's default block list of that type, Stripe's
 * `card_fingerprint_blocklist` or `email_blocklist`, which Stripe's default rules read; the list
 * is made first when the merchant has none of that alias. A value already listed, one the list's
 * type does not take, a list of that alias of another type, or a full list is left alone. A
 * refund with reason `fraudulent` does it, as on Stripe. 0, or -1 with r->err. */
int radar_block_default(struct req *r, struct db *db, const char *item_type, const char *value);
extern const struct route promotion_codes_routes[];
extern const struct route billing_portal_routes[];
extern const struct route quotes_routes[];
/* The hosted invoice page (invoice_page.c): /invoice/{merchant}/{secret}. */
extern const struct route invoice_page_routes[];
/* Its pure checks (invoice_page.c): a page secret's shape (VAULT_PAGE_TOKEN_LEN base62
 * characters), an account id's (letters, digits, '_', shorter than ID_MAX), and a time as
 * YYYY-MM-DD in UTC into out (0, or -1 with out "" when it does not fit or t < 0). */
bool invoice_page_token_ok(const char *s);
bool invoice_page_account_ok(const char *s);
int invoice_page_date(int64_t t, char *out, size_t n);
extern const struct route credit_notes_routes[];
extern const struct route files_routes[];
extern const struct route reporting_routes[];
/* Stripe Terminal: locations, configurations, connection tokens (terminal.c); readers, their
 * actions and the simulated reader's test helper (terminal_readers.c) */
/* Stripe Issuing: cardholders, cards, the card shipping test helpers (issuing.c) */
extern const struct route issuing_routes[];
/* Stripe Issuing: authorizations, transactions and their test helpers (issuing_authorizations.c) */
extern const struct route issuing_spend_routes[];
/* An Issuing authorization, transaction or dispute by id (iauth_, ipi_, idp_), for a balance
 * transaction's expanded source: DB_OK, DB_NOTFOUND or < 0. */
int issuing_spend_render_id(struct req *r, struct db *db, const char *id, struct json *j);
/* Stripe Treasury: financial accounts, received credits and debits, transactions (treasury.c) */
extern const struct route treasury_routes[];
/* Stripe Treasury: outbound transfers and payments, inbound transfers (treasury_flows.c) */
extern const struct route treasury_flow_routes[];
extern const struct route terminal_routes[];
extern const struct route terminal_readers_routes[];

/* One object by id, whatever its kind by the id's prefix (expand.c): a charge, refund, payout,
 * dispute, transfer, transfer reversal, application fee, fee refund, invoice or review of the
 * caller. field is the expand path of the field holding it ("source", "data.source",
 * "transfer"), for the object's own nested expansions. DB_OK, DB_NOTFOUND (another kind, or none
 * of the caller's) or < 0. */
int api_render_by_id(struct req *r, struct db *db, const char *id, const char *field,
		     struct json *j);

/* One object by id, for a balance transaction's expanded `source`: DB_OK, DB_NOTFOUND or < 0.
 * expand_prefix is the path of the field that holds it, for the object's own nested expansions:
 * "source." / "data.source." for payouts, "source" / "data.source" for disputes. */
int refund_render_id(struct req *r, struct db *db, const char *id, struct json *j);
/* Inside a credit note's write (credit_notes.c): a refund of `amount` of captured charge
 * charge_id, through POST /v1/refunds' own path (the charge, the acquirer's books, the journal,
 * refund.created and charge.refunded); reason: a refund reason or NULL. ret_id: its id. 0, or -1
 * with r->err (more than is left of the charge: Stripe's 400). */
int refund_for_credit_note(struct req *r, struct db *db, const char *charge_id, int64_t amount,
			   const char *reason, char ret_id[ID_MAX]);
/* Inside the write that released `amount` of charge ch uncaptured (payment_release, or the rest
 * of a partial capture: ch's amount_released, payments.h): the refund Stripe shows for it
 * (`succeeded`, no balance transaction: no money moved), refund.created, and charge.refunded
 * when nothing of the charge is left. 0, or -1 with r->err. */
struct charge;
int refund_for_release(struct req *r, struct db *db, const struct charge *ch, int64_t amount);
/* What invoice's issued (not void) credit notes took before and after its payment: its
 * pre_payment_credit_notes_amount and post_payment_credit_notes_amount (credit_notes.c). DB_OK
 * or < 0. */
int credit_notes_invoice_amounts(struct req *r, struct db *db, const char *invoice,
				 int64_t *ret_pre, int64_t *ret_post);
int payout_render_id(struct req *r, struct db *db, const char *id, const char *expand_prefix,
		     struct json *j);
int transfer_render_id(struct req *r, struct db *db, const char *id, struct json *j);
int transfer_reversal_render_id(struct req *r, struct db *db, const char *id, struct json *j);
int application_fee_render_id(struct req *r, struct db *db, const char *id, struct json *j);
int fee_refund_render_id(struct req *r, struct db *db, const char *id, struct json *j);
int dispute_render_id(struct req *r, struct db *db, const char *id, const char *expand_prefix,
		      struct json *j);

struct store;
/* Scheduler step: settles due refunds (pending → succeeded, succeeded → failed for the test
 * cards that do that). Returns how many moved, or < 0. */
int refunds_settle_tick(struct store *s, int64_t now);
extern const char REFUNDS_SETTLE_DUE_SQL[]; /* its probe for the scheduler */
/* Scheduler step: expires open Checkout Sessions past expires_at (checkout.c). */
int checkout_expire_tick(struct store *s, int64_t now);
extern const char CHECKOUT_EXPIRE_DUE_SQL[];
/* Scheduler step: records the expiry of credit grants past expires_at (billing_credits.c). */
int credit_grants_expire_tick(struct store *s, int64_t now);
extern const char CREDIT_GRANTS_EXPIRE_DUE_SQL[];
/* Scheduler step: cancels draft and open quotes past expires_at (quotes.c). */
int quotes_expire_tick(struct store *s, int64_t now);
extern const char QUOTES_EXPIRE_DUE_SQL[];
/* Scheduler step: computes pending report runs into their files (reporting.c). */
int reporting_runs_tick(struct store *s, int64_t now);
extern const char REPORTING_DUE_SQL[];
/* Scheduler step: pays pending payouts whose arrival_date has come (payouts.c). */
int payouts_settle_tick(struct store *s, int64_t now);
extern const char PAYOUTS_DUE_SQL[];
/* Top-ups whose bank has answered (api/topups.c): succeeded (booked) or failed. */
int topups_settle_tick(struct store *s, int64_t now);
extern const char TOPUPS_DUE_SQL[];

/* Scheduler step: subscriptions' due renewals, retries, expiries and cancellations in real
 * time, and the advance of test clocks (subscriptions.c). subscriptions_scheduler_init gives it
 * the app (its payments run as internal requests) and the host:port for the URLs it hands out,
 * before the scheduler starts. */
struct app;
void subscriptions_scheduler_init(struct app *app, const char *host);
int subscriptions_tick(struct store *s, int64_t now);
extern const char SUBSCRIPTIONS_DUE_SQL[];

/* payment_method_data on a PaymentIntent (create, confirm): the children of that object are
 * the PaymentMethod create's own parameters (type, card, billing_details, metadata). */
extern const struct param_spec pm_data_params[];
/* the same for a PaymentIntent, with type=customer_balance */
extern const struct param_spec pm_data_params_pi[];
/* Creates the PaymentMethod that the request's object parameter `param` describes, in a durable
 * write of its own, and gives its id. 0, or -1 with r->err (a parameter error names its field
 * under `param`, e.g. payment_method_data[card][token]). */
int pm_create_from_data(struct req *r, const char *param, char ret_id[ID_MAX]);
/* Inside a write: the us_bank_account PaymentMethod of linked account fca (Financial
 * Connections; its number the vault's, verified at once), with the billing_details of the
 * request's object parameter `param`, as POST /v1/payment_methods with
 * us_bank_account[financial_connections_account] makes it. 0, or -1 with r->err. */
int pm_create_linked(struct req *r, struct db *db, const char *param, const char *fca,
		     char ret_id[ID_MAX]);

/* Attaching a PaymentMethod to a customer, inside the caller's write, in two steps so that a
 * customer being created can name the PaymentMethod before its row and event exist.
 * pm_attach_resolve: pm_ref is a pm_… id of r's merchant, or a test alias (pm_card_visa …),
 * stored now as a new PaymentMethod; gives its id and the customer it is attached to ("" if
 * none). A missing one is resource_missing on `param`. pm_attach_finish: refuses one attached
 * to another customer, else attaches it and appends payment_method.attached. Both 0, or -1 with
 * r->err. */
int pm_attach_resolve(struct req *r, struct db *db, const char *pm_ref, const char *param,
		      const char **ret_id, char ret_customer[ID_MAX]);
int pm_attach_finish(struct req *r, struct db *db, const char *id, const char *owner,
		     const char *customer);
/* A customer has at most this many PaymentMethods attached (its card sources included), so that
 * deleting it, which detaches them all in one write, is bounded. */
#define PAYMENT_METHODS_PER_CUSTOMER_MAX 500
/* Inside the write that deletes customer: every PaymentMethod attached to it is detached for
 * good (payment_method.detached; a card source is deleted, customer.source.deleted too), as
 * Stripe removes a deleted customer's cards. The customer's own row is the caller's. 0, or -1
 * with r->err. */
int customer_pms_detach_all(struct req *r, struct db *db, const char *customer);

/* Inside a write: PaymentMethod pm leaves customer (detach); if it was the customer's
 * invoice_settings.default_payment_method, that is unset, with customer.updated, as on Stripe.
 * 0, or -1 with r->err. */
int customer_unset_default_pm(struct req *r, struct db *db, const char *customer, const char *pm);

/* Inside a transaction: the customer exists (and is not deleted) for r's merchant, else
 * resource_missing on `customer`. 0, or -1 with r->err. */
int customer_check(struct req *r, struct db *db, const char *customer);
/* customer_check in a read of its own: what a customer's nested list checks before it pages.
 * 0, or -1 with r->err. */
int customer_check_read(struct req *r, const char *customer);

/* A customer's cash balance (api/cash_balance.c) as Stripe's cash_balance object: what it holds
 * per currency (null when nothing was ever paid in) and its reconciliation settings. Inside a
 * transaction; DB_OK, DB_NOTFOUND (no such customer) or < 0. */
struct json;
int cash_balance_render(struct db *db, const char *merchant_id, bool livemode, const char *customer,
			struct json *j);

/* PaymentIntents paid from a customer's cash balance (payment method type customer_balance,
 * api/cash_balance.c). Confirms pi (insert_first: created by this request) with
 * customer_balance PaymentMethod pm_id (NULL: a new one, Checkout's bank transfer form; its
 * write then completes pi's checkout session too): the customer's cash is applied (automatic
 * reconciliation) and pays it at once when it covers it (a charge, succeeded); otherwise pi waits
 * in requires_action with next_action display_bank_transfer_instructions until transfers (or
 * apply_customer_balance) cover it. 0, or -1 with r->err. */
struct payment_intent;
int cash_pi_confirm(struct req *r, const struct payment_intent *pi, bool insert_first,
		    const char *pm_id);
/* Inside a cancel's write: the cash applied to pi goes back to its customer's cash balance
 * (unapplied_from_payment) and pi waits no more. 0, or -1 with r->err. */
int cash_pi_release(struct req *r, struct db *db, struct payment_intent *pi);
/* payment_method_options[customer_balance]: its parameters, and the request's (when given) as
 * the intent keeps and shows them into *pmo. 0, or -1 with r->err. */
extern const struct param_spec cash_pmo_params[];
int cash_pmo_apply(struct req *r, const char **pmo);
/* An invoice's (or subscription's) payment_settings[payment_method_options][customer_balance]
 * at dotted path base (shown: its name in errors), its type checked against currency: 1 given
 * (*pmo the JSON the invoice keeps and shows), 0 absent, -1 with r->err. */
extern const struct param_spec cash_invoice_pmo_params[];
int cash_invoice_pmo_param(struct req *r, const char *base, const char *shown, const char *currency,
			   const char **pmo);
/* Whether payment_method_types `types` naming customer_balance with options pmo can be paid
 * in currency: an eur one needs its account's country. shown: payment_settings' name. 0, or -1
 * with r->err (parameter_missing). */
int cash_invoice_pmo_check(struct req *r, const char *types, const char *pmo, const char *currency,
			   const char *shown);
/* Inside the write that finalized invoice `invoice` (open, collected by the customer, its
 * payment_method_types naming customer_balance): its PaymentIntent (customer_balance, for
 * `amount`), paid from the customer's cash balance when it covers all of it (the invoice paid
 * in the same write: invoice_payment_settled); else it waits in requires_action with the bank
 * transfer instructions until transfers cover it whole (Stripe does not fund invoices partly).
 * pmo: the invoice's options (NULL: its currency's transfer). ret_pi: the intent. 0, or -1
 * with r->err. */
/* The hosted instructions page of intent pi_id of r's merchant (bank_transfer_page.c):
 * http://host/bank_transfer_instructions/{merchant}/{intent}/{secret}, the secret
 * vault_page_token's (derived, never stored), in r's arena; NULL without a vault. */
const char *cash_instructions_url(struct req *r, const char *pi_id);
struct cash_invoice {
	const char *invoice, *customer, *currency, *pmo, *description;
	int64_t amount;
};
int cash_invoice_pay(struct req *r, struct db *db, const struct cash_invoice *ci,
		     char ret_pi[ID_MAX]);
/* 0 when intent pi_id is not waiting for a bank transfer; else -1 with Stripe's unexpected-state
 * 400: while it waits (cash may be applied to it) it changes neither amount, currency nor
 * customer, and is paid by nothing else. db: the caller's transaction, or NULL (a read). */
int cash_pi_locked(struct req *r, struct db *db, const char *pi_id);
/* Inside a transaction: whether intent pi_id waits for a bank transfer. 0, or -1 with r->err. */
int cash_pi_waiting(struct req *r, struct db *db, const char *pi_id, bool *ret);
/* Inside a refund's write (or the scheduler's): amount of currency goes back to customer's bank
 * from the cash balance (initiate: a return_initiated cash balance transaction naming refund_id,
 * cash_return in the journal) or comes back to it when that refund is canceled (!initiate:
 * return_canceled), with customer_cash_balance_transaction.created. DB_OK, CASH_RETURN_SHORT
 * (the balance does not cover it: nothing written) or < 0. */
#define CASH_RETURN_SHORT 1
struct event_origin;
int cash_return(struct db *db, struct arena *a, const char *merchant_id,
		const struct event_origin *o, const char *customer, const char *currency,
		int64_t amount, const char *refund_id, bool initiate, int64_t now);
/* Whether a charge's payment_method_details (its card column) is a cash balance payment's. */
bool cash_charge_is(const char *details);
/* Inside a refund's write: refund_id's amount of cash-paid charge ch goes back to its
 * customer's cash balance (refunded_from_payment), journaled as ledger_cash_refund; ret_bt: the
 * refund's balance transaction. 0, or -1 with r->err. */
struct charge;
int cash_refund(struct req *r, struct db *db, const struct charge *ch, const char *refund_id,
		int64_t amount, char ret_bt[ID_MAX]);

/* A customer's usage of a billing meter in [start, end) (billing_meters.c), aggregated by the
 * meter's formula into ret (check ret->overflow). DB_OK, DB_NOTFOUND (no such meter) or < 0;
 * inside a transaction. */
struct meter_usage;
/* Inside a transaction: meter_id is one of the merchant's billing meters (active or not).
 * DB_OK, DB_NOTFOUND or < 0. */
int billing_meter_find(struct db *db, const char *merchant_id, const char *meter_id);
int billing_meter_usage(struct db *db, const char *merchant_id, const char *meter_id,
			const char *customer, int64_t start, int64_t end, struct meter_usage *ret);
/* Inside the write that recorded usage of meter_id by customer (billing_meters.c: the meter
 * event identifier, its value, timestamp ts and recording time created): the meter's active
 * billing alerts watching the customer that its usage now reaches fire for it, once each
 * (billing_alerts.c), at now (the customer's time). 0, or -1 with r->err. */
int billing_alerts_usage_recorded(struct req *r, struct db *db, const char *meter_id,
				  const char *customer, const char *identifier, int64_t value,
				  int64_t ts, int64_t created, int64_t now);
/* Inside the write that canceled that meter event (of event_name, meter_id's): it leaves the
 * running usage of the alerts that counted it. 0, or -1 with r->err. */
int billing_alerts_usage_canceled(struct req *r, struct db *db, const char *meter_id,
				  const char *event_name, const char *customer,
				  const char *identifier, int64_t value, int64_t ts,
				  int64_t created);

struct tiers;
/* A price of r's merchant as a payment link needs it (products.c): whether it and its product
 * are active, its amount (has_unit_amount false for a sub-cent decimal price, then billed by
 * price_facts_amount), currency, and
 * its product's name. DB_OK or DB_NOTFOUND, inside a transaction. */
struct price_facts {
	bool active, product_active, has_unit_amount, recurring;
	int64_t unit_amount;
	char currency[8];
	const char *product_name; /* r's arena */
	/* a recurring price's terms (subscriptions): interval ("" for one-time), interval_count,
	 * usage_type; and what a legacy `plan` object shows of it (r's arena) */
	char interval[8];
	int64_t interval_count, created;
	const char *usage_type, *product, *nickname, *unit_amount_decimal;
	const char *meter; /* a metered price's billing meter (NULL: none) */
	/* a legacy metered price's (no meter) recurring.aggregate_usage (NULL: sum) */
	const char *aggregate_usage;
	int64_t trial_period_days; /* a plan's default trial (trial_from_plan), -1: none */
	/* a tiered price's tiers (billing/tiers.h, r's arena; has_unit_amount is then false),
	 * NULL for per_unit */
	const struct tiers *tiers;
	/* a pay-what-you-want price (custom_unit_amount): the customer chooses the amount in
	 * Checkout; its bounds and preset, -1 where not given. No unit amount: price_facts_amount
	 * refuses it, and what takes a fixed amount refuses it (price_facts_fixed) */
	bool custom;
	int64_t custom_minimum, custom_maximum, custom_preset;
	/* a per-unit price's transform_quantity (a plan's transform_usage): price_facts_amount
	 * bills the transformed quantity (billing/transform.h); divide_by 0: none */
	struct qty_transform transform;
};
int price_facts_get(struct req *r, struct db *db, const char *id, struct price_facts *out);
/* price_facts_get with the amounts in `currency` (NULL or "": the price's own): the price's
 * own when it is in it, else its currency_options entry for it. A price with neither keeps its
 * own currency in out->currency, which the caller then refuses (out->currency differs). */
int price_facts_in(struct req *r, struct db *db, const char *id, const char *currency,
		   struct price_facts *out);
/* Inside a write: a price made from the request's price_data object at `prefix` (dotted, e.g.
 * "line_items.0.price_data."; `shown` is its name in errors, "line_items[0][price_data]"):
 * currency, unit_amount or unit_amount_decimal, recurring, tax_behavior, and product or
 * product_data[name, description, metadata]. As on Stripe the price is made inactive; out
 * describes it as if active. 0, or -1 with r->err. */
int price_create_inline(struct req *r, struct db *db, const char *prefix, const char *shown,
			struct price_facts *out, char ret_id[ID_MAX]);
/* What `quantity` of price pf costs for one period: unit_amount × quantity, a sub-cent
 * unit_amount_decimal × quantity rounded once (tiers_decimal_amount), or the tiers' amount
 * (billing/tiers.h); the quantity first transformed by pf->transform when the price has one
 * (billing/transform.h). 0, or -1 (overflow). */
int price_facts_amount(const struct price_facts *pf, int64_t quantity, int64_t *ret);
/* Is pf's line amount computed from the whole quantity (tiers, or a sub-cent decimal rounded
 * once per line) rather than as an integer unit_amount × quantity? */
static inline bool price_facts_lump(const struct price_facts *pf)
{
	/* a transformed quantity's amount is not unit_amount × the quantity shown either */
	return pf->tiers || !pf->has_unit_amount || qty_transform_set(&pf->transform);
}
/* Stripe's 400 on `param` for a pay-what-you-want price (pf->custom) where an amount is needed
 * (invoice items, quotes, a subscription's add_invoice_items). 0 for any other price. */
int price_facts_fixed(struct req *r, const struct price_facts *pf, const char *price,
		      const char *param);
/* Renders price `id` of r's merchant (nothing expanded); DB_NOTFOUND when absent. */
int price_render_id(struct req *r, struct db *db, const char *id, struct json *j);

/* A PaymentIntent made and confirmed for a page Tender serves (a payment link's checkout), paid
 * with PaymentMethod pm_id (payment_intents.c). Inputs: amount, currency, description, metadata
 * (JSON object text or NULL), capture_method (NULL: automatic), return_url (where 3-D Secure
 * comes back to), customer (or NULL), and id: the intent's id chosen by the caller ("" for a new
 * one). Outputs: the intent's id and status, and for requires_action the challenge's URL. 0; or
 * -1 with r->err (a decline is a card error, and the intent then exists). */
struct pi_checkout {
	int64_t amount;
	const char *currency, *description, *metadata, *capture_method, *return_url, *pm_id;
	const char *customer, *checkout_session;
	const char *shipping; /* Stripe's shipping hash as JSON text, or NULL */
	/* payment_method_options[card]: request_three_d_secure (any / automatic) and
	 * setup_future_usage (on_session / off_session), or NULL */
	const char *request_three_d_secure, *setup_future_usage;
	/* payment_intent_data[statement_descriptor, statement_descriptor_suffix, receipt_email],
	 * or NULL */
	const char *statement_descriptor, *statement_descriptor_suffix, *receipt_email;
	/* its Connect terms (a payment link's: payment_link_connect), or NULL */
	const struct payment_connect *connect;
	char id[ID_MAX];
	const char *status, *challenge_url;
};
int payment_intents_checkout(struct req *r, struct pi_checkout *co);
/* A payment link's Connect terms (payment_links.c), inside a transaction: for a payment of
 * `amount` by a session it opened, *ret gets application_fee_amount and transfer_data[amount]
 * (each at most amount), transfer_data[destination] and on_behalf_of; *ret_fee_e4 its
 * application_fee_percent (percent_e4; -1: none), for the subscription a session of recurring
 * prices makes. 1 when it has terms, 0 when none (or no such link), -1 with r->err. */
struct payment_connect;
int payment_link_connect(struct req *r, struct db *db, const char *link, int64_t amount,
			 struct payment_connect *ret, int64_t *ret_fee_e4);
/* A Checkout Session's next attempt on the intent its page made before (next->id, naming the
 * same session; requires_payment_method after a failure, or requires_action, whose 3-D Secure
 * or bank page then opens nothing): what the attempt changes (next: amount, customer,
 * shipping, return_url, setup_future_usage, payment_method_options) set on it, then confirmed
 * with pm_id of any type the intent allows as POST …/confirm confirms it, in one write.
 * *ret_url: the page the browser goes to when it waits in requires_action, else NULL. 0, or -1
 * with r->err (a decline too: the failed attempt is written). */
struct payment_intent;
int payment_intents_checkout_again(struct req *r, const struct payment_intent *next,
				   const char *pm_id, const char **ret_url);
/* Its first half: the session's intent next->id read, checked (the same session,
 * requires_payment_method or requires_action) and given what the attempt changes, into *ret,
 * for a confirmation made elsewhere (a bank debit's form: api/mandates.c, whose mandate the
 * buyer accepts on the page). 0, or -1 with r->err. */
int payment_intents_checkout_next(struct req *r, const struct payment_intent *next,
				  struct payment_intent *ret);
/* An invoice's payment (subscriptions.c), made by Tender rather than asked for by a request's
 * parameters: a PaymentIntent of pv->amount/currency for pv->customer that names pv->invoice,
 * confirmed off session with pv->pm_id (NULL: none, the intent is only made) through the same
 * path as every payment; a card asking for 3-D Secure leaves it in requires_action (unless the
 * card was set up for off-session use). existing: confirm that intent again (a retry) instead
 * of making one. id: the new intent's id, chosen by the caller ("" for a new one); out: its id
 * and status. Inside the payment's write: before() stores what the payment is for (it may fail
 * the write), then the intent's outcome settles the invoice (invoice_payment_settled), then
 * answer(rc) renders the request's answer (rc: what the payment's write would return, 0 or
 * REQ_COMMIT_ERR for a decline) and returns what the write returns. 0, or -1 with r->err. */
struct payment_connect;
struct pi_invoice {
	const char *existing;
	int64_t amount;
	const char *currency, *description, *customer, *pm_id, *invoice;
	/* a Checkout Session's first invoice (the cardholder is on the page): where 3-D Secure
	 * comes back to, and the session the payment completes in its own write; else NULL */
	const char *return_url, *checkout_session;
	bool confirm;
	/* a Checkout Session's bank account typed on its page (bank_debit): an ACH one not yet
	 * verified is taken, the intent waiting for its microdeposits (requires_action) while the
	 * invoice stays open, instead of refused (bank_account_unverified) */
	bool verify_on_page;
	/* a card read by a Terminal reader (api/terminal_readers.c): pm_id is a card_present
	 * PaymentMethod paying an intent whose payment_method_types name card_present, the
	 * cardholder at the counter (no 3-D Secure: a card that would ask for it is declined with
	 * authentication_required, as off session) */
	bool present;
	/* a new intent's Connect terms: the invoice's own (on_behalf_of, transfer_data,
	 * application_fee_amount: api/invoices.c) or its subscription's (application_fee_percent,
	 * transfer_data, on_behalf_of for this amount: api/subscriptions.c); NULL: the invoice's
	 * subscription's or quote's, read by payment_intents.c (invoice_connect_read), or none */
	const struct payment_connect *connect;
	const char *statement_descriptor; /* the invoice's own, or NULL */
	int (*before)(struct req *r, struct db *db, void *ctx);
	int (*answer)(struct req *r, struct db *db, void *ctx, int rc);
	void *ctx;
	char id[ID_MAX];
	const char *status;
	const char *challenge_url; /* out: requires_action, the 3-D Secure page */
};
int payment_intents_invoice(struct req *r, struct pi_invoice *pv);
/* The Connect terms of the PaymentIntent that pays invoice `invoice` (stored, of r's merchant)
 * for `amount` (subscriptions.c): its subscription's (application_fee_percent, transfer_data,
 * on_behalf_of), or the accepted quote's that made it; *ret untouched when none. Reads in its
 * own transaction (before a payment's write). 0, or -1 with r->err. */
int invoice_connect_read(struct req *r, const char *invoice, int64_t amount,
			 struct payment_connect *ret);
/* Inside the write that confirms a PaymentIntent paying an invoice (pi->invoice; any
 * confirmation: Tender's own, the API's, or the 3-D Secure page's): the invoice's side of the
 * outcome (subscriptions.c): paid, or a failed attempt, or waiting for the cardholder. */
struct payment_intent;
int invoice_payment_settled(struct req *r, struct db *db, const struct payment_intent *pi);

/* Inside a write: a PaymentIntent of r's merchant still waiting for 3-D Secure is canceled
 * (cancellation_reason abandoned, payment_intent.canceled), so its challenge can no longer pay;
 * any other state is left as it is. 0, or -1 with r->err. */
int payment_intent_abandon(struct req *r, struct db *db, const char *id);

/* The same for a card saved without a payment (a setup-mode Checkout Session): a SetupIntent
 * made and confirmed with pm_id for customer (or NULL), usage off_session (setup_intents.c).
 * pm_id may be a bank account typed on the page (sepa_debit, us_bank_account): its multi-use
 * mandate is accepted online (acc_ip, acc_ua: the buyer's), a SEPA one succeeds at once and an
 * ACH one waits for its microdeposits (requires_action); either completes the session in the
 * SetupIntent's write. */
struct si_checkout {
	const char *customer, *metadata, *return_url, *pm_id, *checkout_session;
	const char *description; /* setup_intent_data[description], or NULL */
	/* the session's payment_method_types (JSON array), or NULL: cards only */
	const char *payment_method_types;
	const char *acc_ip, *acc_ua;
	/* the session's payment_method_options[us_bank_account] verification_method and
	 * financial_connections (JSON), shown on the SetupIntent, or NULL */
	const char *ach_verification_method, *ach_financial_connections;
	char id[ID_MAX];
	const char *status, *challenge_url;
};
int setup_intents_checkout(struct req *r, struct si_checkout *co);
/* A SetupIntent of r's merchant (existing, in requires_payment_method, its
 * payment_method_types naming card_present) confirmed with card_present PaymentMethod pm_id, a
 * card read by a Terminal reader (api/terminal_readers.c), through the card's verification as
 * any card setup. Approved, the reusable card PaymentMethod generated from it (its id chosen in
 * generated: card.generated_from names the reader's card details and the attempt) is the
 * intent's payment_method, attached to its customer; the attempt shows
 * payment_method_details.card_present.generated_card. answer runs last in the same write with
 * the outcome (rc 0, or REQ_COMMIT_ERR for a declined card whose error r->err holds;
 * generated_card NULL then) and answers the request. 0, or -1 with r->err. */
struct si_present {
	const char *existing, *pm_id;
	char generated[ID_MAX];
	int (*answer)(struct req *r, struct db *db, void *ctx, int rc, const char *generated_card);
	void *ctx;
};
int setup_intents_present(struct req *r, struct si_present *sp);
/* The same for a SetupIntent waiting for 3-D Secure (setup_intent.canceled). */
int setup_intent_abandon(struct req *r, struct db *db, const char *id);
/* Inside a write: SetupIntent id (chosen by the caller) for customer, usage off_session, waiting
 * for a payment method (setup_intent.created): a subscription's pending_setup_intent
 * (subscriptions.c). 0, or -1 with r->err. */
int setup_intent_insert_pending(struct req *r, struct db *db, const char *id, const char *customer);
/* Inside the write where SetupIntent si_id of r's merchant succeeds with PaymentMethod pm: the
 * subscription whose pending_setup_intent it is no longer waits on it, and with
 * save_default_payment_method=on_subscription takes pm as its default_payment_method
 * (customer.subscription.updated; subscriptions.c). None: nothing. 0, or -1 with r->err. */
int subscription_setup_succeeded(struct req *r, struct db *db, const char *si_id, const char *pm);
/* A SetupIntent's status (in r's arena); DB_NOTFOUND when merchant_id has no such intent. */
int setup_intent_status(struct req *r, struct db *db, const char *merchant_id, const char *id,
			const char **ret_status);

/* Inside the write of the payment (or card setup) of Checkout Session `id` of r's merchant:
 * completes it (checkout.session.completed), so the session and its payment commit together. A
 * session closed already is left as it is. 0, or -1 with r->err. */
int checkout_complete(struct req *r, struct db *db, const char *id);
/* Inside the write that settles a bank debit (payments/sepa.c), or that fails an ACH
 * account's microdeposits for the third time (mandates.c): the answer for PaymentIntent pi_id
 * of merchant_id, when a Checkout Session completed unpaid with it (a sepa_debit or
 * us_bank_account payment): success makes its payment_status paid and appends
 * checkout.session.async_payment_succeeded, failure appends
 * checkout.session.async_payment_failed (payment_status stays unpaid). DB_OK (also when no
 * session is waiting for it) or < 0. */
int checkout_async_payment(struct db *db, const char *merchant_id, const char *pi_id,
			   bool succeeded, int64_t now);

/* The card form's POST (r's params) for open Checkout Session cs of merchant acct: the page
 * the browser gets next, as for /checkout/{acct}/{cs} (payment links post here once they have
 * made the session). 0, or -1 with r->err. */
int checkout_pay_session(struct req *r, const char *acct, const char *cs);
/* The card form of a payment link (GET /pay/…, which must not write): its items and total,
 * its shipping (or NULL), its payment_method_types (a JSON array, or NULL: card; with
 * sepa_debit or us_bank_account the page has the SEPA or ACH form too), posting to `action`. */
struct checkout_shipping;
int checkout_link_page(struct req *r, const char *acct, const char *items_json,
		       int64_t amount_total, const char *currency, const char *submit_type,
		       const struct checkout_shipping *ship, const char *pm_types,
		       const char *action);

/* Checkout's line items (checkout.c), shared with payment links: prices the request's
 * `param` (an array of {price, quantity}) inside the caller's transaction — active one-time
 * prices of r's merchant with an integer amount, all in one currency (`want` when given); with
 * `recurring` (a subscription-mode session), recurring licensed prices of one interval instead
 * — and gives their JSON, total (per period, when recurring) and currency; the total must be a
 * payment the merchant can take. 0, or -1 with r->err naming the offending item. */
/* Shipping offered by a session or payment link (checkout.c): options as JSON
 * [{shipping_rate, shipping_amount, display_name}] (NULL: none), the first option's rate and
 * amount, and the countries an address may be in as a JSON array (NULL: no address asked). */
struct checkout_shipping {
	const char *options, *rate, *countries;
	int64_t amount;
};
/* Inside a write: the request's shipping_options (each shipping_rate, active, or
 * shipping_rate_data, made then), all in currency, onto ship. 0, or -1 with r->err. */
int checkout_shipping_options(struct req *r, struct db *db, const char *currency,
			      struct checkout_shipping *ship);
/* The request's shipping_address_collection[allowed_countries] onto ship. 0, or -1 with
 * r->err. */
int checkout_shipping_countries(struct req *r, struct checkout_shipping *ship);
/* The card form's `shipping` hash (name, address[…]): the checkout pages' parameter table. */
extern const struct param_spec checkout_ship_params[];
/* line_items[n][adjustable_quantity]'s parameter table: enabled (required), minimum, maximum. */
extern const struct param_spec checkout_adjustable_params[];
/* Line idx of `param`'s adjustable_quantity (it: the line's form node), as Stripe checks it:
 * enabled=true keeps {enabled, maximum, minimum} (the bounds as given, null where not) on
 * `line` (a jansson object: a stored line), enabled=false removes it; minimum at least 0,
 * maximum 1 to 999999, minimum at most maximum (defaults 0 and 99). refused (or NULL): why
 * this line cannot be adjusted. The line's quantity qty must then lie in its range, whether
 * the range was given now or is the one `line` has. 0, or -1 with r->err. */
struct json_t;
int checkout_line_adjustable(struct req *r, const char *param, int idx, const struct form_node *it,
			     int64_t qty, const char *refused, struct json_t *line);
int checkout_price_items(struct req *r, struct db *db, const char *param, const char *want,
			 bool recurring, const char **ret_json, int64_t *ret_total,
			 char ret_currency[8]);
/* Tax rates ids (n) newly applied to a line (a Checkout Session's or a quote's): each one of r's
 * merchant (else 404, parameter `shown`) and active (an archived rate is not applied anew, 400).
 * 0, or -1 with r->err. */
int checkout_tax_rates_check(struct req *r, struct db *db, const char *const *ids, int n,
			     const char *shown);
/* An item's "taxes": Stripe's list of {amount, rate (rendered), taxability_reason,
 * taxable_amount} from the stored array of {rate, amount, taxable} (a jansson array: a Checkout
 * Session's or a quote's line). DB_OK, or < 0 with the list left open. */
struct json_t;
int checkout_item_taxes_render(struct req *r, struct db *db, const struct json_t *taxes,
			       struct json *j);
/* total_details.breakdown of a Checkout Session or a quote (expand[]=…total_details.breakdown):
 * key "breakdown" into the open object j, with `discounts` ({amount: amounts[k], discount: ds[k]
 * rendered}, n_ds of them) and `taxes`, one per rate: the stored entries ({rate, amount,
 * taxable}) under `key` of every line of `lines` (a jansson array) summed per rate, in the order
 * first taken. DB_OK, or < 0 with nothing written. */
struct discount;
int checkout_breakdown_render(struct req *r, struct db *db, const struct discount *ds,
			      const int64_t *amounts, int n_ds, const struct json_t *lines,
			      const char *key, struct json *j);
/* GET …/line_items of a session or payment link: a list of Stripe's `item` objects. */
int checkout_render_line_items(struct req *r, struct db *db, const char *items_json,
			       const char *currency, const char *url);
/* A payment link of recurring prices: its sessions' subscription_data (trial_days 0: none) */
struct checkout_link_sub {
	int64_t trial_days;
	const char *description, *metadata; /* metadata: JSON */
};
/* The request's subscription_data[trial_period_days, metadata, description] checked as a
 * subscription-mode session's. 0, or -1 with r->err. */
int checkout_sub_data_parse(struct req *r, struct checkout_link_sub *ret);
/* Inside a write: the open Checkout Session for one payment through payment link link_id, with
 * the link's items and completion (success_url, or confirmation_message on Tender's page).
 * nonce: the one-time value of the form that was posted (or NULL); the same value finds the
 * session it made before, so a form posted twice pays through one session. automatic_tax: the
 * session's automatic_tax[enabled] (its page asks for the address before the card).
 * allow_promotion_codes: the session's (its page's promotion code field). pm_types:
 * the link's payment_method_types (a JSON array, or NULL), the session's. collect and
 * custom_fields: the link's (checkout_link_settings), the session's. sub: a link of recurring
 * prices (a subscription-mode session with its subscription_data), or NULL. */
int checkout_session_for_link(struct req *r, struct db *db, const char *link_id,
			      const char *items_json, int64_t amount_total, const char *currency,
			      const char *success_url, const char *confirmation_message,
			      const char *pi_capture_method, const char *pi_description,
			      const char *submit_type, const struct checkout_shipping *ship,
			      bool automatic_tax, bool allow_promotion_codes, const char *pm_types,
			      const char *collect, const char *custom_fields,
			      const struct checkout_link_sub *sub, const char *nonce,
			      char ret_id[ID_MAX]);
/* A payment link as each payment's session will stand (checkout_link_settings). collect and
 * custom_fields: what it holds (an update; NULL: none, or a create). */
struct checkout_link_in {
	const struct checkout_shipping *ship;
	bool sub; /* of recurring prices: its sessions are in subscription mode */
	bool allow_promotion_codes, automatic_tax;
	const char *pm_types, *collect, *custom_fields;
};
/* A payment link's billing_address_collection, custom_text, custom_fields, customer_creation,
 * invoice_creation, phone_number_collection, payment_method_collection, consent_collection,
 * tax_id_collection and payment_intent_data[setup_future_usage, metadata, statement_descriptor,
 * statement_descriptor_suffix] (those the request has) checked by its sessions' own code (a
 * payment-mode session's, or a subscription-mode one's for in->sub), with the rules between
 * them and the link's other
 * settings: the session's `collect` JSON (NULL: none) and custom_fields JSON (NULL: none) each
 * payment's session takes, an update's over those the link has. 0, or -1 with r->err. */
int checkout_link_settings(struct req *r, const struct checkout_link_in *in, const char **collect,
			   const char **custom_fields);
/* With a bank debit, redirect or lender (debit: its name) the page does not ask for custom
 * fields, phone, consent, tax ids, a full billing address, nor makes an invoice: 400 on the one
 * the request has. 0, or -1 with r->err. */
int checkout_debit_refusals(struct req *r, const char *debit);
/* The parameter tables of those settings (a session's and a payment link's) */
#define CHECKOUT_CUSTOM_FIELDS_MAX 3 /* Stripe's */
extern const struct param_spec checkout_enabled_params[];
extern const struct param_spec checkout_custom_text_params[];
extern const struct param_spec checkout_custom_field_params[];
extern const struct param_spec checkout_tax_id_collection_params[];
extern const struct param_spec checkout_consent_collection_params[];
extern const struct param_spec checkout_invoice_creation_params[];

/* A session's (or link's) payment_method_types (bits of payments/pm_types.h) against its total
 * amount in currency: a lender whose limits (payments/redirect.h) the amount is outside of is
 * hidden on the page; when that leaves no type, Stripe's 400 on param (amount_too_small /
 * amount_too_large, the lender's limits). 0, or -1 with r->err. */
int checkout_bnpl_check_amount(struct req *r, unsigned types, int64_t amount, const char *currency,
			       const char *param);

/* Inside the write that creates a customer with test_clock=clock (subscriptions.c): the clock
 * must be one of r's merchant's, not deleted, not advancing, and hold fewer than Stripe's 3
 * customers. 0, or -1 with r->err. */
int test_clock_take_customer(struct req *r, struct db *db, const char *clock);

/* A subscription bought through a Checkout Session in mode=subscription (subscriptions.c),
 * made by the same create as POST /v1/subscriptions: for customer (made by before() in the
 * same write when new_customer), of the session's items (price ids as priced when the session
 * was made, quantities), trial_days (0: none), metadata (JSON object text) and description
 * from subscription_data, with pm_id, the buyer's card, as its default_payment_method. The ids
 * are the caller's (recorded on the session first): id for the subscription, pi_id for the
 * PaymentIntent of its first invoice. Without a trial that invoice is paid at once by
 * payment_intents_invoice, whose write runs before() (the checkout's rows), stores the
 * subscription and completes checkout_session (return_url: where 3-D Secure comes back to); a
 * decline keeps nothing (-1 with the card error); a card asking for 3-D Secure leaves it
 * incomplete with status requires_action and challenge_url. With a trial, one write runs
 * before(), attaches the card to the customer, stores the subscription (trialing) and completes
 * the session; status stays NULL. Out: invoice_id, the first invoice. 0, or -1 with r->err. */
#define SUB_CHECKOUT_ITEMS_MAX 20
struct sub_checkout {
	const char *customer;
	/* the payment link the session was opened by (NULL: none): its Connect terms are the
	 * subscription's (payment_link_connect) */
	const char *payment_link;
	bool new_customer;
	int n_items;
	struct {
		const char *price;
		int64_t quantity;
		/* its tax_rates[] (ids of the merchant's rates; n_tax_rates 0: none) */
		const char *const *tax_rates;
		int n_tax_rates;
	} items[SUB_CHECKOUT_ITEMS_MAX];
	int64_t trial_days;
	const char *metadata, *description, *pm_id, *checkout_session, *return_url;
	/* subscription_data[billing_mode][type] flexible (else classic), and its
	 * [flexible][proration_discounts] ("itemized"; NULL or "included": included) */
	bool flexible;
	const char *proration_discounts;
	/* the session's currency (its items priced in it, currency_options too), or NULL */
	const char *currency;
	/* the session's discount (or NULL): a coupon, or the promotion code that names it */
	const char *coupon, *promotion_code;
	/* automatic_tax[enabled] for the subscription; tax_address (JSON, or NULL): where a new
	 * customer (made by before()) will be, for the first invoice planned before it exists */
	bool automatic_tax;
	const char *tax_address;
	char id[ID_MAX], pi_id[ID_MAX];
	int (*before)(struct req *r, struct db *db, void *ctx);
	void *ctx;
	char invoice_id[ID_MAX];
	const char *status, *challenge_url;
	/* pm_id is a bank debit's (sepa_debit or us_bank_account, its multi-use mandate made by
	 * before()): the first invoice is debited off session (its intent names no checkout
	 * session, the debit path refusing one confirmed off the page) and the session completes
	 * once the debit is processing (an ACH account typed on the page: once its intent waits
	 * for microdeposits), in the same write (unpaid until the bank answers) */
	bool bank_debit;
};
int subscriptions_checkout(struct req *r, struct sub_checkout *co);
/* A subscription's status (r's arena) and its first invoice's; DB_NOTFOUND when r's merchant
 * has no such subscription. */
int subscription_status(struct req *r, struct db *db, const char *id, const char **ret_status);
/* Inside a write: subscription `id`, if still incomplete, ends now as incomplete_expired, its
 * open first invoice voided and its intent, if waiting for 3-D Secure, abandoned (a checkout's
 * buyer tries another card: the attempt that made it will never be paid). 0, or -1 with r->err.
 */
int subscription_end_incomplete(struct req *r, struct db *db, const char *id);
/* Renders subscription `id` of r's merchant (prefix: where it sits, for expand[]). DB_OK,
 * DB_NOTFOUND, or < 0. */
int subscription_render_by_id(struct req *r, struct db *db, const char *id, const char *prefix,
			      struct json *j);

/* Inside a write: customer `id` made for a Checkout Session's buyer (Stripe makes one when a
 * subscription-mode session names none, or with customer_creation=always), with the email,
 * name, phone and address (Stripe's address hash as JSON) given on the page (any may be NULL);
 * customer.created. Nothing goes to the request's answer. 0, or -1 with r->err. */
int customer_create_for_checkout(struct req *r, struct db *db, const char *id, const char *email,
				 const char *name, const char *phone, const char *address);
/* Inside a write: a Checkout Session's customer_update=auto: the name, address and shipping
 * (JSON hashes; NULL: left as they are) the buyer gave become customer `id`'s, with
 * customer.updated when something changed. 0, or -1 with r->err. */
int customer_checkout_update(struct req *r, struct db *db, const char *id, const char *name,
			     const char *address, const char *shipping);

/* Inside a write: PaymentMethod pm (attached to customer `id`) becomes the customer's
 * invoice_settings.default_payment_method, with customer.updated (the customer portal). 0, or
 * -1 with r->err. */
int customer_set_default_pm(struct req *r, struct db *db, const char *id, const char *pm);
/* Inside a write: the customer portal's edit of customer `id`: r's parameters among email,
 * name, phone and address, through the update's own checks; customer.updated when something
 * changed. 0, or -1 with r->err. */
int customer_portal_update(struct req *r, struct db *db, const char *id);
/* Inside a write: the customer portal's cancel of subscription `id` of r's merchant
 * (subscriptions.c): at the period's end (as cancel_at_period_end=true) or now (as DELETE), with
 * cancellation_details.feedback (or NULL); the same events as through the API. 0, or -1 with
 * r->err. */
int subscription_portal_cancel(struct req *r, struct db *db, const char *id, bool at_period_end,
			       const char *feedback);
/* Inside a write: the customer portal's retention offer accepted (a cancel flow's
 * subscription_cancel[retention][coupon_offer]): `coupon` added to subscription `id`'s
 * discounts, redeemed now, as an update's discounts[] would (shown: its name in errors);
 * customer.subscription.updated. 0, or -1 with r->err. */
int subscription_portal_coupon(struct req *r, struct db *db, const char *id, const char *coupon,
			       const char *shown);

/* Renders customer `id` of r's merchant; DB_NOTFOUND when it does not exist. */
int customer_render_by_id(struct req *r, struct db *db, const char *id, struct json *j);

/* A ConfirmationToken an intent is confirmed with (api/confirmation_tokens.c).
 * confirmation_token_resolve (before the write): the unused, unexpired token id of r's merchant
 * (else 404 resource_missing, or 400 on param confirmation_token), what it pays with (pm_ref: a
 * pm_… id, a test alias or a tok_…, given to payments_card_authorize / _verify as the payment
 * method) and what it sets on the intent (NULL when not given). confirmation_token_card: after
 * the card check, the token's billing details for the PaymentMethod the payment's write stores.
 * confirmation_token_consume (inside the intent's write, before payments_card_commit): marks it
 * used by the intent, refusing one used or expired since it was resolved. 0, or -1 with r->err. */
struct ctoken_use {
	char id[ID_MAX];
	const char *pm_ref;
	const char *billing_details, *pm_metadata; /* JSON, for a PaymentMethod made from it */
	const char *return_url, *setup_future_usage, *shipping; /* shipping: JSON */
};
struct card_auth;
/* A ConfirmationToken's payment_method_preview from a rendered PaymentMethod (JSON text): its
 * public shape without what names the PaymentMethod itself (id, object, created, livemode,
 * metadata), with allow_redisplay and customer_account. Arena memory, NULL when pm_json is not
 * a JSON object (or memory ran out). */
const char *confirmation_token_preview(struct arena *a, const char *pm_json);
int confirmation_token_resolve(struct req *r, const char *id, struct ctoken_use *ret);
void confirmation_token_card(const struct ctoken_use *ct, struct card_auth *ca);
int confirmation_token_consume(struct req *r, struct db *db, const struct ctoken_use *ct,
			       const char *payment_intent, const char *setup_intent);

#endif
