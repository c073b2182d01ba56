/*
 * The journal and balance transactions (see ledger.h for the accounts, movements and rules).
 *
 * One function, ledger_post(), writes journal transactions, and it checks everything before it
 * writes anything: known accounts and currencies, every amount within ±LEDGER_AMOUNT_MAX, and a
 * zero sum per currency computed with checked additions. So an unbalanced or absurd set never
 * reaches the store, and the movement functions above it only choose entries.
 *
 * Balance transactions are Stripe's merchant-facing view. Each one is written in the same
 * caller transaction as the journal transaction that moves its money (its journal_txn column), and
 * its status says which merchant account holds its net: "pending" → merchant_pending,
 * "available" → merchant_available. The only update the ledger ever makes is that status switch,
 * guarded by `status = 'pending'` and posted together with the journal move of the net, so the
 * balance the API shows (Σ net by status) and the journal cannot drift apart; ledger_verify checks
 * that they did not.
 */
#include "ledger/ledger.h"
#include "core/buf.h"
#include "core/str.h"
#include "ledger/ledger_connect.h"
#include "ledger/ledger_internal.h"
#include "ledger/ledger_issuing.h"
#include "ledger/ledger_payout.h"
#include "ledger/ledger_reserve.h"
#include "ledger/ledger_treasury.h"
#include "ledger/ledger_cash.h"
#include "ledger/ledger_topup.h"
#include "merchant/merchant.h"

#include "money/currency.h"
#include "money/money.h"
#include "store/store.h"
#include "scheduler/scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_S 86400
#define DUE_BATCH_MAX 512
#define TICK_BATCHES_MAX 8 /* per tick: at most 8 × 512 moves, then the writer is free again */
#define BALANCE_CURRENCIES_MAX 256 /* more than ISO 4217 has */

static const char *const accounts[] = {
    LEDGER_ACCT_CARDHOLDER_HOLDS,
    LEDGER_ACCT_AUTHORIZED,
    LEDGER_ACCT_ACQUIRER_RECEIVABLE,
    LEDGER_ACCT_ACQUIRER_PAYABLE,
    LEDGER_ACCT_MERCHANT_PENDING,
    LEDGER_ACCT_MERCHANT_AVAILABLE,
    LEDGER_ACCT_FEES,
    LEDGER_ACCT_FX,
    LEDGER_ACCT_PAYOUTS_IN_TRANSIT,
    LEDGER_ACCT_PAID_OUT,
    LEDGER_ACCT_CONNECT_CLEARING,
    LEDGER_ACCT_TOPUP_FUNDING,
    LEDGER_ACCT_CASH_FUNDING,
    LEDGER_ACCT_CUSTOMER_CASH,
    LEDGER_ACCT_CUSTOMER_CASH_APPLIED,
    LEDGER_ACCT_MERCHANT_RESERVE,
    LEDGER_ACCT_ISSUING_AVAILABLE,
    LEDGER_ACCT_ISSUING_HELD,
    LEDGER_ACCT_ISSUING_NETWORK,
    LEDGER_ACCT_TREASURY_CASH,
    LEDGER_ACCT_TREASURY_INBOUND_PENDING,
    LEDGER_ACCT_TREASURY_OUTBOUND_PENDING,
    LEDGER_ACCT_TREASURY_NETWORK,
    NULL,
};

static int account_known(const char *name)
{
	for (size_t i = 0; name && accounts[i]; i++)
		if (strcmp(accounts[i], name) == 0)
			return 1;
	return 0;
}

static int amount_in_range(int64_t v)
{
	return v >= -LEDGER_AMOUNT_MAX && v <= LEDGER_AMOUNT_MAX;
}

/* A movement's amount: 1 … LEDGER_AMOUNT_MAX. */
static int movement_amount_check(int64_t amount)
{
	if (amount <= 0)
		return LEDGER_ERR_INVALID;
	if (amount > LEDGER_AMOUNT_MAX)
		return LEDGER_ERR_OVERFLOW;
	return DB_OK;
}

/* Everything ledger_post refuses, checked without touching the store. */
static int entries_check(const struct ledger_entry *e, size_t n)
{
	if (!e || n > LEDGER_ENTRIES_MAX)
		return LEDGER_ERR_INVALID;
	size_t nonzero = 0;
	for (size_t i = 0; i < n; i++) {
		if (!account_known(e[i].account) || !e[i].currency || !currency_find(e[i].currency))
			return LEDGER_ERR_INVALID;
		if (!amount_in_range(e[i].amount_minor))
			return LEDGER_ERR_OVERFLOW;
		if (e[i].amount_minor != 0)
			nonzero++;
	}
	if (nonzero < 2)
		return LEDGER_ERR_INVALID;
	/* zero sum per currency: sum every currency once, from its first entry */
	for (size_t i = 0; i < n; i++) {
		int first = 1;
		for (size_t k = 0; k < i && first; k++)
			if (strcmp(e[k].currency, e[i].currency) == 0)
				first = 0;
		if (!first)
			continue;
		int64_t sum = 0;
		for (size_t k = i; k < n; k++)
			if (strcmp(e[k].currency, e[i].currency) == 0 &&
			    __builtin_add_overflow(sum, e[k].amount_minor, &sum))
				return LEDGER_ERR_OVERFLOW;
		if (sum != 0)
			return LEDGER_ERR_UNBALANCED;
	}
	return DB_OK;
}

static const char SQL_TXN[] =
    "INSERT INTO journal_txns (merchant_id, id, kind, source, created) VALUES ($1, $2, $3, $4, $5)";
/* SQLite keeps a transaction's entries in its row (migration 0026: journal_entries is a view
 * over this column there), one insert instead of the entries' own rows in a second b-tree */
static const char SQL_TXN_PACKED[] = "INSERT INTO journal_txns (merchant_id, id, kind, source,"
				     " created, entries) VALUES ($1, $2, $3, $4, $5, $6)";

/* The non-zero entries as the JSON array the view reads: [account, currency, amount], in order,
 * into out (false if it failed). Accounts and currencies were checked against fixed lists
 * (entries_check), so no text needs escaping. Appended piece by piece rather than formatted:
 * snprintf cost ~1,600 instructions an entry, a quarter of the whole insert's. */
static bool entries_json(const struct ledger_entry *e, size_t n, struct buf *out)
{
	buf_putc(out, '[');
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (e[i].amount_minor == 0)
			continue;
		buf_puts(out, first ? "[\"" : ",[\"");
		buf_puts(out, e[i].account);
		buf_puts(out, "\",\"");
		buf_puts(out, e[i].currency);
		buf_puts(out, "\",");
		buf_put_i64(out, e[i].amount_minor);
		buf_putc(out, ']');
		first = false;
	}
	buf_putc(out, ']');
	return !out->failed;
}

/* On PostgreSQL a journal transaction's entries go in with one multi-row INSERT (one statement
 * instead of one per entry: a capture has six): SQL_ENTRIES[n - 1] inserts n rows, binding seq,
 * account, currency and amount of row k as $(3 + 4k) … $(6 + 4k). */
#define ENTRIES_PER_INSERT 8
#define SQL_ENTRIES_HEAD                                                                           \
	"INSERT INTO journal_entries (merchant_id, txn_id, seq, account, currency, amount) "       \
	"VALUES "
