/*
 * Exchange rates and currency conversion, exact and integer-only.
 *
 * A rate is a fixed-point integer with twelve decimals: rate_e12 = 1082300000000 means
 * "1 major unit of base = 1.0823 major units of quote". Twelve decimals keep every rate anyone
 * publishes (the ECB uses at most six) exact, and any conversion of a Stripe-sized amount (up to
 * 99,999,999 minor units) loses far less than half a minor unit to the rate's granularity. The
 * range is 0.000000000001 ... 9,223,372.036854775807 quote per base; rates outside it are refused,
 * never approximated.
 *
 * Conversion of amount_minor from currency A (exponent ea) to B (exponent eb) at rate R:
 *
 *     result_minor = round_half_away( amount_minor × R × 10^eb / (10^12 × 10^ea) )
 *
 * computed on the exact rational value in __int128 and rounded ONCE with the rule in money.h
 * (half away from zero). So 1.00 usd → jpy at 156.73 gives 157 (not 156.73 truncated), a
 * conversion of −x is exactly −(conversion of x), and every intermediate is overflow-checked:
 * a result outside int64_t is MONEY_ERR_OVERFLOW, never a wrapped number.
 *
 * Which rate (fx_lookup / fx_convert, at a time t):
 *   1. the direct pair A→B: the entry with the latest valid_from <= t;
 *   2. else the inverse pair B→A, inverted: rate = round_half_away(10^24 / R_BA);
 *   3. else a cross rate through a pivot currency, eur first, then usd (ECB files are all
 *      eur-based): legs A→P and P→B, each direct or inverted, multiplied as exact rationals and
 *      rounded once to 12 decimals: usd→jpy = round(R_eur,jpy × 10^12 / R_eur,usd);
 *   4. else two hops through both pivots (kwd→usd→eur→jpy, for a table mixing usd-based and
 *      eur-based rates): the two legs that share a pivot are combined and rounded as in 3, then
 *      combined with the third leg and rounded again. No other currency serves as a pivot.
 *   The derived rate's valid_from is the later of its legs'. Nothing checks staleness: the caller
 *   sees valid_from in the returned struct fx_rate and decides. Pass FX_LATEST as the time to
 *   take the newest rate whatever its date.
 *
 * Recorded rates: fx_convert returns the rate it used (struct fx_rate, a plain value the caller
 * can store: two codes and two integers). A refund or dispute of a converted charge converts
 * with fx_convert_with_rate and that recorded rate, so it uses the charge's rate, not today's.
 * Converting back (B→A with the same A→B rate) divides by the rate exactly and rounds once; a
 * round trip A→B→A returns the original amount when one minor unit of A is worth at least one
 * minor unit of B, and otherwise is off by at most ceil(1/(2r)) minor units of A, where r is
 * the value of one minor unit of A in minor units of B (usd→jpy: exact; jpy→usd→jpy: ±1 yen).
 *
 * Rendering: fx_rate_to_decimal_string gives the decimal text for a balance transaction's
 * exchange_rate (Stripe: amount_presentment_major × exchange_rate = amount_settlement_major,
 * i.e. base = presentment currency, quote = settlement currency): up to 12 decimals, trailing
 * zeros trimmed, no exponent, a valid JSON number to emit raw.
 *
 * Files (fx_table_load_file picks the format by the first non-blank byte: '<' is ECB XML):
 *   CSV: one rate per line, `base,quote,rate,valid_from`, e.g. `usd,jpy,156.73,2026-11-20`.
 *     Codes in either case; rate a plain positive decimal ("156.73", no sign or exponent, at most
 *     12 decimals, extra zeros beyond that allowed); valid_from unix seconds or YYYY-MM-DD
 *     (00:00 UTC). Blank lines, lines starting with '#' and a first line starting with "base"
 *     (a header) are skipped; CRLF is fine. Any other malformed line fails the whole load with
 *     its line number: a rates file is operator input and half-loading it would be worse.
 *   ECB XML (eurofxref-daily.xml, -hist-90d.xml, -hist.xml): <Cube time='YYYY-MM-DD'> blocks of
 *     <Cube currency='USD' rate='1.0823'/>; each gives eur→currency valid from that date at 00:00
 *     UTC. A bounded scanner for this fixed layout (no libxml2): it skips the prolog, comments and
 *     other elements and refuses what it cannot read (unterminated tags, a rate outside a time
 *     block, malformed numbers). Currencies Tender does not know (withdrawn codes in the history
 *     files) are skipped, not errors.
 *   Both: duplicate (base, quote, valid_from) rows and files with no rate are refused; at most
 *   FX_FILE_MAX bytes and FX_ENTRIES_MAX rates.
 *
 * Threads and reload: a table is immutable once loaded, so any number of threads may read it at
 * once without locking. To reload (SIGHUP), load a new table and swap the shared pointer under
 * the lock that readers hold while taking a reference (fx_table_ref); each reader drops its
 * reference with fx_table_free when done, and the last one frees the table. A process with a
 * single owner can simply load and free.
 */
#ifndef TENDER_MONEY_FX_H
#define TENDER_MONEY_FX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "money/money.h"

