#include "risk/value_lists.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "core/id.h"

static const char *const lowercase_types[] = {"email",	    "string",	"country",
					      "ip_address", "card_bin", NULL};
static const char *const exact_types[] = {"card_fingerprint",
					  "case_sensitive_string",
					  "customer_id",
					  "us_bank_account_fingerprint",
					  "sepa_debit_fingerprint",
					  NULL};

static bool in_set(const char *const *set, const char *s)
{
	for (; *set; set++)
		if (strcmp(*set, s) == 0)
			return true;
	return false;
}

int risk_value_list_type_known(const char *item_type)
{
	return item_type && (in_set(lowercase_types, item_type) || in_set(exact_types, item_type));
}

int risk_value_list_normalize(const char *item_type, const char *value, char *out, size_t outsize)
{
	size_t n = strlen(value);
	if (n >= outsize)
		return -EINVAL;
	bool lower = in_set(lowercase_types, item_type);
	for (size_t i = 0; i < n; i++) {
		char c = value[i];
		out[i] = lower && c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
	}
	out[n] = '\0';
	return 0;
}

static bool all_chars(const char *v, bool (*ok)(char))
{
	for (; *v; v++)
		if (!ok(*v))
			return false;
	return true;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
	return is_digit(c) || is_alpha(c);
}

static bool is_printable(char c)
{
	return (unsigned char)c >= 0x20 && c != 0x7f;
}

int risk_value_list_check_value(const char *item_type, const char *value)
{
	size_t n = value ? strlen(value) : 0;
	if (n == 0 || n > RISK_VALUE_LIST_VALUE_MAX || !all_chars(value, is_printable))
		return -EINVAL;
	if (strcmp(item_type, "card_bin") == 0)
		return n >= 6 && n <= 8 && all_chars(value, is_digit) ? 0 : -EINVAL;
	if (strcmp(item_type, "country") == 0)
		return n == 2 && all_chars(value, is_alpha) ? 0 : -EINVAL;
	if (strcmp(item_type, "ip_address") == 0) {
		unsigned char buf[16];
		return inet_pton(AF_INET, value, buf) == 1 || inet_pton(AF_INET6, value, buf) == 1
			   ? 0
			   : -EINVAL;
	}
	if (strcmp(item_type, "email") == 0) {
		const char *at = strchr(value, '@');
		return at && at != value && at[1] && !strchr(value, ' ') ? 0 : -EINVAL;
	}
	if (strcmp(item_type, "card_fingerprint") == 0 ||
	    strcmp(item_type, "us_bank_account_fingerprint") == 0 ||
	    strcmp(item_type, "sepa_debit_fingerprint") == 0)
		return n <= 64 && all_chars(value, is_alnum) ? 0 : -EINVAL;
	return 0;
}

/* ---- which merchants have lists (a process cache, see the header) ---- */

#define CACHE_SLOTS 1024

struct cache_entry {
	char merchant[ID_MAX];
	bool has;
	int64_t checked_at; /* when "has no list" was read */
};

static struct cache_entry cache[CACHE_SLOTS];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
/* moved on by every create (under cache_mu): a "no list" read is kept only when no create was
 * noted since before it (its snapshot may predate that create's commit) */
static uint64_t creates;

static size_t slot_of_merchant(const char *merchant_id)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)merchant_id; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (size_t)(h % CACHE_SLOTS);
}

/* 1 known to have lists, 0 known to have none (recently, or at all when this process is the
 * store's only writer), -1 unknown */
static int cache_get(const char *merchant_id, int64_t now, bool only_node, uint64_t *ret_creates)
{
	struct cache_entry *e = &cache[slot_of_merchant(merchant_id)];
	int v = -1;
	pthread_mutex_lock(&cache_mu);
	*ret_creates = creates;
	if (strcmp(e->merchant, merchant_id) == 0) {
		if (e->has)
			v = 1;
		else if (only_node ||
			 (now >= e->checked_at && now - e->checked_at < RISK_VALUE_LISTS_NEG_TTL_S))
			v = 0;
	}
	pthread_mutex_unlock(&cache_mu);
	return v;
}

/* has: noted by a create (creates moves on); else a read that found none, made when creates was
 * read_creates */