static const char *const SQL_ENTRIES[ENTRIES_PER_INSERT] = {
    /* 1 */
    SQL_ENTRIES_HEAD "($1, $2, $3, $4, $5, $6)",
    /* 2 */
    SQL_ENTRIES_HEAD "($1, $2, $3, $4, $5, $6), ($1, $2, $7, $8, $9, $10)",
    /* 3 */
    SQL_ENTRIES_HEAD "($1, $2, $3, $4, $5, $6), ($1, $2, $7, $8, $9, $10), "
		     "($1, $2, $11, $12, $13, $14)",
    /* 4 */
    SQL_ENTRIES_HEAD "($1, $2, $3, $4, $5, $6), ($1, $2, $7, $8, $9, $10), "
		     "($1, $2, $11, $12, $13, $14), ($1, $2, $15, $16, $17, $18)",
    /* 5 */
    SQL_ENTRIES_HEAD "($1, $2, $3, $4, $5, $6), ($1, $2, $7, $8, $9, $10), "
		     "($1, $2, $11, $12, $13, $14), ($1, $2, $15, $16, $17, $18), "
		     "($1, $2, $19, $20, $21, $22)",
    /* 6 */
    SQL_ENTRIES_HEAD "($1, $2, $3, $4, $5, $6), ($1, $2, $7, $8, $9, $10), "
		     "($1, $2, $11, $12, $13, $14), ($1, $2, $15, $16, $17, $18), "
		     "($1, $2, $19, $20, $21, $22), ($1, $2, $23, $24, $25, $26)",
    /* 7 */
    SQL_ENTRIES_HEAD "($1, $2, $3, $4, $5, $6), ($1, $2, $7, $8, $9, $10), "
		     "($1, $2, $11, $12, $13, $14), ($1, $2, $15, $16, $17, $18), "
		     "($1, $2, $19, $20, $21, $22), ($1, $2, $23, $24, $25, $26), "
		     "($1, $2, $27, $28, $29, $30)",
    /* 8 */
    SQL_ENTRIES_HEAD "($1, $2, $3, $4, $5, $6), ($1, $2, $7, $8, $9, $10), "
		     "($1, $2, $11, $12, $13, $14), ($1, $2, $15, $16, $17, $18), "
		     "($1, $2, $19, $20, $21, $22), ($1, $2, $23, $24, $25, $26), "
		     "($1, $2, $27, $28, $29, $30), ($1, $2, $31, $32, $33, $34)",
};

/* PostgreSQL's journal_entries rows: the non-zero entries, in order, in inserts of up to
 * ENTRIES_PER_INSERT rows */
static int entries_insert(struct db *db, const char *merchant_id, const char *txn_id,
			  const struct ledger_entry *entries, size_t n)
{
	int64_t seq = 0;
	size_t i = 0;
	while (i < n) {
		const struct ledger_entry *chunk[ENTRIES_PER_INSERT];
		size_t k = 0;
		for (; i < n && k < ENTRIES_PER_INSERT; i++)
			if (entries[i].amount_minor != 0)
				chunk[k++] = &entries[i];
		if (k == 0)
			break;
		struct db_stmt *st = db_prepare(db, SQL_ENTRIES[k - 1]);
		if (!st)
			return DB_ERR;
		db_bind_text_ref(st, 1, merchant_id, -1);
		db_bind_text_ref(st, 2, txn_id, -1);
		for (size_t r = 0; r < k; r++) {
			int b = 3 + 4 * (int)r;
			db_bind_int64(st, b, seq++);
			db_bind_text_ref(st, b + 1, chunk[r]->account, -1);
			db_bind_text_ref(st, b + 2, chunk[r]->currency, -1);
			db_bind_int64(st, b + 3, chunk[r]->amount_minor);
		}
		int rc = db_step_done(st);
		if (rc != DB_OK)
			return rc;
	}
	return DB_OK;
}

int ledger_post(struct db *db, const char *merchant_id, const char *kind, const char *source,
		const struct ledger_entry *entries, size_t n, int64_t now, char ret_txn_id[ID_MAX])
{
	if (!merchant_id || !kind || !source)
		return LEDGER_ERR_INVALID;
	int rc = entries_check(entries, n);
	if (rc != DB_OK)
		return rc;
	char id[ID_MAX];
	id_new(id, "jtx_");
	bool packed = db_kind(db) == DB_SQLITE;
	/* LEDGER_ENTRIES_MAX entries of at most ~50 bytes each */
	struct buf json;
	buf_init(&json, 4096);
	if (packed && !entries_json(entries, n, &json)) {
		buf_release(&json);
		return DB_ERR;
	}
	struct db_stmt *st = db_prepare(db, packed ? SQL_TXN_PACKED : SQL_TXN);
	if (!st) {
		buf_release(&json);
		return DB_ERR;
	}
	db_bind_text_ref(st, 1, merchant_id, -1);
	db_bind_text_ref(st, 2, id, -1);
	db_bind_text_ref(st, 3, kind, -1);
	db_bind_text_ref(st, 4, source, -1);
	db_bind_int64(st, 5, now);
	if (packed)
		db_bind_text_ref(st, 6, json.data, (ptrdiff_t)json.len);
	rc = db_step_done(st);
	buf_release(&json);
	if (rc == DB_OK && !packed)
		rc = entries_insert(db, merchant_id, id, entries, n);
	if (rc == DB_OK && ret_txn_id)
		memcpy(ret_txn_id, id, ID_MAX);
	return rc;
}

int ledger_pricing_get(struct db *db, const char *merchant_id, struct ledger_pricing *ret,
		       char currency_buf[8])
{
	/* the merchant's row never changes once created: its terms are read once and kept */
	struct merchant_terms t;
	int rc = merchant_terms_get(db, merchant_id, &t);
	if (rc != DB_OK)
		return rc;
	ledger_pricing_from_terms(&t, ret, currency_buf);
	return DB_OK;
}

void ledger_pricing_from_terms(const struct merchant_terms *t, struct ledger_pricing *ret,
			       char currency_buf[8])
{
	ret->percent_bps = t->fee_percent_bps;
	ret->fixed_minor = t->fee_fixed_minor;
	str_copy(currency_buf, 8, t->settlement_currency);
	ret->settlement_currency = currency_buf;
	ret->fx = NULL;
	ret->method = NULL; /* a card, until the caller says what it books */
	ret->card_country = NULL;
}

/*
 * Stripe's standard prices, as a US account pays them (the table a Tender merchant pays; what
 * each line rests on):
 *   card               2.9 % + 30   stripe.com/pricing ("2.9% + 30¢ per successful transaction
 *                                   for domestic cards"); the merchant's own pricing
 *                                   (merchants.fee_percent_bps/fee_fixed_minor) replaces this
 *                                   line only, as Stripe's custom / IC+ pricing would
 *   + international    + 1.5 %      stripe.com/pricing ("+ 1.5% for international cards"): a card
 *                                   (online or in person) whose country is not the merchant's
 *   + conversion       + 1 %        stripe.com/pricing ("+ 1% if currency conversion is
 *                                   required"): any method whose charge is converted into the
 *                                   settlement currency
 *   card_present       2.7 % + 5    stripe.com/pricing, Terminal ("2.7% + 5¢ per successful
 *                                   transaction for domestic cards", + 1.5 % international)
 *   us_bank_account,   0.8 %, at    stripe.com/pricing, ACH Direct Debit ("0.8%", "$5.00 cap");
 *   ach_debit          most 500     the legacy ACH source charge (ach_debit) is the same debit
 *   sepa_debit         €0.35        stripe.com/pricing/local-payment-methods, SEPA Direct Debit
 *                                   (Stripe lists a euro price: converted, below)
 *   ideal              €0.29        …/local-payment-methods, iDEAL (likewise)
 *   bancontact         €0.35        …/local-payment-methods, Bancontact (likewise)
 *   klarna             5.99 % + 30  stripe.com/pricing ("5.99% + 30¢ per successful transaction
 *                                   for Klarna")
 *   affirm             6 % + 30     …/local-payment-methods, Affirm (US)
 *   afterpay_clearpay  6 % + 30     …/local-payment-methods, Afterpay (US)
 *   customer_balance   0.5 %, at    …/local-payment-methods, bank transfers (US)
 *                      most 500
 * Amounts are minor units of the settlement currency (cents for a usd merchant; the same
 * numbers for a merchant settling in another currency, as Tender's card price always was),
 * except a euro price (fixed_eur): for a merchant settling in eur it is taken as it is,
 * otherwise converted at the charge's own rate of the moment (these methods are charged in eur
 * only, so the charge itself is converted with that rate). Dispute fees are ledger_dispute.c's.
 */
