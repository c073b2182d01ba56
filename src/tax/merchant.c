#include "tax/merchant.h"

#include <jansson.h>
#include <string.h>

#include "core/str.h"
#include "store/db.h"

static const char SQL_SETTINGS[] =
    "SELECT tax_behavior, tax_code, head_office FROM tax_settings WHERE merchant_id = $1";
static const char SQL_REGS_AT[] =
    "SELECT country, state, type FROM tax_registrations WHERE merchant_id = $1"
    " AND active_from <= $2 AND (expires_at IS NULL OR expires_at > $2) ORDER BY id LIMIT $3";

int tax_merchant_load(struct db *db, const char *merchant_id, int64_t t, struct tax_merchant *ret)
{
	struct tax_merchant m;
	memset(&m, 0, sizeof(m));
	struct db_stmt *st = db_prepare(db, SQL_SETTINGS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		str_copy(m.default_behavior, sizeof(m.default_behavior), db_col_text(st, 0, NULL));
		str_copy(m.default_code, sizeof(m.default_code), db_col_text(st, 1, NULL));
		const char *ho = db_col_text(st, 2, NULL);
		json_t *h = ho ? json_loads(ho, 0, NULL) : NULL;
		const char *c = json_string_value(json_object_get(h, "country"));
		str_copy(m.head_office, sizeof(m.head_office), c);
		json_decref(h);
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	st = db_prepare(db, SQL_REGS_AT);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_int64(st, 2, t);
	db_bind_int64(st, 3, TAX_MERCHANT_REGS_MAX);
	rc = DB_DONE;
	while (m.n_regs < TAX_MERCHANT_REGS_MAX && (rc = db_step(st)) == DB_ROW) {
		struct tax_registration_in *g = &m.regs[m.n_regs++];
		str_copy(g->country, sizeof(g->country), db_col_text(st, 0, NULL));
		str_copy(g->state, sizeof(g->state), db_col_text(st, 1, NULL));
		str_copy(g->type, sizeof(g->type), db_col_text(st, 2, NULL));
	}
	db_reset(st);
	if (rc < 0)
		return rc;
	*ret = m;
	return DB_OK;
}

void tax_merchant_context(const struct tax_merchant *m, const char *country, const char *state,
			  struct tax_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	str_copy(ctx->country, sizeof(ctx->country), country);
	if (state && strlen(state) == 2)
		str_copy(ctx->state, sizeof(ctx->state), state);
	memcpy(ctx->head_office, m->head_office, sizeof(ctx->head_office));
	ctx->regs = m->regs;
	ctx->n_regs = m->n_regs;
}