static void cache_put(const char *merchant_id, bool has, int64_t now, uint64_t read_creates)
{
	if (strlen(merchant_id) >= ID_MAX)
		return;
	struct cache_entry *e = &cache[slot_of_merchant(merchant_id)];
	pthread_mutex_lock(&cache_mu);
	if (has)
		creates++;
	/* "has" is never taken back by a read that may have begun before the create (a
	 * payment's read racing it): not even when another merchant took the slot meanwhile */
	if (has ||
	    (read_creates == creates && (strcmp(e->merchant, merchant_id) != 0 || !e->has))) {
		memcpy(e->merchant, merchant_id, strlen(merchant_id) + 1);
		e->has = has;
		e->checked_at = now;
	}
	pthread_mutex_unlock(&cache_mu);
}

void risk_value_lists_note_created(const char *merchant_id)
{
	cache_put(merchant_id, true, 0, 0);
}

static const char SQL_ANY[] = "SELECT 1 FROM radar_value_lists WHERE merchant_id = $1 LIMIT 1";

/* $2..$21: each slot's value as given and lowercased; $22..$37: the aliases the rules file names,
 * $38..$53 the default rules'; $54 the row bound */
#define FIRST_VALUE_PARAM 2
#define FIRST_ALIAS_PARAM (FIRST_VALUE_PARAM + 2 * RISK_SLOT_COUNT)
#define SETS 2
#define LOOKUP_ROWS_MAX (SETS * RISK_RULE_MAX_LISTS * 2 * RISK_SLOT_COUNT)
static const char SQL_LOOKUP[] =
    "SELECT l.alias, l.item_type, i.match_value FROM radar_value_list_items i"
    " JOIN radar_value_lists l ON l.merchant_id = i.merchant_id AND l.id = i.value_list"
    " WHERE i.merchant_id = $1"
    " AND i.match_value IN ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,"
    " $17, $18, $19, $20, $21)"
    " AND l.alias IN ($22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36,"
    " $37, $38, $39, $40, $41, $42, $43, $44, $45, $46, $47, $48, $49, $50, $51, $52, $53)"
    " LIMIT $54";

_Static_assert(FIRST_ALIAS_PARAM == 22, "SQL_LOOKUP's parameters");
_Static_assert(RISK_RULE_MAX_LISTS == 16, "SQL_LOOKUP's alias parameters");

static int merchant_has_lists(struct db *db, const char *merchant_id, int64_t now, bool *ret)
{
	/* SQLite (--data) is one process's store: no other node makes lists */
	uint64_t seen = 0;
	int known = cache_get(merchant_id, now, db_kind(db) == DB_SQLITE, &seen);
	if (known >= 0) {
		*ret = known == 1;
		return 0;
	}
	struct db_stmt *st = db_prepare(db, SQL_ANY);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	int rc = db_step(st);
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	if (rc == DB_DONE)
		cache_put(merchant_id, false, now, seen);
	else
		cache_put(merchant_id, true, now, 0);
	*ret = rc == DB_ROW;
	return 0;
}

static const char SQL_CUSTOMER_EMAIL[] =
    "SELECT email FROM customers WHERE merchant_id = $1 AND id = $2";