static int money_err(int rc); /* money's codes as the ledger's (below) */

struct fee_line {
	const char *method;
	int64_t percent_bps;
	int64_t fixed_minor; /* settlement currency minor units */
	int64_t fixed_eur;   /* euro cents, converted (above) */
	int64_t cap_minor;   /* the line's most (0: none) */
	bool international;  /* a card: + 1.5 % when its country is not the merchant's */
};

#define FEE_INTERNATIONAL_BPS 150
#define FEE_CONVERSION_BPS 100

static const struct fee_line fee_lines[] = {
    /* the card line's percent and fixed are the merchant's pricing (ledger_fee_converted) */
    {"card", 290, 30, 0, 0, true},
    {"card_present", 270, 5, 0, 0, true},
    {"us_bank_account", 80, 0, 0, 500, false},
    {"ach_debit", 80, 0, 0, 500, false},
    {"sepa_debit", 0, 0, 35, 0, false},
    {"ideal", 0, 0, 29, 0, false},
    {"bancontact", 0, 0, 35, 0, false},
    {"klarna", 599, 30, 0, 0, false},
    {"affirm", 600, 30, 0, 0, false},
    {"afterpay_clearpay", 600, 30, 0, 0, false},
    {"customer_balance", 50, 0, 0, 500, false},
};

static const struct fee_line *fee_line_find(const char *method)
{
	if (!method || !method[0])
		method = "card";
	for (size_t i = 0; i < sizeof(fee_lines) / sizeof(fee_lines[0]); i++)
		if (strcmp(fee_lines[i].method, method) == 0)
			return &fee_lines[i];
	return NULL;
}

/* The European Economic Area: a euro-settling merchant's cards from any of these are domestic
 * (Stripe's European price sheets call them "standard EEA cards"). */
static bool country_in_eea(const char *c)
{
	static const char *const eea[] = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE",
					  "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
					  "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK",
					  "SI", "ES", "SE", "IS", "LI", "NO"};
	for (size_t i = 0; i < sizeof(eea) / sizeof(eea[0]); i++)
		if (strcmp(eea[i], c) == 0)
			return true;
	return false;
}

/* Whether a card of country is international for a merchant settling in settle. Tender's
 * merchants have no country of their own: the settlement currency's country stands for it (usd:
 * US, gbp: GB, cad: CA, aud: AU, jpy: JP, eur: the EEA); for any other settlement currency, or
 * a card whose country is unknown, nothing is international. */
static bool card_international(const char *country, const char *settle)
{
	static const struct {
		const char *currency, *country;
	} home[] = {{"usd", "US"}, {"gbp", "GB"}, {"cad", "CA"}, {"aud", "AU"}, {"jpy", "JP"}};
	if (!country || strlen(country) != 2 || !settle)
		return false;
	if (strcmp(settle, "eur") == 0)
		return !country_in_eea(country);
	for (size_t i = 0; i < sizeof(home) / sizeof(home[0]); i++)
		if (strcmp(home[i].currency, settle) == 0)
			return strcmp(home[i].country, country) != 0;
	return false;
}

/* round_half_up(amount × bps / 10000), all >= 0: add half the divisor, then truncate */
static int percent_of(int64_t amount, int64_t bps, int64_t *ret)
{
	int64_t scaled;
	if (__builtin_mul_overflow(amount, bps, &scaled) ||
	    __builtin_add_overflow(scaled, 5000, &scaled))
		return LEDGER_ERR_OVERFLOW;
	*ret = scaled / 10000;
	return DB_OK;
}

int ledger_fee_converted(int64_t amount_minor, const struct ledger_pricing *pricing, bool converted,
			 const struct fx_rate *rate, int64_t *ret_fee_minor)
{
	int rc = movement_amount_check(amount_minor);
	if (rc != DB_OK)
		return rc;
	if (!pricing || pricing->percent_bps < 0 || pricing->percent_bps > 10000 ||
	    pricing->fixed_minor < 0 || pricing->fixed_minor > LEDGER_AMOUNT_MAX)
		return LEDGER_ERR_INVALID;
	const struct fee_line *line = fee_line_find(pricing->method);
	if (!line)
		return LEDGER_ERR_INVALID;
	bool card = strcmp(line->method, "card") == 0;
	int64_t bps = card ? pricing->percent_bps : line->percent_bps;
	int64_t fixed = card ? pricing->fixed_minor : line->fixed_minor;
	const char *settle = pricing->settlement_currency;
	if (line->fixed_eur > 0) {
		int64_t eur = line->fixed_eur;
		if (settle && settle[0] && strcmp(settle, "eur") != 0) {
			/* the charge's own rate (eur → settlement): a euro-only method's charge to
			 * a merchant settling in another currency is always converted */
			if (!rate || strcmp(rate->base, "eur") != 0)
				return LEDGER_ERR_NO_RATE;
			rc = money_err(
			    fx_convert_with_rate(rate, line->fixed_eur, "eur", settle, &eur));
			if (rc != DB_OK)
				return rc;
		}
		if (__builtin_add_overflow(fixed, eur, &fixed))
			return LEDGER_ERR_OVERFLOW;
	}
	int64_t extra = 0; /* the surcharges' percent */
	if (line->international && card_international(pricing->card_country, settle))
		extra += FEE_INTERNATIONAL_BPS;
	if (converted)
		extra += FEE_CONVERSION_BPS;
	int64_t fee, part;
	if (line->cap_minor > 0) {
		/* the method's own line is capped (Stripe's "$5.00 cap"), the surcharges are not:
		 * each is rounded once */
		rc = percent_of(amount_minor, bps, &part);
		if (rc == DB_OK && __builtin_add_overflow(part, fixed, &fee))
			rc = LEDGER_ERR_OVERFLOW;
		if (rc != DB_OK)
			return rc;
		if (fee > line->cap_minor)
			fee = line->cap_minor;
		rc = percent_of(amount_minor, extra, &part);
		if (rc == DB_OK && __builtin_add_overflow(fee, part, &fee))
			rc = LEDGER_ERR_OVERFLOW;
	} else {
		/* the percentages add up and are rounded once */
		rc = percent_of(amount_minor, bps + extra, &part);
		if (rc == DB_OK && __builtin_add_overflow(part, fixed, &fee))
			rc = LEDGER_ERR_OVERFLOW;
	}
	if (rc != DB_OK)
		return rc;
	/* never more than the charge: a tiny charge nets 0, not a negative amount */
	*ret_fee_minor = fee > amount_minor ? amount_minor : fee;
	return DB_OK;
}

int ledger_fee(int64_t amount_minor, const struct ledger_pricing *pricing, int64_t *ret_fee_minor)
{
	return ledger_fee_converted(amount_minor, pricing, false, NULL, ret_fee_minor);
}

int ledger_available_on(int64_t created, int64_t *ret_available_on)
{
	return ledger_available_after(created, LEDGER_AVAILABLE_DELAY_DAYS, ret_available_on);
}

int ledger_available_after(int64_t created, int days, int64_t *ret_available_on)
{
	int64_t t;
	if (days < LEDGER_AVAILABLE_DELAY_DAYS || days > LEDGER_AVAILABLE_DELAY_DAYS_MAX)
		return LEDGER_ERR_INVALID;
	if (created < 0 || __builtin_add_overflow(created, (int64_t)days * DAY_S, &t))
		return LEDGER_ERR_OVERFLOW;
	int64_t into_day = t % DAY_S;
	if (into_day != 0 && __builtin_add_overflow(t, DAY_S - into_day, &t))
		return LEDGER_ERR_OVERFLOW;
	*ret_available_on = t;
	return DB_OK;
}

