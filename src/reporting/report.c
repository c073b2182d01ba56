/*
 * Reconciliation reports from the balance transactions (Stripe's Reporting API).
 *
 * Every report reads only balance_transactions (and, for payouts, the payouts they belong to),
 * which the ledger appends and never edits, selected by `created` in [interval_start,
 * interval_end): Stripe's balance reports select by creation too. So a report over a past
 * interval is fixed, and the reports agree with each other and with GET /v1/balance_transactions
 * (of the payments balance: the Issuing balance's transactions, ledger_issuing.h, are not in them):
 *
 *   ending_balance = starting_balance + activity + payouts     (per currency, exactly)
 *
 * where starting_balance is the net of everything created before interval_start, activity the
 * net of the interval's transactions other than payouts (balance_change_from_activity.*: its
 * summary's rows are the itemized rows grouped), payouts the net of the interval's `payout` and
 * `payout_reversal` transactions (payouts.itemized.1's rows; negative: money that left), and
 * ending_balance the net of everything created before interval_end. The balance is the whole
 * balance, pending and available alike, as a transaction counts from its creation.
 *
 * payout_reconciliation.* instead select by the automatic payout that settled each transaction
 * (see RECON_FROM): each payout's rows sum to the amount that reached the bank.
 *
 * Amounts leave the store as int64 minor units and are written as decimal major units by the
 * currency's ISO 4217 exponent (src/money/currencies.def: jpy 0, usd 2, kwd 3) with integer
 * division only; sums are SQL SUMs (exact integers on both stores), checked against int64 here.
 * Times are "YYYY-MM-DD HH:MM:SS": the _utc columns in UTC, the others in the run's timezone at
 * that instant (its offset then, daylight saving time included, from ICU's copy of the IANA
 * database: each time is converted on its own, so a report across a change shows both offsets).
 *
 * Bounds: a report has at most REPORT_ROWS_MAX rows (the statements ask for one more, to know)
 * and the output buffer's max bytes; past either the run fails rather than being cut short.
 */
#include "reporting/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "core/str.h"
#include "money/currency.h"

static const char *const summary_columns[] = {"category", "description", "net_amount", "currency",
					      NULL};
static const char *const activity_summary_columns[] = {
    "reporting_category", "currency", "count", "gross", "fee", "net", NULL};
static const char *const activity_itemized_columns[] = {
    "balance_transaction_id",
    "created_utc",
    "created",
    "available_on_utc",
    "available_on",
    "currency",
    "gross",
    "fee",
    "net",
    "reporting_category",
    "source_id",
    "description",
    "automatic_payout_id",
    NULL,
};
static const char *const activity_itemized_defaults[] = {"balance_transaction_id",
							 "created_utc",
							 "available_on_utc",
							 "currency",
							 "gross",
							 "fee",
							 "net",
							 "reporting_category",
							 "description",
							 NULL};
static const char *const payouts_itemized_columns[] = {
    "payout_id",
    "effective_at_utc",
    "effective_at",
    "currency",
    "gross",
    "fee",
    "net",
    "reporting_category",
    "description",
    "payout_expected_arrival_date",
    "payout_status",
    "payout_type",
    "payout_description",
    "payout_destination_id",
    "balance_transaction_id",
    NULL,
};
static const char *const payouts_itemized_defaults[] = {"payout_id",
							"effective_at_utc",
							"currency",
							"gross",
							"fee",
							"net",
							"reporting_category",
							"payout_expected_arrival_date",
							"payout_status",
							"payout_description",
							NULL};

static const char *const recon_itemized_columns[] = {
    "automatic_payout_id",
    "automatic_payout_effective_at_utc",
    "automatic_payout_effective_at",
    "balance_transaction_id",
    "created_utc",
    "created",
    "available_on_utc",
    "available_on",
    "currency",
    "gross",
    "fee",
    "net",
    "reporting_category",
    "source_id",
    "description",
    NULL,
};
static const char *const recon_itemized_defaults[] = {"automatic_payout_id",
						      "automatic_payout_effective_at_utc",
						      "balance_transaction_id",
						      "created_utc",
						      "available_on_utc",
						      "currency",
						      "gross",
						      "fee",
						      "net",
						      "reporting_category",
						      "description",
						      NULL};

