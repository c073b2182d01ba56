#include "vault/card_source.h"

#include <jansson.h>
#include <string.h>

bool card_source_id(const char *id)
{
	return id && strncmp(id, CARD_SOURCE_PREFIX, sizeof(CARD_SOURCE_PREFIX) - 1) == 0;
}

const char *card_brand_title(const char *b)
{
	static const char *const map[][2] = {
	    {"visa", "Visa"},	      {"mastercard", "MasterCard"}, {"amex", "American Express"},
	    {"discover", "Discover"}, {"diners", "Diners Club"},    {"jcb", "JCB"},
	    {"unionpay", "UnionPay"},
	};
	for (size_t i = 0; b && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], b) == 0)
			return map[i][1];
	return "Unknown";
}

static const char SQL_GET[] =
    "SELECT id, customer, brand, last4, exp_month, exp_year, funding, country, fingerprint,"
    " cvc_provided, billing_details, metadata FROM payment_methods"
    " WHERE merchant_id = $1 AND id = $2";

/* A string of the stored billing_details JSON (written by the API from validated params), or
 * NULL. */
static const char *billing_str(json_t *bd, const char *addr_key, const char *key)
{
	json_t *o = addr_key ? json_object_get(bd, addr_key) : bd;
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : NULL;
}

int card_source_render(struct db *db, const char *merchant_id, const char *id, const char *customer,
		       struct json *j)
{
	if (!card_source_id(id))
		return DB_NOTFOUND;
	struct db_stmt *st = db_prepare(db, SQL_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? DB_NOTFOUND : rc;
	}
	const char *bd_text = db_col_text(st, 10, NULL);
	json_t *bd = bd_text ? json_loads(bd_text, 0, NULL) : NULL;
	const char *line1 = billing_str(bd, "address", "line1");
	const char *zip = billing_str(bd, "address", "postal_code");
	json_obj_open(j);
	json_kv_str(j, "id", db_col_text(st, 0, NULL));
	json_kv_str(j, "object", "card");
	json_kv_str_or_null(j, "address_city", billing_str(bd, "address", "city"));
	json_kv_str_or_null(j, "address_country", billing_str(bd, "address", "country"));
	json_kv_str_or_null(j, "address_line1", line1);
	/* an address given after the card was verified (a card update) is not checked again */
	json_kv_str_or_null(j, "address_line1_check", line1 ? "unchecked" : NULL);
	json_kv_str_or_null(j, "address_line2", billing_str(bd, "address", "line2"));
	json_kv_str_or_null(j, "address_state", billing_str(bd, "address", "state"));
	json_kv_str_or_null(j, "address_zip", zip);
	json_kv_str_or_null(j, "address_zip_check", zip ? "unchecked" : NULL);
	json_kv_null(j, "available_payout_methods");
	json_kv_str(j, "brand", card_brand_title(db_col_text(st, 2, NULL)));
	json_kv_str_or_null(j, "country", db_col_text(st, 7, NULL));
	json_kv_null(j, "currency");
	json_kv_str_or_null(j, "customer", customer ? customer : db_col_text(st, 1, NULL));
	/* a card source was verified with the issuer when it was attached (api/sources.c), CVC
	 * included when one was given */
	json_kv_str_or_null(j, "cvc_check", db_col_int64(st, 9) ? "pass" : NULL);
	json_kv_null(j, "default_for_currency");
	json_kv_null(j, "dynamic_last4");
	json_kv_int(j, "exp_month", db_col_int64(st, 4));
	json_kv_int(j, "exp_year", db_col_int64(st, 5));
	json_kv_str(j, "fingerprint", db_col_text(st, 8, NULL));
	json_kv_str(j, "funding", db_col_text(st, 6, NULL));
	json_kv_str(j, "last4", db_col_text(st, 3, NULL));
	const char *md = db_col_text(st, 11, NULL);
	json_kv_raw(j, "metadata", md ? md : "{}", md ? strlen(md) : 2);
	json_kv_str_or_null(j, "name", billing_str(bd, NULL, "name"));
	json_kv_null(j, "regulated_status");
	json_kv_null(j, "status");
	json_kv_null(j, "tokenization_method");
	json_obj_close(j);
	json_decref(bd);
	db_reset(st);
	return DB_OK;
}