int ledger_authorize(struct db *db, const char *merchant_id, const char *charge_id, int64_t amount,
		     const char *currency, int64_t now)
{
	int rc = movement_amount_check(amount);
	if (rc != DB_OK)
		return rc;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_CARDHOLDER_HOLDS, currency, amount},
	    {LEDGER_ACCT_AUTHORIZED, currency, -amount},
	};
	return ledger_post(db, merchant_id, "authorize", charge_id, e, 2, now, NULL);
}

int ledger_release(struct db *db, const char *merchant_id, const char *charge_id, int64_t amount,
		   const char *currency, int64_t now)
{
	int rc = movement_amount_check(amount);
	if (rc != DB_OK)
		return rc;
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_AUTHORIZED, currency, amount},
	    {LEDGER_ACCT_CARDHOLDER_HOLDS, currency, -amount},
	};
	return ledger_post(db, merchant_id, "release", charge_id, e, 2, now, NULL);
}

/* Stripe's reporting_category of each balance transaction type the ledger creates. */
/* Stripe's reporting categories: a dispute's withdrawal is "dispute", the money a won dispute
 * gives back "dispute_reversal" (both are "adjustment" balance transactions). */
static const char *reporting_category(const char *type, int64_t amount)
{
	if (strcmp(type, "adjustment") == 0)
		return amount > 0 ? "dispute_reversal" : "dispute";
	/* a payout's reversal (ledger_payout.h) is a "payout" that brings the money back */
	if (strcmp(type, "payout_cancel") == 0 || strcmp(type, "payout_failure") == 0 ||
	    (strcmp(type, "payout") == 0 && amount > 0))
		return "payout_reversal";
	/* Connect (ledger_connect.h): a connected account's payment and its refund are its charge
	 * and refund; the platform's fees are its earnings */
	if (strcmp(type, "payment") == 0)
		return "charge";
	if (strcmp(type, "payment_refund") == 0)
		return "refund";
	if (strcmp(type, "transfer_refund") == 0)
		return "transfer_reversal";
	if (strcmp(type, "application_fee") == 0)
		return "platform_earning";
	if (strcmp(type, "application_fee_refund") == 0)
		return "platform_earning_refund";
	if (strcmp(type, "stripe_fee") == 0) /* an instant payout's fee (ledger_payout.h) */
		return "fee";
	/* a rolling reserve's hold and its release (ledger_reserve.h): one category both ways */
	if (strcmp(type, "reserved_funds") == 0)
		return "risk_reserved_funds";
	return type; /* charge, refund, refund_failure, payout, transfer */
}

static const char SQL_BT[] =
    "INSERT INTO balance_transactions (merchant_id, id, created, type, reporting_category, source,"
    " amount, fee, net, currency, exchange_rate, status, available_on, description, journal_txn,"
    " presentment_amount, presentment_currency, fx_base, fx_quote, fx_rate_e12, fx_valid_from,"
    " charge_id, balance_type) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
    " $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)";

int bt_insert(struct db *db, const char *merchant_id, const struct bt *b, char ret_id[ID_MAX])
{
	int64_t net;
	if (__builtin_sub_overflow(b->amount, b->fee, &net))
		return LEDGER_ERR_OVERFLOW;
	char rate_text[FX_RATE_STR_MAX];
	if (b->rate && fx_rate_to_decimal_string(b->rate, rate_text, sizeof(rate_text)) != 0)
		return LEDGER_ERR_INVALID;
	char id[ID_MAX];
	if (b->id)
		str_copy(id, sizeof(id), b->id);
	else
		id_new_at(id, "txn_", b->created);
	struct db_stmt *st = db_prepare(db, SQL_BT);
	if (!st)
		return DB_ERR;
	db_bind_text_ref(st, 1, merchant_id, -1);
	db_bind_text_ref(st, 2, id, -1);
	db_bind_int64(st, 3, b->created);
	db_bind_text_ref(st, 4, b->type, -1);
	db_bind_text_ref(st, 5, reporting_category(b->type, b->amount), -1);
	db_bind_text_ref(st, 6, b->source, -1);
	db_bind_int64(st, 7, b->amount);
	db_bind_int64(st, 8, b->fee);
	db_bind_int64(st, 9, net);
	db_bind_text_ref(st, 10, b->currency, -1);
	if (b->rate)
		db_bind_text_ref(st, 11, rate_text, -1);
	else
		db_bind_null(st, 11);
	db_bind_text_ref(st, 12, b->status, -1);
	db_bind_int64(st, 13, b->available_on);
	db_bind_text_ref(st, 14, b->description, -1);
	db_bind_text_ref(st, 15, b->journal_txn, -1);
	if (b->rate) {
		db_bind_int64(st, 16, b->presentment_amount);
		db_bind_text_ref(st, 17, b->rate->base, -1);
		db_bind_text_ref(st, 18, b->rate->base, -1);
		db_bind_text_ref(st, 19, b->rate->quote, -1);
		db_bind_int64(st, 20, b->rate->rate_e12);
		db_bind_int64(st, 21, b->rate->valid_from);
	} else {
		for (int i = 16; i <= 21; i++)
			db_bind_null(st, i);
	}
	if (b->charge_id)
		db_bind_text_ref(st, 22, b->charge_id, -1);
	else
		db_bind_null(st, 22);
	db_bind_text_ref(st, 23, b->balance_type ? b->balance_type : "payments", -1);
	int rc = db_step_done(st);
	if (rc == DB_OK && ret_id)
		memcpy(ret_id, id, ID_MAX);
	return rc;
}

static int money_err(int rc)
{
	switch (rc) {
	case 0:
		return DB_OK;
	case MONEY_ERR_OVERFLOW:
		return LEDGER_ERR_OVERFLOW;
	case MONEY_ERR_NO_RATE:
		return LEDGER_ERR_NO_RATE;
	default:
		return LEDGER_ERR_INVALID;
	}
}

/* What a balance transaction recorded about its conversion (charge_fx_load, refund_fx_load). */
struct bt_fx {
	bool converted;
	int64_t amount;		    /* settlement side, as booked */
	char currency[8];	    /* settlement currency */
	int64_t presentment_amount; /* = amount when not converted */
	char presentment_currency[8];
	struct fx_rate rate; /* valid only when converted */
	char charge_id[ID_MAX];
};

/* What bt_fx_load reads of a balance transaction: amounts, currencies, the rate, the charge. */
#define BT_FX_COLUMNS                                                                              \
	"b.amount, b.currency, b.presentment_amount, b.presentment_currency, b.fx_base,"           \
	" b.fx_quote, b.fx_rate_e12, b.fx_valid_from, b.charge_id"
/* A charge's balance transaction is the one its row names (two primary-key reads), so
 * balance_transactions_source leaves charges' out (migration 0022 / PostgreSQL 0020: one B-tree
 * insert fewer for every payment). */
static const char SQL_BT_FX_CHARGE[] =
    "SELECT " BT_FX_COLUMNS " FROM charges c JOIN balance_transactions b ON b.merchant_id ="
    " c.merchant_id AND b.id = c.balance_transaction WHERE c.merchant_id = $1 AND c.id = $2"
    " AND b.type = 'charge'";
/* A refund's, by its source. SQLite, which keeps no statistics here, takes "merchant_id = $1" on
 * the primary key for a selective lookup (it assumes ~10 rows) and walked every balance
 * transaction of the merchant; INDEXED BY holds it to the index (and fails to prepare if the
 * index is ever gone). The index is partial (type <> 'charge'), and SQLite uses a partial index
 * only for a query that repeats its condition. PostgreSQL plans from its statistics. */
#define BT_FX_REFUND_WHERE                                                                         \
	" WHERE b.merchant_id = $1 AND b.source = $2 AND b.type = 'refund' AND b.type <> 'charge'"
static const char SQL_BT_FX_REFUND[] =
    "SELECT " BT_FX_COLUMNS " FROM balance_transactions b INDEXED BY"
    " balance_transactions_source" BT_FX_REFUND_WHERE;