static const struct report_type types[] = {
    {"balance.summary.1", "Balance summary", 1, RK_BALANCE_SUMMARY, RP_CURRENCY | RP_COLUMNS,
     summary_columns, summary_columns},
    {"balance_change_from_activity.itemized.1", "Balance change from activity (itemized)", 1,
     RK_ACTIVITY_ITEMIZED, RP_CURRENCY | RP_COLUMNS | RP_TIMEZONE | RP_REPORTING_CATEGORY,
     activity_itemized_columns, activity_itemized_defaults},
    {"balance_change_from_activity.summary.1", "Balance change from activity (summary)", 1,
     RK_ACTIVITY_SUMMARY, RP_CURRENCY | RP_COLUMNS | RP_REPORTING_CATEGORY,
     activity_summary_columns, activity_summary_columns},
    {"payouts.itemized.1", "Payouts (itemized)", 1, RK_PAYOUTS_ITEMIZED,
     RP_CURRENCY | RP_COLUMNS | RP_TIMEZONE, payouts_itemized_columns, payouts_itemized_defaults},
    {"payout_reconciliation.itemized.5", "Payout reconciliation (itemized)", 5, RK_RECON_ITEMIZED,
     RP_CURRENCY | RP_COLUMNS | RP_TIMEZONE | RP_REPORTING_CATEGORY, recon_itemized_columns,
     recon_itemized_defaults},
    {"payout_reconciliation.summary.1", "Payout reconciliation (summary)", 1, RK_RECON_SUMMARY,
     RP_CURRENCY | RP_COLUMNS | RP_REPORTING_CATEGORY, activity_summary_columns,
     activity_summary_columns},
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

const struct report_type *report_type_find(const char *id)
{
	for (size_t i = 0; id && i < NTYPES; i++)
		if (strcmp(types[i].id, id) == 0)
			return &types[i];
	return NULL;
}

const struct report_type *report_type_at(size_t i)
{
	return i < NTYPES ? &types[i] : NULL;
}

static int column_index(const char *const *cols, const char *c)
{
	for (int i = 0; c && cols[i]; i++)
		if (strcmp(cols[i], c) == 0)
			return i;
	return -1;
}

bool report_column_known(const struct report_type *t, const char *column)
{
	return t && column_index(t->columns, column) >= 0;
}

struct report_zone {
	UCalendar *cal;
};

/* ICU's zone names are UTF-16; IANA names are short ASCII */
#define ZONE_NAME_MAX 64

int report_zone_open(const char *tz, struct report_zone **ret)
{
	if (!tz || !*tz || strlen(tz) >= ZONE_NAME_MAX)
		return -1;
	UChar id[ZONE_NAME_MAX], canonical[ZONE_NAME_MAX];
	for (size_t i = 0;; i++) {
		if ((unsigned char)tz[i] > 0x7e)
			return -1;
		id[i] = (UChar)tz[i];
		if (!tz[i])
			break;
	}
	/* ucal_open takes an unknown name for GMT without a word: ask for the name first */
	UErrorCode st = U_ZERO_ERROR;
	UBool system = 0;
	ucal_getCanonicalTimeZoneID(id, -1, canonical, ZONE_NAME_MAX, &system, &st);
	if (U_FAILURE(st) || !system)
		return -1;
	struct report_zone *z = malloc(sizeof(*z));
	if (!z)
		return -1;
	z->cal = ucal_open(id, -1, "en_US_POSIX", UCAL_GREGORIAN, &st);
	if (U_FAILURE(st) || !z->cal) {
		if (z->cal)
			ucal_close(z->cal);
		free(z);
		return -1;
	}
	*ret = z;
	return 0;
}

void report_zone_close(struct report_zone *z)
{
	if (!z)
		return;
	ucal_close(z->cal);
	free(z);
}

int report_zone_offset(struct report_zone *z, int64_t t, int32_t *ret_offset_s)
{
	/* ICU's instants are milliseconds in a double (exact for any time a report holds: far
	 * below 2^53); no amount passes here */
	if (t < -(INT64_C(1) << 40) || t > (INT64_C(1) << 40))
		return -1;
	UErrorCode st = U_ZERO_ERROR;
	ucal_setMillis(z->cal, (UDate)t * 1000.0, &st);
	int32_t raw = ucal_get(z->cal, UCAL_ZONE_OFFSET, &st);
	int32_t dst = ucal_get(z->cal, UCAL_DST_OFFSET, &st);
	if (U_FAILURE(st))
		return -1;
	*ret_offset_s = (raw + dst) / 1000;
	return 0;
}

bool report_timezone_supported(const char *tz)
{
	struct report_zone *z;
	if (report_zone_open(tz, &z) != 0)
		return false;
	report_zone_close(z);
	return true;
}

int report_amount_format(int64_t amount_minor, const char *currency, char *out, size_t n)
{
	const struct currency *c = currency_find(currency);
	if (!c || c->exponent < 0 || c->exponent > 3 || n == 0)
		return -1;
	/* the magnitude as unsigned: INT64_MIN has no positive int64 */
	uint64_t u =
	    amount_minor < 0 ? (uint64_t)0 - (uint64_t)amount_minor : (uint64_t)amount_minor;
	uint64_t p = 1;
	for (int i = 0; i < c->exponent; i++)
		p *= 10;
	int w;
	if (c->exponent == 0)
		w = snprintf(out, n, "%s%llu", amount_minor < 0 ? "-" : "", (unsigned long long)u);
	else
		w = snprintf(out, n, "%s%llu.%0*llu", amount_minor < 0 ? "-" : "",
			     (unsigned long long)(u / p), c->exponent, (unsigned long long)(u % p));
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

static int time_format(int64_t t, bool date_only, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || n == 0)
		return -1;
	size_t w = date_only ? strftime(out, n, "%Y-%m-%d", &tm)
			     : strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
	return w == 0 ? -1 : 0;
}

int report_time_format(int64_t t, char *out, size_t n)
{
	return time_format(t, false, out, n);
}

/* a control byte other than tab, CR and LF becomes a space: the file is text (files.c sniffs
 * it as CSV) */
static void put_text(struct buf *b, const char *s)
{
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		buf_putc(b, c < 0x20 && c != '\t' && c != '\r' && c != '\n' ? ' ' : *p);
	}
}