#define FX_RATE_DECIMALS 12
#define FX_RATE_SCALE INT64_C(1000000000000) /* 10^FX_RATE_DECIMALS */
#define FX_LATEST INT64_MAX		     /* "at" meaning: the newest rate, whatever its date */
#define FX_RATE_STR_MAX 32		     /* fx_rate_to_decimal_string: enough for any rate */
#define FX_FILE_MAX (32u << 20) /* largest rates file read (the ECB history is ~8 MB) */
#define FX_ENTRIES_MAX 2000000u /* most rates in one table */

struct fx_rate {
	char base[4];	    /* lowercase code: the currency converted from */
	char quote[4];	    /* lowercase code: the currency converted to */
	int64_t rate_e12;   /* 1 major base = rate_e12 / 10^12 major quote; > 0 */
	int64_t valid_from; /* unix seconds (the later leg's for a derived rate; 0 for identity) */
};

struct fx_table;

/* Loaders return NULL on failure with a one-line reason in err (when err && errlen). */
struct fx_table *fx_table_load_file(const char *path, char *err, size_t errlen);
struct fx_table *fx_table_load_csv(const char *text, size_t len, char *err, size_t errlen);
struct fx_table *fx_table_load_ecb(const char *text, size_t len, char *err, size_t errlen);
/* The snapshot embedded from data/rates/ecb-snapshot.xml (fixed test data, not live rates). NULL
 * only when out of memory. */
struct fx_table *fx_table_load_bundled(void);
/* Takes another reference (see "Threads and reload" above); returns t. */
struct fx_table *fx_table_ref(struct fx_table *t);
/* Drops a reference; the last one frees the table. NULL is fine. */
void fx_table_free(struct fx_table *t);
/* Whether some rate of t has code (lowercase) as its base or quote: the currencies t converts. */
bool fx_table_names(const struct fx_table *t, const char *code);
/* The loaded rates in (base, quote, valid_from) order, for listings and diagnostics. */
size_t fx_table_count(const struct fx_table *t);
int fx_table_at(const struct fx_table *t, size_t i, struct fx_rate *ret_rate);

/* The rate for base→quote valid at at_unix (direct, inverted or cross, as described above).
 * base == quote gives the identity rate. MONEY_ERR_UNKNOWN_CURRENCY, MONEY_ERR_NO_RATE,
 * MONEY_ERR_OVERFLOW (a derived rate outside the representable range), MONEY_ERR_INVALID. */
int fx_lookup(const struct fx_table *t, const char *base, const char *quote, int64_t at_unix,
	      struct fx_rate *ret_rate);
/* Converts amount_minor of `from` into `to` at the rate valid at at_unix; ret_rate (may be NULL)
 * receives the rate used, to record on the charge. Same currency: the amount, unchanged. */
int fx_convert(const struct fx_table *t, int64_t amount_minor, const char *from, const char *to,
	       int64_t at_unix, int64_t *ret_amount_minor, struct fx_rate *ret_rate);
/* Converts with a recorded rate: from == rate->base and to == rate->quote multiplies; the reverse
 * direction divides by the rate (both exact, rounded once). Any other pair is MONEY_ERR_INVALID. */
int fx_convert_with_rate(const struct fx_rate *rate, int64_t amount_minor, const char *from,
			 const char *to, int64_t *ret_amount_minor);

/* Builds a rate from stored columns, validating them (known codes, rate_e12 > 0; base == quote
 * only with rate_e12 == FX_RATE_SCALE). */
int fx_rate_init(struct fx_rate *ret, const char *base, const char *quote, int64_t rate_e12,
		 int64_t valid_from);
/* Parses a positive plain decimal ("1.0823", "156", "0.000000000001") exactly into 10^-12 units.
 * MONEY_ERR_INVALID for anything else (sign, exponent, spaces, zero, more than 12 non-zero
 * decimals), MONEY_ERR_OVERFLOW above the range. */
int fx_rate_parse_decimal(const char *s, size_t len, int64_t *ret_rate_e12);
/* Writes the rate as decimal text ("1.0823", "156.73", "0.000038", "2"): NUL-terminated, up to
 * 12 decimals, trailing zeros trimmed. MONEY_ERR_INVALID when outlen is too small (use
 * FX_RATE_STR_MAX) or the rate is not positive. */
int fx_rate_to_decimal_string(const struct fx_rate *rate, char *out, size_t outlen);

/*
 * Smallest charge in `currency`, in minor units: the table value (currencies.def) when it has
 * one, else Stripe's rule "0.50 usd or the equivalent", converted at the rate valid at at_unix,
 * rounded UP to a whole minor unit and then up to the currency's charge step (never below the
 * 50-cent equivalent). MONEY_ERR_NO_RATE when no usd rate reaches the currency.
 */
int fx_min_charge_minor(const struct fx_table *t, const char *currency, int64_t at_unix,
			int64_t *ret_min_minor);
/* The rule alone (0.50 usd equivalent, rounded up to a minor unit and the step), ignoring the
 * table's value: how currencies.def's derived minimums were computed. */
int fx_min_charge_by_rule_minor(const struct fx_table *t, const char *currency, int64_t at_unix,
				int64_t *ret_min_minor);

#endif