static const char SQL_BT_FX_REFUND_PG[] =
    "SELECT " BT_FX_COLUMNS " FROM balance_transactions b" BT_FX_REFUND_WHERE;

/* The balance transaction of a charge (charge_id) or of a refund (refund_id): exactly one of
 * them is set. DB_NOTFOUND when none. */
static int bt_fx_load(struct db *db, const char *merchant_id, const char *charge_id,
		      const char *refund_id, struct bt_fx *ret)
{
	const char *sql = SQL_BT_FX_CHARGE;
	if (!charge_id)
		sql = db_kind(db) == DB_POSTGRES ? SQL_BT_FX_REFUND_PG : SQL_BT_FX_REFUND;
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, charge_id ? charge_id : refund_id, -1);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? DB_NOTFOUND : (rc < 0 ? rc : DB_ERR);
	}
	struct bt_fx f;
	memset(&f, 0, sizeof(f));
	const char *cur = db_col_text(st, 1, NULL);
	const char *charge = db_col_text(st, 8, NULL);
	f.amount = db_col_int64(st, 0);
	str_copy(f.currency, sizeof(f.currency), cur ? cur : "");
	str_copy(f.charge_id, sizeof(f.charge_id), charge ? charge : "");
	rc = DB_OK;
	if (db_col_is_null(st, 6)) {
		f.presentment_amount = f.amount;
		memcpy(f.presentment_currency, f.currency, sizeof(f.currency));
	} else {
		const char *pcur = db_col_text(st, 3, NULL);
		const char *base = db_col_text(st, 4, NULL), *quote = db_col_text(st, 5, NULL);
		f.converted = true;
		f.presentment_amount = db_col_int64(st, 2);
		snprintf(f.presentment_currency, sizeof(f.presentment_currency), "%s",
			 pcur ? pcur : "");
		/* a stored rate is validated like any input: a corrupt row fails, never converts */
		if (!base || !quote ||
		    fx_rate_init(&f.rate, base, quote, db_col_int64(st, 6), db_col_int64(st, 7)) !=
			0 ||
		    strcmp(f.rate.base, f.presentment_currency) != 0 ||
		    strcmp(f.rate.quote, f.currency) != 0)
			rc = LEDGER_ERR_INVALID;
	}
	db_reset(st);
	if (rc == DB_OK)
		*ret = f;
	return rc;
}

int ledger_capture(struct db *db, const char *merchant_id, const char *charge_id, int64_t amount,
		   const char *currency, const struct ledger_pricing *pricing, int64_t now,
		   char ret_balance_txn_id[ID_MAX])
{
	return ledger_capture_as(db, merchant_id, charge_id, amount, currency, pricing, now, NULL,
				 ret_balance_txn_id);
}

/* A capture (held: the hold posted by ledger_authorize is released by the same amount) or a sale
 * (not held: nothing was put on hold, ledger.h) */
static int capture_post(struct db *db, const char *merchant_id, const char *charge_id,
			int64_t amount, const char *currency, const struct ledger_pricing *pricing,
			int64_t now, const char *balance_txn_id, char ret_balance_txn_id[ID_MAX],
			bool held, const char *from)
{
	int64_t available_on;
	int rc = movement_amount_check(amount);
	if (rc != DB_OK)
		return rc;
	if (!pricing || !currency || !currency_find(currency))
		return LEDGER_ERR_INVALID;
	/* a connected account's own charge waits as long as its payout schedule says */
	int delay;
	rc = ledger_delay_days(db, merchant_id, &delay);
	if (rc != DB_OK)
		return rc;
	rc = ledger_available_after(now, delay, &available_on);
	if (rc != DB_OK)
		return rc;
	/* the settlement side: the captured amount itself, or its conversion (ledger.h) */
	const char *settle = currency;
	int64_t settled = amount;
	struct fx_rate rate;
	bool converted = pricing->settlement_currency && pricing->settlement_currency[0] &&
			 strcmp(pricing->settlement_currency, currency) != 0;
	if (converted) {
		/* a connected account keeps a charge in a currency it has an external account in
		 * (multi-currency settlement, ledger_connect.h); a merchant unknown to the store
		 * (unit tests' ledgers) converts as priced */
		char own[8];
		rc = ledger_settlement_currency(db, merchant_id, currency, own);
		if (rc != DB_OK && rc != DB_NOTFOUND)
			return rc;
		converted = rc == DB_NOTFOUND || strcmp(own, currency) != 0;
	}
	if (converted) {
		if (!pricing->fx)
			return LEDGER_ERR_NO_RATE;
		settle = pricing->settlement_currency;
		rc = money_err(
		    fx_convert(pricing->fx, amount, currency, settle, now, &settled, &rate));
		if (rc != DB_OK)
			return rc;
		if (settled <=
		    0) /* too small to be worth a minor unit: the minimum charge prevents it */
			return LEDGER_ERR_INVALID;
	}
	int64_t fee;
	/* priced in the currency the merchant is paid in (a connected account's own, too) */
	struct ledger_pricing priced = *pricing;
	priced.settlement_currency = settle;
	rc = ledger_fee_converted(settled, &priced, converted, converted ? &rate : NULL, &fee);
	if (rc != DB_OK)
		return rc;
	/* presentment side first; without a conversion the fx entries cancel out into nothing, so
	 * a capture writes six entries and a sale four (zero entries are not written) */
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_AUTHORIZED, currency, held ? amount : 0},
	    {LEDGER_ACCT_CARDHOLDER_HOLDS, currency, held ? -amount : 0},
	    {from, currency, amount},
	    {converted ? LEDGER_ACCT_FX : LEDGER_ACCT_MERCHANT_PENDING, currency, -amount},
	    {LEDGER_ACCT_FX, settle, converted ? settled : 0},
	    {LEDGER_ACCT_MERCHANT_PENDING, settle, converted ? -settled : 0},
	    {LEDGER_ACCT_MERCHANT_PENDING, settle, fee},
	    {LEDGER_ACCT_FEES, settle, -fee},
	};
	char jtx[ID_MAX];
	rc = ledger_post(db, merchant_id,
			 held							? "capture"
			 : strcmp(from, LEDGER_ACCT_CUSTOMER_CASH_APPLIED) == 0 ? "cash_sale"
										: "sale",
			 charge_id, e, sizeof(e) / sizeof(e[0]), now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt b = {
	    .id = balance_txn_id,
	    .type = "charge",
	    .source = charge_id,
	    .currency = settle,
	    .status = "pending",
	    .description = NULL,
	    .journal_txn = jtx,
	    .amount = settled,
	    .fee = fee,
	    .created = now,
	    .available_on = available_on,
	    .charge_id = charge_id,
	    .rate = converted ? &rate : NULL,
	    .presentment_amount = amount,
	};
	char bt_id[ID_MAX];
	rc = bt_insert(db, merchant_id, &b, bt_id);
	if (rc != DB_OK)
		return rc;
	if (ret_balance_txn_id)
		str_copy(ret_balance_txn_id, ID_MAX, bt_id);
	/* a rolling reserve in force withholds its share of the charge (ledger_reserve.h) */
	return ledger_reserve_hold(db, merchant_id, charge_id, bt_id, settle, settled,
				   settled - fee, available_on, now);
}

int ledger_capture_as(struct db *db, const char *merchant_id, const char *charge_id, int64_t amount,
		      const char *currency, const struct ledger_pricing *pricing, int64_t now,
		      const char *balance_txn_id, char ret_balance_txn_id[ID_MAX])
{
	return capture_post(db, merchant_id, charge_id, amount, currency, pricing, now,
			    balance_txn_id, ret_balance_txn_id, true,
			    LEDGER_ACCT_ACQUIRER_RECEIVABLE);
}