void report_csv_field(struct buf *b, const char *s)
{
	if (!s)
		return;
	if (!s[strcspn(s, ",\"\r\n")]) {
		put_text(b, s);
		return;
	}
	buf_putc(b, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			buf_putc(b, '"');
		char one[2] = {*p, 0};
		put_text(b, one);
	}
	buf_putc(b, '"');
}

static const char SQL_FIRST[] =
    "SELECT MIN(created) FROM balance_transactions WHERE merchant_id = $1";

int report_data_available(struct db *db, const char *merchant_id, int64_t now, int64_t *ret_start,
			  int64_t *ret_end)
{
	struct db_stmt *st = db_prepare(db, SQL_FIRST);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	int rc = db_step(st);
	int64_t first = now;
	if (rc == DB_ROW && !db_col_is_null(st, 0))
		first = db_col_int64(st, 0);
	db_reset(st);
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	if (first > now)
		first = now;
	/* the UTC day the data starts (Stripe's reports start on a day) */
	int64_t day = first - (first % 86400 + 86400) % 86400;
	*ret_start = day;
	*ret_end = now;
	return DB_OK;
}

/* ---- the reports ---- */

#define PAYOUT_CATEGORIES "('payout', 'payout_reversal')"

static const char SQL_SUMMARY[] =
    "SELECT currency,"
    " SUM(CASE WHEN created < $2 THEN net ELSE 0 END),"
    " SUM(CASE WHEN created >= $2 AND reporting_category NOT IN " PAYOUT_CATEGORIES
    " THEN amount ELSE 0 END),"
    " SUM(CASE WHEN created >= $2 AND reporting_category NOT IN " PAYOUT_CATEGORIES
    " THEN fee ELSE 0 END),"
    " SUM(CASE WHEN created >= $2 AND reporting_category NOT IN " PAYOUT_CATEGORIES
    " THEN net ELSE 0 END),"
    " SUM(CASE WHEN created >= $2 AND reporting_category IN " PAYOUT_CATEGORIES
    " THEN net ELSE 0 END)"
    " FROM balance_transactions WHERE merchant_id = $1 AND balance_type = 'payments'"
    " AND created < $3"
    " AND ($4 IS NULL OR currency = $4) GROUP BY currency ORDER BY currency LIMIT $5";

