/*
 * Tax ids (txi_…, api/tax_ids.c): a customer's (/v1/customers/{customer}/tax_ids, tax_id_data on
 * customer create, the customer's includable `tax_ids` list), and every owner's through the
 * top-level /v1/tax_ids (owner[type] customer, self: the merchant's own, account: a connected
 * account's); an invoice's account_tax_ids name the merchant's own.
 */
#ifndef TENDER_API_TAX_IDS_H
#define TENDER_API_TAX_IDS_H

#include "http/req.h"

#define TAX_ID_PREFIX "txi_"
/* A customer has at most this many tax ids. */
#define TAX_IDS_PER_CUSTOMER_MAX 25
/* The merchant (or one of its connected accounts) has at most this many of its own (Stripe's
 * "up to 100 tax IDs to your account"). */
#define TAX_IDS_PER_ACCOUNT_MAX 100
/* An invoice names at most this many of the merchant's own tax ids (account_tax_ids). */
#define INVOICE_ACCOUNT_TAX_IDS_MAX 25

/* Whether value is well formed for tax id type (Stripe's formats for the common types: eu_vat
 * per member state, gb_vat, us_ein, au_abn, au_arn, ca_bn, ca_gst_hst, ca_qst, ch_vat, nz_gst,
 * in_gst, jp_cn, no_vat, za_vat; any other known type: 1 to 64 letters, digits, spaces and
 * . - /). On success the two-letter country the id implies ("" when none) goes to ret_country.
 * 0, or -1 when value is not a valid `type` (or type is unknown). */
int tax_id_check(const char *type, const char *value, char ret_country[3]);
/* The verification Stripe reports in test mode: for the types it verifies with the tax
 * authority (eu_vat, gb_vat, au_abn) a value containing 000000000 is verified, one containing
 * 111111111 unverified, any other pending; other types are unavailable. */
const char *tax_id_verification_status(const char *type, const char *value);

/* tax_id_data[n] on a customer create: its children (type, value). */
extern const struct param_spec tax_id_data_children[];
/* Before a customer create's write: tax_id_data[n][type|value] are valid (the error names the
 * item). 0, or -1 with r->err. */
int tax_ids_check_data(struct req *r);
/* Inside the customer create's write, after its row: tax_id_data[n] become its tax ids
 * (customer.tax_id.created each). 0, or -1 with r->err. */
int tax_ids_create_from_data(struct req *r, struct db *db, const char *customer);
/* The customer's tax ids as the list Stripe includes in a customer (expand[]=tax_ids): the
 * newest 10 and has_more. DB_OK or < 0. */
int tax_ids_render_embedded(struct req *r, struct db *db, const char *customer, struct json *j);

/* Inside a transaction: the string-array parameter `param` (shown: its name in errors), as an
 * invoice's account_tax_ids take it: each a live tax id of the merchant's own (owner[type]=self),
 * none twice, at most INVOICE_ACCOUNT_TAX_IDS_MAX. *ret: the ids as a JSON array, "" for ""
 * or an empty array (none), untouched when the parameter is absent. 0, or -1 with r->err. */
int tax_ids_account_param(struct req *r, struct db *db, const char *param, const char *shown,
			  const char **ret);
/* The value of an invoice's account_tax_ids: ids (a JSON array of ids; NULL: null) as ids, or
 * with expand as tax_id objects (one deleted since: Stripe's deleted_tax_id). DB_OK or < 0. */
int tax_ids_render_account(struct req *r, struct db *db, const char *ids, bool expand,
			   struct json *j);
/* How documents name a tax id, as Stripe's do: the type upper-cased, its underscores spaces,
 * then the value ("EU VAT DE123456789"), into out (n bytes, cut to fit). */
void tax_id_label(const char *type, const char *value, char *out, size_t n);
/* The lines a document shows for the tax ids ids names (a JSON array of ids), as a JSON array
 * of strings ("EU VAT DE123456789") in r's arena; *ret NULL when none. 0 or -1. */
int tax_ids_labels(struct req *r, struct db *db, const char *ids, const char **ret);

#endif