int ledger_sale_as(struct db *db, const char *merchant_id, const char *charge_id, int64_t amount,
		   const char *currency, const struct ledger_pricing *pricing, int64_t now,
		   const char *balance_txn_id, char ret_balance_txn_id[ID_MAX])
{
	return capture_post(db, merchant_id, charge_id, amount, currency, pricing, now,
			    balance_txn_id, ret_balance_txn_id, false,
			    LEDGER_ACCT_ACQUIRER_RECEIVABLE);
}

int ledger_cash_sale_as(struct db *db, const char *merchant_id, const char *charge_id,
			int64_t amount, const char *currency, const struct ledger_pricing *pricing,
			int64_t now, const char *balance_txn_id, char ret_balance_txn_id[ID_MAX])
{
	/* a sale whose money is the customer's cash applied to it, not the acquirer's */
	return capture_post(db, merchant_id, charge_id, amount, currency, pricing, now,
			    balance_txn_id, ret_balance_txn_id, false,
			    LEDGER_ACCT_CUSTOMER_CASH_APPLIED);
}

/* INDEXED BY: as SQL_BT_FX_REFUND */
#define REFUNDED_SELECT                                                                            \
	"SELECT COALESCE(SUM(amount), 0), COALESCE(SUM(presentment_amount), 0) FROM"               \
	" balance_transactions"
#define REFUNDED_WHERE                                                                             \
	" WHERE merchant_id = $1 AND charge_id = $2 AND type IN ('refund', 'refund_failure')"
static const char SQL_REFUNDED[] =
    REFUNDED_SELECT " INDEXED BY balance_transactions_charge" REFUNDED_WHERE;
static const char SQL_REFUNDED_PG[] = REFUNDED_SELECT REFUNDED_WHERE;

/* The settlement amount of a refund of `amount` (presentment) of the converted charge ch: the
 * cumulative rounding rule of ledger.h. */
static int refund_settlement(struct db *db, const char *merchant_id, const char *charge_id,
			     const struct bt_fx *ch, int64_t amount, int64_t *ret_settled)
{
	struct db_stmt *st =
	    db_prepare(db, db_kind(db) == DB_POSTGRES ? SQL_REFUNDED_PG : SQL_REFUNDED);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, charge_id, -1);
	int rc = db_step(st);
	int64_t net_s = 0, net_p = 0;
	if (rc == DB_ROW) {
		net_s = db_col_int64(st, 0);
		net_p = db_col_int64(st, 1);
	}
	db_reset(st);
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	/* refunds are negative: refunded so far = −net, in each currency */
	int64_t refunded_s, refunded_p, total_p, total_s, settled, room;
	if (__builtin_sub_overflow((int64_t)0, net_s, &refunded_s) ||
	    __builtin_sub_overflow((int64_t)0, net_p, &refunded_p) ||
	    __builtin_add_overflow(refunded_p, amount, &total_p))
		return LEDGER_ERR_OVERFLOW;
	if (total_p > ch->presentment_amount) /* the charge's guard should have refused it */
		return LEDGER_ERR_INVALID;
	rc = money_err(fx_convert_with_rate(&ch->rate, total_p, ch->presentment_currency,
					    ch->currency, &total_s));
	if (rc != DB_OK)
		return rc;
	if (__builtin_sub_overflow(total_s, refunded_s, &settled) ||
	    __builtin_sub_overflow(ch->amount, refunded_s, &room))
		return LEDGER_ERR_OVERFLOW;
	if (settled > room)
		settled = room;
	if (settled < 0)
		settled = 0;
	*ret_settled = settled;
	return DB_OK;
}

/* A refund of amount (presentment) of charge_id, owed to `to`: the acquirer (a card's and a
 * bank's money goes back the way it came) or the customer's cash balance (ledger_cash.h). */
static int refund_post(struct db *db, const char *merchant_id, const char *refund_id,
		       const char *charge_id, int64_t amount, const char *currency, int64_t now,
		       char ret_balance_txn_id[ID_MAX], const char *to)
{
	/* the balance transaction's source is the refund, as Stripe's is; charge_id finds the rate
	 */
	int rc = movement_amount_check(amount);
	if (rc != DB_OK)
		return rc;
	struct bt_fx ch;
	memset(&ch, 0, sizeof(ch));
	rc = charge_id ? bt_fx_load(db, merchant_id, charge_id, NULL, &ch) : DB_NOTFOUND;
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return rc;
	bool converted = rc == DB_OK && ch.converted;
	if (converted && strcmp(currency, ch.presentment_currency) != 0)
		return LEDGER_ERR_INVALID;
	const char *settle = converted ? ch.currency : currency;
	int64_t settled = amount;
	if (converted) {
		rc = refund_settlement(db, merchant_id, charge_id, &ch, amount, &settled);
		if (rc != DB_OK)
			return rc;
	}
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_MERCHANT_AVAILABLE, settle, settled},
	    {LEDGER_ACCT_FX, settle, converted ? -settled : 0},
	    {LEDGER_ACCT_FX, currency, converted ? amount : 0},
	    {to, currency, -amount},
	};
	char jtx[ID_MAX];
	const char *kind = strcmp(to, LEDGER_ACCT_CUSTOMER_CASH) == 0  ? "cash_refund"
			   : strcmp(to, LEDGER_ACCT_CASH_FUNDING) == 0 ? "cash_refund_return"
								       : "refund";
	rc = ledger_post(db, merchant_id, kind, refund_id, e, sizeof(e) / sizeof(e[0]), now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt b = {
	    .type = "refund",
	    .source = refund_id,
	    .currency = settle,
	    .status = "available",
	    .description = "REFUND FOR CHARGE",
	    .journal_txn = jtx,
	    .amount = -settled,
	    .fee = 0,
	    .created = now,
	    .available_on = now,
	    .charge_id = charge_id,
	    .rate = converted ? &ch.rate : NULL,
	    .presentment_amount = -amount,
	};
	return bt_insert(db, merchant_id, &b, ret_balance_txn_id);
}

int ledger_refund(struct db *db, const char *merchant_id, const char *refund_id,
		  const char *charge_id, int64_t amount, const char *currency, int64_t now,
		  char ret_balance_txn_id[ID_MAX])
{
	return refund_post(db, merchant_id, refund_id, charge_id, amount, currency, now,
			   ret_balance_txn_id, LEDGER_ACCT_ACQUIRER_PAYABLE);
}

int ledger_cash_refund(struct db *db, const char *merchant_id, const char *refund_id,
		       const char *charge_id, int64_t amount, const char *currency, int64_t now,
		       char ret_balance_txn_id[ID_MAX])
{
	return refund_post(db, merchant_id, refund_id, charge_id, amount, currency, now,
			   ret_balance_txn_id, LEDGER_ACCT_CUSTOMER_CASH);
}

int ledger_cash_refund_return(struct db *db, const char *merchant_id, const char *refund_id,
			      const char *charge_id, int64_t amount, const char *currency,
			      int64_t now, char ret_balance_txn_id[ID_MAX])
{
	return refund_post(db, merchant_id, refund_id, charge_id, amount, currency, now,
			   ret_balance_txn_id, LEDGER_ACCT_CASH_FUNDING);
}