static const char SQL_ACTIVITY_SUMMARY[] =
    "SELECT reporting_category, currency, COUNT(*), SUM(amount), SUM(fee), SUM(net)"
    " FROM balance_transactions WHERE merchant_id = $1 AND balance_type = 'payments'"
    " AND created >= $2 AND created < $3"
    " AND reporting_category NOT IN " PAYOUT_CATEGORIES
    " AND ($4 IS NULL OR currency = $4) AND ($5 IS NULL OR reporting_category = $5)"
    " GROUP BY currency, reporting_category ORDER BY currency, reporting_category LIMIT $6";

static const char SQL_ACTIVITY_ITEMIZED[] =
    "SELECT id, created, available_on, currency, amount, fee, net, reporting_category, source,"
    " description, payout FROM balance_transactions"
    " WHERE merchant_id = $1 AND balance_type = 'payments' AND created >= $2 AND created < $3"
    " AND reporting_category NOT IN " PAYOUT_CATEGORIES
    " AND ($4 IS NULL OR currency = $4) AND ($5 IS NULL OR reporting_category = $5)"
    " ORDER BY created, id LIMIT $6";

static const char SQL_PAYOUTS_ITEMIZED[] =
    "SELECT b.source, b.created, b.currency, b.amount, b.fee, b.net, b.reporting_category,"
    " b.description, p.arrival_date, p.status, p.type, p.description, p.destination, b.id"
    " FROM balance_transactions AS b LEFT JOIN payouts AS p"
    " ON p.merchant_id = b.merchant_id AND p.id = b.source"
    " WHERE b.merchant_id = $1 AND b.created >= $2 AND b.created < $3"
    " AND b.reporting_category IN " PAYOUT_CATEGORIES
    " AND ($4 IS NULL OR b.currency = $4) ORDER BY b.created, b.id LIMIT $5";

/* Payout reconciliation: the transactions each automatic payout settled (balance_transactions.
 * payout, set by the payout's own write), the payout's own transaction aside, for the automatic
 * payouts whose arrival_date (Stripe's effective_at) is in the interval: what arrived in the bank
 * then, however long before the transactions were made. */
#define RECON_FROM                                                                                 \
	" FROM balance_transactions AS b JOIN payouts AS p"                                        \
	" ON p.merchant_id = b.merchant_id AND p.id = b.payout"                                    \
	" WHERE b.merchant_id = $1 AND p.automatic = 1 AND p.arrival_date >= $2"                   \
	" AND p.arrival_date < $3 AND b.id <> p.balance_transaction"                               \
	" AND ($4 IS NULL OR b.currency = $4) AND ($5 IS NULL OR b.reporting_category = $5)"
static const char SQL_RECON_ITEMIZED[] =
    "SELECT p.id, p.arrival_date, b.id, b.created, b.available_on, b.currency, b.amount, b.fee,"
    " b.net, b.reporting_category, b.source, b.description" RECON_FROM
    " ORDER BY p.arrival_date, p.id, b.created, b.id LIMIT $6";
static const char SQL_RECON_SUMMARY[] =
    "SELECT b.reporting_category, b.currency, COUNT(*), SUM(b.amount), SUM(b.fee), "
    "SUM(b.net)" RECON_FROM " GROUP BY b.currency, b.reporting_category"
    " ORDER BY b.currency, b.reporting_category LIMIT $6";