int risk_value_lists_customer_email(struct db *db, const char *merchant_id,
				    const struct risk_rules *r, int64_t now, const char *customer,
				    char *out, size_t outsize)
{
	if (outsize == 0)
		return -EINVAL;
	out[0] = '\0';
	if (!customer || !*customer)
		return 0;
	const uint32_t email_slots = (1u << RISK_SLOT_EMAIL) | (1u << RISK_SLOT_EMAIL_DOMAIN);
	if (!(risk_rules_slots_read(r) & email_slots)) {
		/* only the default rules could read it, and only with lists to read */
		bool has = false;
		int rc = merchant_has_lists(db, merchant_id, now, &has);
		if (rc != 0 || !has)
			return rc;
	}
	struct db_stmt *st = db_prepare(db, SQL_CUSTOMER_EMAIL);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	db_bind_text(st, 2, customer, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		const char *e = db_col_text(st, 0, NULL);
		size_t n = e ? strlen(e) : 0;
		if (n < outsize) { /* one too long to keep is unknown: it matches no rule */
			memcpy(out, e ? e : "", n);
			out[n] = '\0';
		}
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	return 0;
}

int risk_value_lists_lookup(struct db *db, const char *merchant_id, const struct risk_rules *r,
			    int64_t now, struct risk_rule_input *in,
			    uint16_t builtin_hits[RISK_RULE_MAX_LISTS])
{
	memset(in->list_hits, 0, sizeof(in->list_hits));
	if (builtin_hits)
		memset(builtin_hits, 0, RISK_RULE_MAX_LISTS * sizeof(builtin_hits[0]));
	if (!builtin_hits && risk_rules_value_list_count(r) == 0)
		return 0;
	/* first, as it is all a payment of a merchant without lists costs: the cache */
	bool has = false;
	int rc = merchant_has_lists(db, merchant_id, now, &has);
	if (rc != 0 || !has)
		return rc;
	const struct risk_rules *sets[SETS] = {r, builtin_hits ? risk_rules_builtin() : NULL};
	uint16_t *hits[SETS] = {in->list_hits, builtin_hits};
	uint32_t used = 0;
	for (int x = 0; x < SETS; x++)
		for (size_t k = 0; k < risk_rules_value_list_count(sets[x]); k++) {
			uint32_t slots = 0;
			risk_rules_value_list(sets[x], k, &slots);
			used |= slots;
		}
	struct db_stmt *st = db_prepare(db, SQL_LOOKUP);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, merchant_id, -1);
	bool any = false;
	for (int s = 0; s < RISK_SLOT_COUNT; s++) {
		int idx = FIRST_VALUE_PARAM + 2 * s;
		const char *v = (used >> s) & 1u ? risk_rule_slot_value(in, s) : NULL;
		char low[RISK_VALUE_LIST_VALUE_MAX + 1];
		if (v && risk_value_list_normalize("string", v, low, sizeof(low)) == 0) {
			db_bind_text(st, idx, v, -1);
			if (strcmp(low, v) != 0)
				db_bind_text(st, idx + 1, low, -1);
			else
				db_bind_null(st, idx + 1);
			any = true;
		} else {
			db_bind_null(st, idx);
			db_bind_null(st, idx + 1);
		}
	}
	if (!any) {
		db_reset(st);
		return 0;
	}
	for (int x = 0; x < SETS; x++)
		for (size_t k = 0; k < RISK_RULE_MAX_LISTS; k++) {
			const char *alias = risk_rules_value_list(sets[x], k, NULL);
			int idx = FIRST_ALIAS_PARAM + x * RISK_RULE_MAX_LISTS + (int)k;
			if (alias)
				db_bind_text(st, idx, alias, -1);
			else
				db_bind_null(st, idx);
		}
	db_bind_int64(st, FIRST_ALIAS_PARAM + SETS * RISK_RULE_MAX_LISTS, LOOKUP_ROWS_MAX);
	/* each row: an item of a named list equal to one of the values; which slots it
	 * matches depends on the list's type (its normalization of each value) */
	int n = 0;
	while (n++ < LOOKUP_ROWS_MAX && (rc = db_step(st)) == DB_ROW) {
		const char *alias = db_col_text(st, 0, NULL);
		const char *type = db_col_text(st, 1, NULL);
		const char *match = db_col_text(st, 2, NULL);
		if (!alias || !type || !match)
			continue;
		for (int x = 0; x < SETS; x++)
			for (size_t k = 0; k < risk_rules_value_list_count(sets[x]); k++) {
				uint32_t slots = 0;
				const char *a = risk_rules_value_list(sets[x], k, &slots);
				if (strcmp(a, alias) != 0)
					continue;
				for (int s = 0; s < RISK_SLOT_COUNT; s++) {
					const char *v =
					    (slots >> s) & 1u ? risk_rule_slot_value(in, s) : NULL;
					char norm[RISK_VALUE_LIST_VALUE_MAX + 1];
					if (v &&
					    risk_value_list_normalize(type, v, norm,
								      sizeof(norm)) == 0 &&
					    strcmp(norm, match) == 0)
						hits[x][k] |= (uint16_t)(1u << s);
				}
			}
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	return 0;
}