int ledger_refund_failure(struct db *db, const char *merchant_id, const char *refund_id,
			  int64_t amount, const char *currency, int64_t now,
			  char ret_balance_txn_id[ID_MAX])
{
	int rc = movement_amount_check(amount);
	if (rc != DB_OK)
		return rc;
	/* the refund's own booking says what to reverse */
	struct bt_fx rf;
	memset(&rf, 0, sizeof(rf));
	rc = bt_fx_load(db, merchant_id, NULL, refund_id, &rf);
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return rc;
	bool converted = rc == DB_OK && rf.converted;
	const char *settle = currency;
	int64_t settled = amount;
	if (converted) {
		if (strcmp(currency, rf.presentment_currency) != 0 ||
		    rf.presentment_amount != -amount)
			return LEDGER_ERR_INVALID;
		settle = rf.currency;
		if (__builtin_sub_overflow((int64_t)0, rf.amount, &settled))
			return LEDGER_ERR_OVERFLOW;
	}
	const struct ledger_entry e[] = {
	    {LEDGER_ACCT_ACQUIRER_PAYABLE, currency, amount},
	    {LEDGER_ACCT_FX, currency, converted ? -amount : 0},
	    {LEDGER_ACCT_FX, settle, converted ? settled : 0},
	    {LEDGER_ACCT_MERCHANT_AVAILABLE, settle, -settled},
	};
	char jtx[ID_MAX];
	rc = ledger_post(db, merchant_id, "refund_failure", refund_id, e, sizeof(e) / sizeof(e[0]),
			 now, jtx);
	if (rc != DB_OK)
		return rc;
	const struct bt b = {
	    .type = "refund_failure",
	    .source = refund_id,
	    .currency = settle,
	    .status = "available",
	    .description = "REFUND FAILURE",
	    .journal_txn = jtx,
	    .amount = settled,
	    .fee = 0,
	    .created = now,
	    .available_on = now,
	    .charge_id = rf.charge_id[0] ? rf.charge_id : NULL,
	    .rate = converted ? &rf.rate : NULL,
	    .presentment_amount = amount,
	};
	return bt_insert(db, merchant_id, &b, ret_balance_txn_id);
}

int ledger_convert_like_charge(struct db *db, const char *merchant_id, const char *charge_id,
			       int64_t amount_presentment, int64_t *ret_amount_settlement,
			       char ret_currency[8], struct fx_rate *ret_rate)
{
	if (!merchant_id || !charge_id || !ret_amount_settlement || !ret_currency || !ret_rate)
		return LEDGER_ERR_INVALID;
	if (!amount_in_range(amount_presentment))
		return LEDGER_ERR_OVERFLOW;
	struct bt_fx ch;
	int rc = bt_fx_load(db, merchant_id, charge_id, NULL, &ch);
	if (rc != DB_OK)
		return rc;
	struct fx_rate rate;
	int64_t settled = amount_presentment;
	if (ch.converted) {
		rate = ch.rate;
		rc = money_err(fx_convert_with_rate(
		    &rate, amount_presentment, ch.presentment_currency, ch.currency, &settled));
	} else {
		rc = money_err(fx_rate_init(&rate, ch.currency, ch.currency, FX_RATE_SCALE, 0));
	}
	if (rc != DB_OK)
		return rc;
	*ret_amount_settlement = settled;
	memcpy(ret_currency, ch.currency, 8);
	*ret_rate = rate;
	return DB_OK;
}

/* The scheduler works across the merchants of a shard: this is its one statement that is not
 * scoped by merchant. It walks the (status, available_on) index in order and stops at the limit,
 * so a backlog costs one batch per call, not a scan; each move then is scoped by merchant. */
static const char SQL_DUE[] =
    "SELECT merchant_id, id FROM balance_transactions WHERE status = 'pending'"
    " AND available_on <= $1 ORDER BY available_on LIMIT $2";
/* PostgreSQL: nodes running the scheduler together skip each other's locked rows */
static const char SQL_DUE_PG[] =
    "SELECT merchant_id, id FROM balance_transactions WHERE status = 'pending'"
    " AND available_on <= $1 ORDER BY available_on LIMIT $2 FOR UPDATE SKIP LOCKED";
/* A transaction made available before its available_on (test card 4000000000000077) says so:
 * available_on is when its funds became available, as on Stripe, never a later day. */
static const char SQL_MAKE_AVAILABLE[] =
    "UPDATE balance_transactions SET status = 'available',"
    " available_on = CASE WHEN available_on > $3 THEN $3 ELSE available_on END"
    " WHERE merchant_id = $1 AND id = $2 AND status = 'pending'";

static const char SQL_BT_NET[] =
    "SELECT net, currency FROM balance_transactions WHERE merchant_id = $1 AND id = $2";

int ledger_make_available_one(struct db *db, const char *merchant_id, const char *balance_txn_id,
			      int64_t now)
{
	struct db_stmt *st = db_prepare(db, SQL_BT_NET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, balance_txn_id, -1);
	int rc = db_step(st);
	int64_t net = 0;
	char currency[8] = "";
	if (rc == DB_ROW) {
		const char *cur = db_col_text(st, 1, NULL);
		net = db_col_int64(st, 0);
		str_copy(currency, sizeof(currency), cur ? cur : "");
	}
	db_reset(st);
	if (rc == DB_DONE)
		return 0;
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	/* the guard decides: only the runner whose update changed the row posts the move */
	st = db_prepare(db, SQL_MAKE_AVAILABLE);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, balance_txn_id, -1);
	db_bind_int64(st, 3, now);
	rc = db_step(st);
	int64_t changed = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	if (changed != 1)
		return 0;
	if (net != 0) { /* 0: a fully fee-capped charge, nothing to move */
		const struct ledger_entry e[] = {
		    {LEDGER_ACCT_MERCHANT_PENDING, currency, net},
		    {LEDGER_ACCT_MERCHANT_AVAILABLE, currency, -net},
		};
		rc =
		    ledger_post(db, merchant_id, "make_available", balance_txn_id, e, 2, now, NULL);
		if (rc != DB_OK)
			return rc;
	}
	/* the rolling reserve withheld from it becomes available with it (ledger_reserve.h) */
	rc = ledger_reserve_follow(db, merchant_id, balance_txn_id, now);
	return rc == DB_OK ? 1 : rc;
}

struct due {
	char merchant[ID_MAX], id[ID_MAX];
};

int ledger_make_available(struct db *db, int64_t now, int limit)
{
	if (limit <= 0)
		return 0;
	if (limit > DUE_BATCH_MAX)
		limit = DUE_BATCH_MAX;
	/* read the batch first, then update: updating rows of the index being scanned is not
	 * something to rely on */
	struct due *due = calloc((size_t)limit, sizeof(*due));
	if (!due)
		return DB_ERR;
	int n = 0, rc = DB_DONE;
	struct db_stmt *st = db_prepare(db, db_kind(db) == DB_POSTGRES ? SQL_DUE_PG : SQL_DUE);
	if (!st) {
		free(due);
		return DB_ERR;
	}
	db_bind_int64(st, 1, now);
	db_bind_int64(st, 2, limit);
	while (n < limit && (rc = db_step(st)) == DB_ROW) {
		const char *m = db_col_text(st, 0, NULL), *id = db_col_text(st, 1, NULL);
		str_copy(due[n].merchant, ID_MAX, m ? m : "");
		str_copy(due[n].id, ID_MAX, id ? id : "");
		n++;
	}
	db_reset(st);
	if (n < limit && rc != DB_DONE) {
		free(due);
		return rc < 0 ? rc : DB_ERR;
	}
	int moved = 0;
	for (int i = 0; i < n; i++) {
		rc = ledger_make_available_one(db, due[i].merchant, due[i].id, now);
		if (rc < 0) {
			free(due);
			return rc;
		}
		moved += rc;
	}
	free(due);
	return moved;
}

struct tick_ctx {
	int64_t now;
	int moved; /* this batch, over every shard */
	int full;  /* some shard may have more due (left set by an undone run: one batch more) */
	struct shard_share share;
};

static int tick_fn(struct db *db, void *p)
{
	struct tick_ctx *c = p;
	const int batch = scheduler_batch(DUE_BATCH_MAX);
	int moved = ledger_make_available(db, c->now, batch);
	if (moved < 0)
		return moved;
	c->moved += (int)shard_share_add(&c->share, db, moved);
	if (moved == batch)
		c->full = 1;
	return 0;
}

const char LEDGER_DUE_SQL[] = "SELECT 1 FROM balance_transactions WHERE status = 'pending'"
			      " AND available_on <= $1 LIMIT 1";