/* One row's values by the type's column index (NULL: empty field). */
struct row {
	const char *v[REPORT_COLUMNS_MAX];
	char amt[3][32];
	char count[24];
};

struct out {
	const struct report_type *t;
	const char *const *cols;
	int ncols;
	int idx[REPORT_COLUMNS_MAX]; /* the selected columns' indexes in t->columns */
	struct buf *b;
	int rows;
};

static int out_init(struct out *o, const struct report_type *t, const struct report_params *p,
		    struct buf *b)
{
	memset(o, 0, sizeof(*o));
	o->t = t;
	o->b = b;
	if (p->ncolumns > 0) {
		o->cols = p->columns;
		o->ncols = p->ncolumns;
	} else {
		o->cols = t->defaults;
		while (t->defaults[o->ncols])
			o->ncols++;
	}
	if (o->ncols > REPORT_COLUMNS_MAX)
		return REPORT_BAD;
	for (int i = 0; i < o->ncols; i++) {
		o->idx[i] = column_index(t->columns, o->cols[i]);
		if (o->idx[i] < 0 || o->idx[i] >= REPORT_COLUMNS_MAX)
			return REPORT_BAD;
	}
	for (int i = 0; i < o->ncols; i++) {
		if (i)
			buf_putc(b, ',');
		report_csv_field(b, o->cols[i]);
	}
	buf_puts(b, "\r\n");
	return REPORT_OK;
}

static int out_row(struct out *o, const struct row *r)
{
	if (++o->rows > REPORT_ROWS_MAX)
		return REPORT_TOO_LARGE;
	for (int i = 0; i < o->ncols; i++) {
		if (i)
			buf_putc(o->b, ',');
		report_csv_field(o->b, r->v[o->idx[i]]);
	}
	buf_puts(o->b, "\r\n");
	return o->b->failed ? REPORT_TOO_LARGE : REPORT_OK;
}

static const char *amount(struct row *r, int slot, int64_t v, const char *currency)
{
	if (report_amount_format(v, currency, r->amt[slot], sizeof(r->amt[slot])) != 0)
		return NULL;
	return r->amt[slot];
}

/* finishes a statement's loop: DB_DONE is success */
static int step_end(struct db_stmt *st, int rc)
{
	db_reset(st);
	if (rc == DB_DONE || rc == REPORT_OK)
		return REPORT_OK;
	return rc;
}

static int add3(int64_t a, int64_t b, int64_t c, int64_t *ret)
{
	int64_t s;
	if (__builtin_add_overflow(a, b, &s) || __builtin_add_overflow(s, c, &s))
		return REPORT_OVERFLOW;
	*ret = s;
	return REPORT_OK;
}

static int balance_summary(struct db *db, const char *merchant_id, const struct report_params *p,
			   struct out *o)
{
	struct db_stmt *st = db_prepare(db, SQL_SUMMARY);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_int64(st, 2, p->interval_start);
	db_bind_int64(st, 3, p->interval_end);
	db_bind_text(st, 4, p->currency, -1);
	db_bind_int64(st, 5, REPORT_ROWS_MAX + 1);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		char cur[8];
		str_copy(cur, sizeof(cur), db_col_text(st, 0, NULL));
		int64_t start = db_col_int64(st, 1), gross = db_col_int64(st, 2);
		int64_t fee = db_col_int64(st, 3), act = db_col_int64(st, 4);
		int64_t payouts = db_col_int64(st, 5), end, neg_fee;
		if (__builtin_sub_overflow((int64_t)0, fee, &neg_fee) ||
		    add3(start, act, payouts, &end) != REPORT_OK) {
			rc = REPORT_OVERFLOW;
			break;
		}
		static const char *const cat[] = {"starting_balance", "activity_gross",
						  "activity_fee",     "activity",
						  "payouts",	      "ending_balance"};
		static const char *const desc[] = {
		    "Starting balance", "Activity before fees",
		    "Less fees",	"Net balance change from activity",
		    "Total payouts",	"Ending balance"};
		const int64_t val[] = {start, gross, neg_fee, act, payouts, end};
		for (int i = 0; i < 6 && rc == DB_ROW; i++) {
			struct row r;
			memset(&r, 0, sizeof(r));
			r.v[0] = cat[i];
			r.v[1] = desc[i];
			r.v[2] = amount(&r, 0, val[i], cur);
			r.v[3] = cur;
			if (!r.v[2])
				rc = REPORT_BAD;
			else if (out_row(o, &r) != REPORT_OK)
				rc = REPORT_TOO_LARGE;
		}
		if (rc != DB_ROW)
			break;
	}
	return step_end(st, rc);
}

