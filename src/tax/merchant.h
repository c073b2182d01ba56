/*
 * What the tax engine needs to know of a merchant, read from its Stripe Tax settings and
 * registrations (api/tax.c writes them): for a calculation, and for whatever else computes tax
 * through tax/engine.h (invoices' or Checkout's automatic_tax could call this, then
 * tax_engine_line for each line, inside their own read or write).
 */
#ifndef TENDER_TAX_MERCHANT_H
#define TENDER_TAX_MERCHANT_H

#include <stdint.h>

#include "tax/engine.h"

struct db;

/* The most registrations in force at once that Tender reads for one merchant. */
#define TAX_MERCHANT_REGS_MAX 100

struct tax_merchant {
	char head_office[3];	   /* the head office's country, "" when unset */
	char default_behavior[24]; /* exclusive, inclusive, inferred_by_currency, or "" */
	char default_code[16];	   /* the default tax code, "" when unset */
	int n_regs;
	struct tax_registration_in regs[TAX_MERCHANT_REGS_MAX]; /* in force at the date asked */
};

/* Loads merchant_id's settings and the registrations in force at t (active_from <= t, and no
 * expires_at or t before it). DB_OK with *ret filled (a merchant without settings has them
 * all empty), or < 0. */
int tax_merchant_load(struct db *db, const char *merchant_id, int64_t t, struct tax_merchant *ret);

/* A tax_context for a destination from m: the engine's view (override and vat_id_country left
 * for the caller); ctx->regs points into m. */
void tax_merchant_context(const struct tax_merchant *m, const char *country, const char *state,
			  struct tax_context *ctx);

#endif