int ledger_scheduler_tick(struct store *s, int64_t now)
{
	int total = 0;
	for (int batch = 0; batch < TICK_BATCHES_MAX; batch++) {
		struct tick_ctx c = {.now = now};
		int rc = store_each_shard_write(s, tick_fn, &c);
		if (rc != 0)
			return rc < 0 ? rc : DB_ERR;
		total += c.moved;
		if (!c.full)
			break;
	}
	return total;
}

static const char SQL_BALANCE[] =
    "SELECT currency, status, SUM(net) FROM balance_transactions WHERE merchant_id = $1"
    " AND balance_type = 'payments' GROUP BY currency, status ORDER BY currency";
/* the Issuing balance (ledger_issuing.h): always available */
static const char SQL_BALANCE_ISSUING[] =
    "SELECT currency, SUM(net) FROM balance_transactions WHERE merchant_id = $1"
    " AND balance_type = 'issuing' GROUP BY currency ORDER BY currency";

struct balance_row {
	char currency[8];
	int64_t available, pending;
};

static void balance_list(struct json *j, const struct balance_row *rows, int n, int available)
{
	json_arr_open(j);
	for (int i = 0; i < n; i++) {
		int64_t amount = available ? rows[i].available : rows[i].pending;
		json_obj_open(j);
		json_kv_int(j, "amount", amount);
		json_kv_str(j, "currency", rows[i].currency);
		json_key(j, "source_types");
		json_obj_open(j);
		json_kv_int(j, "card", amount);
		json_obj_close(j);
		json_obj_close(j);
	}
	json_arr_close(j);
}

/* "issuing": {"available": [{amount, currency}]}, only for a merchant that has an Issuing
 * balance (one that never funded it sees no such key, as on Stripe) */
static int issuing_balance_render(struct db *db, const char *merchant_id, struct json *j)
{
	struct db_stmt *st = db_prepare(db, SQL_BALANCE_ISSUING);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	int rc, n = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *cur = db_col_text(st, 0, NULL);
		if (!cur)
			continue;
		if (n++ == 0) {
			json_key(j, "issuing");
			json_obj_open(j);
			json_key(j, "available");
			json_arr_open(j);
		}
		json_obj_open(j);
		json_kv_int(j, "amount", db_col_int64(st, 1));
		json_kv_str(j, "currency", cur);
		json_obj_close(j);
	}
	db_reset(st);
	if (n > 0) {
		json_arr_close(j);
		json_obj_close(j);
	}
	return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

int ledger_balance_render(struct db *db, const char *merchant_id, int livemode, struct json *j)
{
	struct balance_row *rows = calloc(BALANCE_CURRENCIES_MAX, sizeof(*rows));
	if (!rows)
		return DB_ERR;
	struct db_stmt *st = db_prepare(db, SQL_BALANCE);
	if (!st) {
		free(rows);
		return DB_ERR;
	}
	db_bind_text(st, 1, merchant_id, -1);
	int n = 0, rc;
	/* rows come ordered by currency: one balance_row per currency, both statuses in it; a SUM
	 * that overflows fails the step (SQLite raises) rather than wrapping */
	while ((rc = db_step(st)) == DB_ROW) {
		const char *cur = db_col_text(st, 0, NULL), *status = db_col_text(st, 1, NULL);
		if (!cur || !status)
			continue;
		if (n == 0 || strcmp(rows[n - 1].currency, cur) != 0) {
			if (n == BALANCE_CURRENCIES_MAX)
				break;
			str_copy(rows[n].currency, sizeof(rows[n].currency), cur);
			n++;
		}
		if (strcmp(status, "available") == 0)
			rows[n - 1].available = db_col_int64(st, 2);
		else
			rows[n - 1].pending = db_col_int64(st, 2);
	}
	db_reset(st);
	if (rc != DB_DONE && rc != DB_ROW) {
		free(rows);
		return rc < 0 ? rc : DB_ERR;
	}
	json_obj_open(j);
	json_kv_str(j, "object", "balance");
	json_key(j, "available");
	balance_list(j, rows, n, 1);
	rc = issuing_balance_render(db, merchant_id, j);
	if (rc != DB_OK) {
		free(rows);
		return rc;
	}
	json_kv_bool(j, "livemode", livemode != 0);
	json_key(j, "pending");
	balance_list(j, rows, n, 0);
	json_obj_close(j);
	free(rows);
	return DB_OK;
}

static const char SQL_BT_GET[] =
    "SELECT id, created, type, reporting_category, source, amount, fee, net, currency,"
    " exchange_rate, status, available_on, description FROM balance_transactions"
    " WHERE merchant_id = $1 AND id = $2";

int ledger_balance_txn_render(struct db *db, const char *merchant_id, const char *id,
			      struct json *j)
{
	return ledger_balance_txn_render_ex(db, merchant_id, id, NULL, NULL, j);
}

int ledger_balance_txn_render_ex(struct db *db, const char *merchant_id, const char *id,
				 ledger_source_fn source_fn, void *ctx, struct json *j)
{
	struct db_stmt *st = db_prepare(db, SQL_BT_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? DB_NOTFOUND : (rc < 0 ? rc : DB_ERR);
	}
	const char *currency = db_col_text(st, 8, NULL);
	int64_t fee = db_col_int64(st, 6);
	json_obj_open(j);
	json_kv_str(j, "id", db_col_text(st, 0, NULL));
	json_kv_str(j, "object", "balance_transaction");
	json_kv_int(j, "amount", db_col_int64(st, 5));
	json_kv_int(j, "available_on", db_col_int64(st, 11));
	json_kv_int(j, "created", db_col_int64(st, 1));
	json_kv_str(j, "currency", currency);
	json_kv_str_or_null(j, "description", db_col_text(st, 12, NULL));
	/* a decimal number written by the FX conversion (issue 7); null while none happened */
	size_t rate_len = 0;
	const char *rate = db_col_text(st, 9, &rate_len);
	if (rate && rate_len > 0)
		json_kv_raw(j, "exchange_rate", rate, rate_len);
	else
		json_kv_null(j, "exchange_rate");
	json_kv_int(j, "fee", fee);
	json_key(j, "fee_details");
	json_arr_open(j);
	if (fee != 0) {
		json_obj_open(j);
		json_kv_int(j, "amount", fee);
		json_kv_null(j, "application");
		json_kv_str(j, "currency", currency);
		const char *type = db_col_text(st, 2, NULL);
		/* a connected account's payment pays its platform's application fee (Connect) */
		bool app_fee = strcmp(type, "payment") == 0;
		json_kv_str(j, "description",
			    strcmp(type, "adjustment") == 0 ? "Dispute fee"
			    : app_fee			    ? "Application fee"
							    : "Stripe processing fees");
		json_kv_str(j, "type", app_fee ? "application_fee" : "stripe_fee");
		json_obj_close(j);
	}
	json_arr_close(j);
	json_kv_int(j, "net", db_col_int64(st, 7));
	json_kv_str(j, "reporting_category", db_col_text(st, 3, NULL));
	/* The rest is copied out and the statement reset before an expanded source is rendered:
	 * that render may itself render balance transactions (a dispute lists its own) with this
	 * same cached statement. Types and statuses are short words of Tender's own. */
	const char *src = db_col_text(st, 4, NULL);
	char source[ID_MAX], status[32], type[32];
	bool has_source = src != NULL;
	str_copy(source, sizeof(source), src ? src : "");
	str_copy(status, sizeof(status), db_col_text(st, 10, NULL));
	str_copy(type, sizeof(type), db_col_text(st, 2, NULL));
	db_reset(st);
	json_key(j, "source");
	if (!has_source) {
		json_nil(j);
	} else if (source_fn) {
		rc = source_fn(ctx, db, source, j);
		if (rc != DB_OK)
			return rc;
	} else {
		json_str(j, source);
	}
	json_kv_str(j, "status", status);
	json_kv_str(j, "type", type);
	json_obj_close(j);
	return DB_OK;
}