/* balance_change_from_activity.summary.1 and payout_reconciliation.summary.1: one statement's
 * (category, currency, count, gross, fee, net) rows */
static int category_summary(struct db *db, const char *sql, const char *merchant_id,
			    const struct report_params *p, struct out *o)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_int64(st, 2, p->interval_start);
	db_bind_int64(st, 3, p->interval_end);
	db_bind_text(st, 4, p->currency, -1);
	db_bind_text(st, 5, p->reporting_category, -1);
	db_bind_int64(st, 6, REPORT_ROWS_MAX + 1);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		struct row r;
		memset(&r, 0, sizeof(r));
		const char *cur = db_col_text(st, 1, NULL);
		r.v[0] = db_col_text(st, 0, NULL);
		r.v[1] = cur;
		snprintf(r.count, sizeof(r.count), "%lld", (long long)db_col_int64(st, 2));
		r.v[2] = r.count;
		r.v[3] = amount(&r, 0, db_col_int64(st, 3), cur);
		r.v[4] = amount(&r, 1, db_col_int64(st, 4), cur);
		r.v[5] = amount(&r, 2, db_col_int64(st, 5), cur);
		if (!r.v[3] || !r.v[4] || !r.v[5]) {
			rc = REPORT_BAD;
			break;
		}
		if ((rc = out_row(o, &r)) != REPORT_OK)
			break;
	}
	return step_end(st, rc);
}

/* An itemized report is its statement and, for each of its columns (in the type's column order),
 * where the value comes from: one statement column, as it is, or formatted. */
enum cell_kind {
	CELL_TEXT,    /* the column's text (NULL: an empty field) */
	CELL_UTC,     /* a time in UTC */
	CELL_LOCAL,   /* the same instant in the run's timezone */
	CELL_AMOUNT,  /* minor units written in the row's currency */
	CELL_DATE_OR, /* a date, or an empty field when the column is NULL */
};

struct cell {
	unsigned char kind;
	unsigned char src; /* the statement's column */
	bool required;	   /* a value that fails to format fails the run */
};

struct itemized {
	const char *sql;
	bool by_category; /* binds the reporting_category filter as $5 */
	unsigned char currency_src;
	unsigned char ncells;
	struct cell cells[REPORT_COLUMNS_MAX];
};

/* the cells, by kind: T(c) text, U(c) UTC time, L(c) local time, A(c) amount, D(c) date or empty */
/* clang-format off */
#define T(c) {CELL_TEXT, c, false}
#define U(c) {CELL_UTC, c, true}
#define L(c) {CELL_LOCAL, c, false}
#define A(c) {CELL_AMOUNT, c, true}
#define D(c) {CELL_DATE_OR, c, false}
/* clang-format on */
static const struct itemized activity_itemized = {
    .sql = SQL_ACTIVITY_ITEMIZED,
    .by_category = true,
    .currency_src = 3,
    .ncells = 13,
    .cells = {T(0), U(1), L(1), U(2), L(2), T(3), A(4), A(5), A(6), T(7), T(8), T(9), T(10)}};
static const struct itemized payouts_itemized = {.sql = SQL_PAYOUTS_ITEMIZED,
						 .by_category = false,
						 .currency_src = 2,
						 .ncells = 15,
						 .cells = {T(0), U(1), L(1), T(2), A(3), A(4), A(5),
							   T(6), T(7), D(8), T(9), T(10), T(11),
							   T(12), T(13)}};
