/*
 * Stripe's Reporting API, the part that is not HTTP (src/reporting/report.c): the report types
 * Tender runs, their columns, and the CSV each computes from the merchant's balance transactions
 * (src/api/reporting.c serves the objects and runs this from the scheduler).
 */
#ifndef TENDER_REPORTING_REPORT_H
#define TENDER_REPORTING_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/db.h"

#define REPORT_COLUMNS_MAX 24
#define REPORT_COLUMN_NAME_MAX 48
/* A report holds at most this many rows: past it the run fails (run a shorter interval). */
#define REPORT_ROWS_MAX 100000
/* and at most this many bytes (the finance_report_run file purpose's limit, src/api/files.c) */
#define REPORT_BYTES_MAX (16u << 20)

/* What a report type takes besides interval_start / interval_end (which all take). */
enum report_param {
	RP_CURRENCY = 0x1,
	RP_COLUMNS = 0x2,
	RP_TIMEZONE = 0x4,
	RP_REPORTING_CATEGORY = 0x8,
};

enum report_kind {
	RK_BALANCE_SUMMARY,
	RK_ACTIVITY_SUMMARY,
	RK_ACTIVITY_ITEMIZED,
	RK_PAYOUTS_ITEMIZED,
	RK_RECON_ITEMIZED,
	RK_RECON_SUMMARY,
};

struct report_type {
	const char *id;	  /* "balance.summary.1" */
	const char *name; /* Stripe's human-readable name */
	int version;
	enum report_kind kind;
	unsigned params;	     /* enum report_param bits */
	const char *const *columns;  /* every column it can give, NULL-terminated */
	const char *const *defaults; /* the ones it gives when columns[] is not sent */
};

/* The report type with that id, or NULL. */
const struct report_type *report_type_find(const char *id);
/* The report types in the order Stripe lists them; NULL past the end. */
const struct report_type *report_type_at(size_t i);
/* True when the report type gives this column. */
bool report_column_known(const struct report_type *t, const char *column);

/* A time zone of the IANA database (Etc/UTC, America/New_York, Etc/GMT+5 …), read through ICU's
 * calendar, which carries the rules of every zone, daylight saving time and history included.
 * Opened once per report run and used by one thread. */
struct report_zone;
/* 0 (*ret open), or -1 for a name ICU does not know (or no memory). */
int report_zone_open(const char *tz, struct report_zone **ret);
void report_zone_close(struct report_zone *z);
/* The zone's offset from UTC at unix time t, in seconds (east positive: America/New_York is
 * −18000 in January, −14400 in July). 0, or -1. */
int report_zone_offset(struct report_zone *z, int64_t t, int32_t *ret_offset_s);
bool report_timezone_supported(const char *tz);

/* Formats amount_minor of currency (its ISO 4217 exponent: "1234" usd → "12.34", jpy → "1234",
 * kwd → "1.234", -5 usd → "-0.05") into out. Integer arithmetic only. 0, or -1 when the currency
 * is unknown or out is too small. */
int report_amount_format(int64_t amount_minor, const char *currency, char *out, size_t n);
/* "YYYY-MM-DD HH:MM:SS" of a unix time in UTC (Stripe's report timestamps). 0 or -1. */
int report_time_format(int64_t t, char *out, size_t n);

/* The span a merchant's reports may cover: from the UTC day of its first balance transaction
 * (today's when it has none) to now. DB_OK or < 0. */
int report_data_available(struct db *db, const char *merchant_id, int64_t now, int64_t *ret_start,
			  int64_t *ret_end);

struct report_params {
	int64_t interval_start, interval_end; /* [start, end) on balance transactions' created */
	const char *currency;		      /* NULL: every currency */
	const char *reporting_category;	      /* NULL: every one the report covers */
	struct report_zone *zone; /* the run's timezone, for the non-_utc times; NULL: UTC */
	const char *columns[REPORT_COLUMNS_MAX];
	int ncolumns; /* 0: the type's default columns */
};

enum report_err {
	REPORT_OK = 0,
	REPORT_TOO_LARGE = -20, /* more than REPORT_ROWS_MAX rows or REPORT_BYTES_MAX bytes */
	REPORT_OVERFLOW = -21,	/* a sum past int64 */
	REPORT_BAD = -22,	/* an unknown column, currency or type */
};

/* Computes the report of type t for merchant_id into out (CSV, RFC 4180, a header row then the
 * rows; out's own max should be at least REPORT_BYTES_MAX). REPORT_OK, a REPORT_* error, or a
 * store error (< 0). */
int report_compute(struct db *db, const char *merchant_id, const struct report_type *t,
		   const struct report_params *p, struct buf *out);

/* Appends one CSV field (quoted when it holds a comma, quote, CR or LF). */
void report_csv_field(struct buf *b, const char *s);

#endif
