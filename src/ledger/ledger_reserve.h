/*
 * Rolling reserves: a share of each charge the gateway holds back from the merchant for a while
 * (the seed's "Gateway may hold 10% of revenue as reserve"), as Stripe's rolling reserve shows it
 * to a merchant: a negative balance transaction when the funds are withheld and a positive one
 * when they come back, both of type "reserved_funds" (reporting category risk_reserved_funds,
 * which Stripe uses for both directions), source the charge.
 *
 * The operator sets it per merchant or connected account (tender merchant reserve): percent in
 * basis points (1 … 10000) and days (1 … 365); --off ends it for new charges. Every change is a
 * new reserve_settings row (migration 0129), never an update; the newest is in force, read in the
 * capture's own write, so a running server applies a change from its next capture on.
 *
 * Account (per merchant and currency, added to ledger.h's):
 *   merchant_reserve  the merchant's funds the gateway holds back (credit = held for it)
 *
 * Movements (each one balanced journal transaction, in the caller's write transaction):
 *   reserve_hold     made by the capture (or sale) of a charge while a reserve is set, in the
 *                    settlement currency: DR merchant_pending r / CR merchant_reserve r; balance
 *                    txn "reserved_funds", amount −r, fee 0, status pending, available_on the
 *                    charge's: it becomes available with the charge (with it at once for the test
 *                    card 4000000000000077), so the merchant's pending and then available balance
 *                    show the charge's net less r, and payouts cannot take r.
 *                    A destination charge's payment to a connected account with a reserve is
 *                    held the same way on that account (ledger_transfer, ledger_connect.h):
 *                    source its py_…, r of its gross in the account's currency, capped at its
 *                    net after the application fee; made available at once with a payment that
 *                    is (its charge's funds were).
 *   reserve_release  the scheduler, at release_at: DR merchant_reserve r / CR merchant_available
 *                    r; balance txn "reserved_funds", amount +r, available at once.
 *
 * Amount (RESERVE RULE): r = floor(amount × percent_bps / 10000) of the charge's gross amount in
 * the settlement currency (Stripe's reserve plans take a percent of each charge), rounded down so
 * the reserve never holds more than the percent says, and capped at the charge's net (a tiny
 * charge whose fee ate it holds at most what it brought). r = 0: no hold, nothing written.
 * release_at = max(created + days × 86400, the charge's available_on): held `days` days after
 * the charge, never released before the funds it holds became available.
 *
 * Refunds and disputes do not touch the reserve: they take from the balance as before (which may
 * go negative). So for every merchant and currency merchant_reserve holds exactly the unreleased
 * holds: −Σ amount of "reserved_funds" balance transactions (ledger_verify checks it, and each
 * hold against its balance transactions).
 */
#ifndef TENDER_LEDGER_LEDGER_RESERVE_H
#define TENDER_LEDGER_LEDGER_RESERVE_H

#include <stdint.h>

#include "core/id.h"
#include "store/db.h"

#define LEDGER_ACCT_MERCHANT_RESERVE "merchant_reserve"
#define LEDGER_RESERVE_BPS_MAX 10000
#define LEDGER_RESERVE_DAYS_MAX 365

/* The reserve of a charge of gross `amount` and `net` (both in the settlement currency) under
 * percent_bps (rule above). LEDGER_ERR_INVALID for amount < 1, net < 0, net > amount or bps out
 * of 0 … 10000; LEDGER_ERR_OVERFLOW above LEDGER_AMOUNT_MAX. */
int ledger_reserve_amount(int64_t amount, int64_t net, int64_t percent_bps, int64_t *ret);

/* release_at of a hold made at `created` for `days` (1 … 365) whose charge becomes available at
 * available_on (rule above). LEDGER_ERR_INVALID / LEDGER_ERR_OVERFLOW. */
int ledger_reserve_release_at(int64_t created, int64_t available_on, int64_t days, int64_t *ret);

/* Parses an operator's percent exactly, without floating point: "10", "10.5", "2.25" (at most two
 * decimals) into basis points 1 … 10000. 0 on success, -1 for anything else. */
int ledger_reserve_parse_percent(const char *s, int64_t *ret_bps);

/* The merchant's reserve in force: *ret_bps and *ret_days, both 0 when none (never set, or off).
 * DB_OK or < 0. */
int ledger_reserve_get(struct db *db, const char *merchant_id, int64_t *ret_bps, int64_t *ret_days);
/* Appends a change (percent_bps 1 … 10000 and days 1 … 365, or both 0: off); DB_CONFLICT when
 * another change was appended meanwhile (PRIMARY KEY (merchant_id, seq)). */
int ledger_reserve_set(struct db *db, const char *merchant_id, int64_t percent_bps, int64_t days,
		       int64_t now);

/* Called by the capture after it booked the charge's balance transaction (charge_bt, pending,
 * available_on): withholds the reserve in force, if any. DB_OK or < 0. */
int ledger_reserve_hold(struct db *db, const char *merchant_id, const char *charge_id,
			const char *charge_bt, const char *currency, int64_t amount, int64_t net,
			int64_t available_on, int64_t now);

/* Called when balance transaction bt_id was made available: makes the hold withheld from it
 * available too (ledger_make_available_one's guard: at most once). DB_OK or < 0. */
int ledger_reserve_follow(struct db *db, const char *merchant_id, const char *bt_id, int64_t now);

/* Releases one hold (by its id) now: 1 when this call released it, 0 when it was released
 * already or does not exist, < 0 on error. */
int ledger_reserve_release(struct db *db, const char *merchant_id, const char *hold_id,
			   int64_t now);

struct store;
/* The scheduler's job: releases due holds in bounded batches on every shard; its probe. */
int ledger_reserve_tick(struct store *s, int64_t now);
extern const char LEDGER_RESERVE_DUE_SQL[];

#endif