static const struct itemized recon_itemized = {.sql = SQL_RECON_ITEMIZED,
					       .by_category = true,
					       .currency_src = 5,
					       .ncells = 15,
					       .cells = {T(0), U(1), L(1), T(2), U(3), L(3), U(4),
							 L(4), T(5), A(6), A(7), A(8), T(9), T(10),
							 T(11)}};
#undef T
#undef U
#undef L
#undef A
#undef D

/* one cell's value, formatted into f (NULL: an empty field) */
static const char *cell_value(const struct cell *c, struct db_stmt *st, const char *currency,
			      const struct report_params *p, char *f, size_t n)
{
	int64_t v = db_col_int64(st, c->src);
	int32_t off = 0;
	switch (c->kind) {
	case CELL_AMOUNT:
		return report_amount_format(v, currency, f, n) == 0 ? f : NULL;
	case CELL_LOCAL:
		if (p->zone && report_zone_offset(p->zone, v, &off) != 0)
			return NULL;
		return time_format(v + off, false, f, n) == 0 ? f : NULL;
	case CELL_UTC:
		return time_format(v, false, f, n) == 0 ? f : NULL;
	case CELL_DATE_OR:
		if (db_col_is_null(st, c->src))
			return NULL;
		return time_format(v, true, f, n) == 0 ? f : NULL;
	default:
		return db_col_text(st, c->src, NULL);
	}
}

static int itemized(struct db *db, const struct itemized *it, const char *merchant_id,
		    const struct report_params *p, struct out *o)
{
	struct db_stmt *st = db_prepare(db, it->sql);
	if (!st)
		return DB_ERR;
	int n = 1;
	db_bind_text(st, n++, merchant_id, -1);
	db_bind_int64(st, n++, p->interval_start);
	db_bind_int64(st, n++, p->interval_end);
	db_bind_text(st, n++, p->currency, -1);
	if (it->by_category)
		db_bind_text(st, n++, p->reporting_category, -1);
	db_bind_int64(st, n, REPORT_ROWS_MAX + 1);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		struct row r;
		char f[REPORT_COLUMNS_MAX][32];
		memset(&r, 0, sizeof(r));
		const char *cur = db_col_text(st, it->currency_src, NULL);
		for (int i = 0; i < it->ncells && rc == DB_ROW; i++) {
			r.v[i] = cell_value(&it->cells[i], st, cur, p, f[i], sizeof(f[i]));
			if (!r.v[i] && it->cells[i].required)
				rc = REPORT_BAD;
		}
		if (rc != DB_ROW || (rc = out_row(o, &r)) != REPORT_OK)
			break;
	}
	return step_end(st, rc);
}

int report_compute(struct db *db, const char *merchant_id, const struct report_type *t,
		   const struct report_params *p, struct buf *out)
{
	struct out o;
	if (!t || p->interval_start > p->interval_end)
		return REPORT_BAD;
	int rc = out_init(&o, t, p, out);
	if (rc != REPORT_OK)
		return rc;
	switch (t->kind) {
	case RK_BALANCE_SUMMARY:
		rc = balance_summary(db, merchant_id, p, &o);
		break;
	case RK_ACTIVITY_SUMMARY:
		rc = category_summary(db, SQL_ACTIVITY_SUMMARY, merchant_id, p, &o);
		break;
	case RK_RECON_SUMMARY:
		rc = category_summary(db, SQL_RECON_SUMMARY, merchant_id, p, &o);
		break;
	case RK_RECON_ITEMIZED:
		rc = itemized(db, &recon_itemized, merchant_id, p, &o);
		break;
	case RK_ACTIVITY_ITEMIZED:
		rc = itemized(db, &activity_itemized, merchant_id, p, &o);
		break;
	case RK_PAYOUTS_ITEMIZED:
		rc = itemized(db, &payouts_itemized, merchant_id, p, &o);
		break;
	default:
		rc = REPORT_BAD;
	}
	if (rc == REPORT_OK && out->failed)
		rc = REPORT_TOO_LARGE;
	return rc;
}
