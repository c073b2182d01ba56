/*
 * The customer portal: /v1/billing_portal/configurations, /v1/billing_portal/sessions, and the
 * portal page a session opens (/billing_portal/{merchant}/{key}).
 *
 * Configurations. A configuration says what the portal offers: invoice_history, a card update
 * (payment_method_update), a cancel (subscription_cancel: at_period_end or immediately, with
 * the cancellation reasons to choose from), the customer's details it may edit
 * (customer_update: email, name, phone, address, tax_id), plan changes (subscription_update:
 * price and quantity among its products' prices, checked in billing_portal_update.c), its
 * business_profile and default_return_url. Its features and business_profile are kept as the
 * JSON objects the API renders (every field filled in when it is made), and an update edits
 * them in place. Tender's portal does not offer what Stripe's also can (pausing, shipping
 * details, the login page, promotion codes on a plan change): a configuration that enables
 * subscription_pause or login_page, allows shipping updates or promotion_code, is refused with a
 * message that says so, rather than accepted and ignored; and subscription_cancel's
 * proration_behavior is `none` only (a cancel does not prorate, as the API's DELETE). Settings
 * of features that stay disabled are kept and shown as given.
 *
 * The default configuration. On Stripe a test-mode session needs the portal to have been saved
 * in the dashboard first. Tender has no dashboard, so the first session that names no
 * configuration makes the merchant's default one (is_default true; billing_portal.
 * configuration.created): invoice history, card update, and cancel at the period's end with
 * Stripe's usual reasons. It is a configuration like the others afterwards (the API updates
 * it; it cannot be deactivated, as on Stripe). Configurations made through the API are never the
 * default.
 *
 * Sessions and the page. A session's URL is single-use, as an account link's (account_links.c):
 * the secret in it (24 random base62 characters) is kept only as its SHA-256, the first visit
 * opens it (a guarded update from new to opened; so the page's GET writes) and hands its forms a
 * one-time value (kept hashed, replaced after every post), and a second visit gets the expired
 * page, which shows nothing of the customer. Bounds: the URL must be opened within
 * PORTAL_LINK_TTL_S (five minutes) of the session's creation; once open, its forms are taken
 * while the last visit or post was less than PORTAL_IDLE_S ago (Stripe's five minutes of
 * inactivity), and never after PORTAL_SESSION_MAX_S. billing_portal.session.created carries the
 * session with its url's secret left out (`…/billing_portal/{merchant}/redacted`): events are
 * kept and sent to webhook endpoints, and nobody needs the link from there; the API's answer has
 * the real one (and so does a keyed request's saved answer, for its replay, as for every POST).
 *
 * The page is plain HTML without scripts under the other pages' content security policy
 * (challenge.h), every value escaped, in the merchant's scope (its shard, rate limit): the
 * customer's live subscriptions (each price's product, amount in the currency's own decimals
 * and interval, the next renewal or the date it ends), the default card (brand, last four) with
 * a form for a new one, the invoice history, and a link back to return_url. What it changes goes
 * through the API's own code, so the events, invoices and state are the same:
 *  - a plan change (billing_portal_update.c): an "Update plan" form on each subscription the
 *    configuration lets change, then three posts (/update: the plan choice; /update/confirm: what
 *    the change costs, previewed by the update's own code; /update/apply: subscription_change
 *    with the configuration's proration_behavior), each checking again what it allows;
 *  - cancel: subscription_portal_cancel (subscriptions.c) in the write that checks the form's
 *    one-time value, and the subscription is the session's customer's (another's is not found);
 *  - details: the form's fields carry the customer update's own parameter names (email, name,
 *    phone, address[…], and tax_id_data[0][type, value] for a tax id), each refused unless the
 *    configuration allows it, and go through customer_portal_update (customers.c: the update's
 *    checks, customer.updated) and tax_ids_create_from_data (customer.tax_id.created);
 *  - a new card: the form's fields are a PaymentMethod's own (payment_method_data[card][…]),
 *    stored through the vault by pm_create_from_data as checkout's card is (the number is never
 *    kept or logged in clear), then checked and attached to the customer by a SetupIntent
 *    (setup_intents_checkout, usage off_session; a decline shows its card error), then made the
 *    customer's invoice_settings.default_payment_method (customer.updated). A card that asks
 *    for 3-D Secure is refused on the page (its SetupIntent abandoned): the portal cannot come
 *    back from the challenge to a single-use page.
 * The page is English whatever the session's locale.
 *
 * Deep links (flow_data). A session may open the portal at one flow: payment_method_update
 * (the card form alone), subscription_cancel (that subscription's cancel alone),
 * subscription_update (that subscription's plan choice) or subscription_update_confirm (the
 * confirmation of that exact change: items[0][id, price, quantity]); the rest of the portal is
 * hidden, and posts of other changes are refused, until the flow is completed. The create checks
 * what Stripe checks (the subscription is the customer's, one the page lists and not already
 * ending; the configuration enables the feature; a plan change's subscription one it lets
 * change, its item the subscription's, its price and quantity allowed) and keeps the flow as the
 * session renders it (`flow`). The flow completes through the page's own code (the card post,
 * the cancel post, the plan change's apply) and flow_done is set in the write that makes the
 * change (a plan change's through subscription_change's in_write hook); the answer then follows
 * after_completion: a 303 to redirect[return_url], a confirmation page (hosted_confirmation's
 * custom_message, else what was done), or the whole portal (portal_homepage, the default).
 * subscription_update_confirm's discounts are refused (the page takes no discount yet). A cancel
 * flow's retention offer (subscription_cancel[retention][coupon_offer][coupon]: a coupon the
 * subscription can take, checked at create as an update's discounts[] would check it) is shown
 * above the cancel; accepting it adds the coupon to the subscription's discounts through
 * subscription_portal_coupon (subscriptions.c: customer.subscription.updated) and completes the
 * flow; canceling instead declines it.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/accounts.h"
#include "api/billing_internal.h"
#include "api/billing_portal_update.h"
#include "api/catalog.h"
#include "api/challenge.h"
#include "api/common.h"
#include "api/list.h"
#include "api/resources.h"
#include "api/tax_ids.h"
#include "core/digest.h"
#include "core/str.h"
#include "events/events.h"
#include "http/form.h"
#include "store/store.h"
#include "vault/payment_method.h"

#define PORTAL_LINK_TTL_S 300	  /* a session's URL opens within five minutes */
#define PORTAL_IDLE_S 300	  /* Stripe: five minutes of inactivity end a portal session */
#define PORTAL_SESSION_MAX_S 3600 /* and none lasts longer than an hour */
#define PORTAL_KEY_LEN 24
#define PORTAL_SUBS_MAX 20     /* live subscriptions the page lists */
#define PORTAL_INVOICES_MAX 24 /* invoices it lists, newest first */

static const char *const cancel_reasons[] = {
    "customer_service", "low_quality",	 "missing_features", "other", "switched_service",
    "too_complex",	"too_expensive", "unused",	     NULL};
static const char *const customer_updates[] = {"address",  "email",  "name", "phone",
					       "shipping", "tax_id", NULL};
static const char *const sub_updates[] = {"price", "promotion_code", "quantity", NULL};
static const char *const prorations[] = {"always_invoice", "create_prorations", "none", NULL};

/* features of a configuration made through the API: what it does not name stays disabled */
static const char FEATURES_BASE[] =
    "{\"customer_update\":{\"allowed_updates\":[],\"enabled\":false},"
    "\"invoice_history\":{\"enabled\":false},\"payment_method_update\":{\"enabled\":false},"
    "\"subscription_cancel\":{\"cancellation_reason\":{\"enabled\":false,\"options\":[]},"
    "\"enabled\":false,\"mode\":\"at_period_end\",\"proration_behavior\":\"none\"},"
    "\"subscription_pause\":{\"enabled\":false},"
    "\"subscription_update\":{\"default_allowed_updates\":[],\"enabled\":false,"
    "\"products\":[],\"proration_behavior\":\"none\"}}";
/* the default configuration's (made on the first session that names none) */
static const char FEATURES_DEFAULT[] =
    "{\"customer_update\":{\"allowed_updates\":[],\"enabled\":false},"
    "\"invoice_history\":{\"enabled\":true},\"payment_method_update\":{\"enabled\":true},"
    "\"subscription_cancel\":{\"cancellation_reason\":{\"enabled\":true,\"options\":"
    "[\"too_expensive\",\"missing_features\",\"switched_service\",\"unused\",\"other\"]},"
    "\"enabled\":true,\"mode\":\"at_period_end\",\"proration_behavior\":\"none\"},"
    "\"subscription_pause\":{\"enabled\":false},"
    "\"subscription_update\":{\"default_allowed_updates\":[],\"enabled\":false,"
    "\"products\":[],\"proration_behavior\":\"none\"}}";
static const char PROFILE_EMPTY[] =
    "{\"headline\":null,\"privacy_policy_url\":null,\"terms_of_service_url\":null}";

static const char SQL_CONF_GET[] =
    "SELECT id, created, updated, active, is_default, default_return_url, business_profile,"
    " features, metadata FROM billing_portal_configurations WHERE merchant_id = $1 AND id = $2";
static const char SQL_CONF_DEFAULT[] =
    "SELECT id FROM billing_portal_configurations WHERE merchant_id = $1 AND is_default = 1";
static const char SQL_CONF_INSERT[] =
    "INSERT INTO billing_portal_configurations (merchant_id, id, created, updated, active,"
    " is_default, default_return_url, business_profile, features, metadata)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
static const char SQL_CONF_UPDATE[] =
    "UPDATE billing_portal_configurations SET updated = $3, active = $4, default_return_url = $5,"
    " business_profile = $6, features = $7, metadata = $8 WHERE merchant_id = $1 AND id = $2";

struct conf {
	char id[ID_MAX];
	int64_t created, updated;
	bool active, is_default;
	const char *default_return_url, *business_profile, *features, *metadata;
};

static bool url_ok(const char *u)
{
	return u && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
	       strlen(u) > 8 && !strpbrk(u, " \t\r\n\"<>");
}

static int conf_load(struct req *r, struct db *db, const char *id, struct conf *c)
{
	struct db_stmt *st = db_prepare(db, SQL_CONF_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, id, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		struct arena *a = &r->arena;
		memset(c, 0, sizeof(*c));
		str_copy(c->id, sizeof(c->id), db_col_text(st, 0, NULL));
		c->created = db_col_int64(st, 1);
		c->updated = db_col_int64(st, 2);
		c->active = db_col_int64(st, 3) != 0;
		c->is_default = db_col_int64(st, 4) != 0;
		c->default_return_url = col_text_dup(a, st, 5);
		c->business_profile = col_text_dup(a, st, 6);
		c->features = col_text_dup(a, st, 7);
		c->metadata = col_text_dup(a, st, 8);
		if (!c->business_profile || !c->features || !c->metadata)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

static void conf_render(struct req *r, const struct conf *c, struct json *j)
{
	json_obj_open(j);
	json_kv_str(j, "id", c->id);
	json_kv_str(j, "object", "billing_portal.configuration");
	json_kv_bool(j, "active", c->active);
	json_kv_null(j, "application");
	json_kv_raw(j, "business_profile", c->business_profile, strlen(c->business_profile));
	json_kv_int(j, "created", c->created);
	json_kv_str_or_null(j, "default_return_url", c->default_return_url);
	json_kv_raw(j, "features", c->features, strlen(c->features));
	json_kv_bool(j, "is_default", c->is_default);
	json_kv_bool(j, "livemode", r->livemode != 0);
	json_key(j, "login_page");
	json_obj_open(j);
	json_kv_bool(j, "enabled", false);
	json_kv_null(j, "url");
	json_obj_close(j);
	json_kv_raw(j, "metadata", c->metadata, strlen(c->metadata));
	json_kv_int(j, "updated", c->updated);
	json_obj_close(j);
}

/* The configuration's JSON (r's arena), or NULL. */
static const char *conf_json(struct req *r, const struct conf *c, size_t *ret_len)
{
	struct buf b;
	struct json j;
	buf_init(&b, 256 * 1024);
	json_init(&j, &b);
	conf_render(r, c, &j);
	const char *s = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	if (s)
		*ret_len = b.len;
	buf_release(&b);
	return s;
}

/* Appends event `type` with c as its object; with answer, the same JSON is the answer. */
static int conf_emit(struct req *r, struct db *db, const struct conf *c, const char *type,
		     const char *prev, bool answer)
{
	size_t len = 0;
	const char *js = conf_json(r, c, &len);
	if (!js)
		return req_fail(r, ERR_API, NULL, NULL);
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	if (event_append(db, r->merchant_id, &o, type, c->id, js, len, prev, r->now, NULL) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (answer) {
		req_json(r);
		buf_append(&r->out, js, len);
	}
	return 0;
}

static int conf_insert(struct req *r, struct db *db, const struct conf *c)
{
	struct db_stmt *st = db_prepare(db, SQL_CONF_INSERT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_int64(st, 3, c->created);
	db_bind_int64(st, 4, c->updated);
	db_bind_int64(st, 5, c->active ? 1 : 0);
	db_bind_int64(st, 6, c->is_default ? 1 : 0);
	db_bind_text(st, 7, c->default_return_url, -1);
	db_bind_text(st, 8, c->business_profile, -1);
	db_bind_text(st, 9, c->features, -1);
	db_bind_text(st, 10, c->metadata, -1);
	return db_step_done(st) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* ---- a configuration's parameters ---- */

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static void set_bool(struct req *r, json_t *obj, const char *path, const char *key)
{
	bool v;
	if (param_bool(r, path, &v) == 1)
		json_object_set_new(obj, key, json_boolean(v));
}

static void set_enum(struct req *r, json_t *obj, const char *path, const char *key)
{
	const char *v = param_str(r, path);
	if (v && *v)
		json_object_set_new(obj, key, json_string(v));
}

/* A string-array parameter whose items are each one of `allowed`; "" is the empty array. */
static int set_array(struct req *r, json_t *obj, const char *path, const char *shown,
		     const char *key, const char *const *allowed)
{
	const char *js = NULL;
	if (!param_present(r, path))
		return 0;
	if (string_array_json(r, path, &js) != 0)
		return -1;
	json_error_t e;
	json_t *a = js ? json_loads(js, 0, &e) : json_array();
	if (!json_is_array(a)) {
		json_decref(a);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	size_t i;
	json_t *it;
	json_array_foreach(a, i, it)
	{
		const char *s = json_string_value(it);
		if (allowed && (!s || !in_list(s, allowed))) {
			json_decref(a);
			return req_fail(r, ERR_PARAM_INVALID_ENUM, shown,
					"Invalid %s: must be one of the documented values.", shown);
		}
	}
	json_object_set_new(obj, key, a);
	return 0;
}

static json_t *sub_obj(json_t *root, const char *key)
{
	json_t *o = json_object_get(root, key);
	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(root, key, o);
	}
	return o;
}

/* features[subscription_update][products]: [{product, prices[]}] */
static int set_products(struct req *r, json_t *su)
{
	const char *base = "features.subscription_update.products";
	if (!param_present(r, base))
		return 0;
	json_t *a = json_array();
	const struct form_node *n = param_node(r, base);
	for (int i = 0; n && n->kind == FORM_ARRAY && i < 10; i++) {
		char path[96], shown[96];
		snprintf(path, sizeof(path), "%s.%d.product", base, i);
		const char *product = param_str(r, path);
		if (!product)
			break;
		snprintf(path, sizeof(path), "%s.%d.prices", base, i);
		snprintf(shown, sizeof(shown),
			 "features[subscription_update][products][%d][prices]", i);
		json_t *item = json_object();
		json_object_set_new(item, "product", json_string(product));
		json_array_append_new(a, item);
		if (set_array(r, item, path, shown, "prices", NULL) != 0) {
			json_decref(a);
			return -1;
		}
	}
	json_object_set_new(su, "products", a);
	return 0;
}

/* The features parameters applied over the stored (or base) features JSON; ret: the new JSON.
 * Refuses what Tender's portal does not offer. 0, or -1 with r->err. */
static int features_apply(struct req *r, const char *old, const char **ret)
{
	json_error_t e;
	json_t *f = json_loads(old, 0, &e);
	if (!json_is_object(f)) {
		json_decref(f);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	int rc = -1;
	json_t *cu = sub_obj(f, "customer_update");
	set_bool(r, cu, "features.customer_update.enabled", "enabled");
	if (set_array(r, cu, "features.customer_update.allowed_updates",
		      "features[customer_update][allowed_updates]", "allowed_updates",
		      customer_updates) != 0)
		goto out;
	set_bool(r, sub_obj(f, "invoice_history"), "features.invoice_history.enabled", "enabled");
	set_bool(r, sub_obj(f, "payment_method_update"), "features.payment_method_update.enabled",
		 "enabled");
	set_bool(r, sub_obj(f, "subscription_pause"), "features.subscription_pause.enabled",
		 "enabled");
	json_t *sc = sub_obj(f, "subscription_cancel");
	set_bool(r, sc, "features.subscription_cancel.enabled", "enabled");
	set_enum(r, sc, "features.subscription_cancel.mode", "mode");
	set_enum(r, sc, "features.subscription_cancel.proration_behavior", "proration_behavior");
	json_t *cr = sub_obj(sc, "cancellation_reason");
	set_bool(r, cr, "features.subscription_cancel.cancellation_reason.enabled", "enabled");
	if (set_array(r, cr, "features.subscription_cancel.cancellation_reason.options",
		      "features[subscription_cancel][cancellation_reason][options]", "options",
		      cancel_reasons) != 0)
		goto out;
	json_t *su = sub_obj(f, "subscription_update");
	set_bool(r, su, "features.subscription_update.enabled", "enabled");
	set_enum(r, su, "features.subscription_update.proration_behavior", "proration_behavior");
	if (set_array(r, su, "features.subscription_update.default_allowed_updates",
		      "features[subscription_update][default_allowed_updates]",
		      "default_allowed_updates", sub_updates) != 0 ||
	    set_products(r, su) != 0)
		goto out;
	if (json_is_true(json_object_get(cu, "enabled"))) {
		size_t k;
		json_t *u;
		json_array_foreach(json_object_get(cu, "allowed_updates"), k, u)
		{
			if (str_eq(json_string_value(u), "shipping")) {
				req_fail(
				    r, ERR_PARAM_BAD, "features[customer_update][allowed_updates]",
				    "Tender's customer portal does not let customers edit their "
				    "shipping details yet: leave shipping out of "
				    "features[customer_update][allowed_updates].");
				goto out;
			}
		}
	}
	if (json_is_true(json_object_get(sub_obj(f, "subscription_pause"), "enabled"))) {
		req_fail(r, ERR_PARAM_BAD, "features[subscription_pause][enabled]",
			 "Tender's customer portal does not offer pausing yet: "
			 "features[subscription_pause][enabled] must be false.");
		goto out;
	}
	if (!str_eq(json_string_value(json_object_get(sc, "proration_behavior")), "none")) {
		req_fail(r, ERR_PARAM_BAD, "features[subscription_cancel][proration_behavior]",
			 "Tender does not prorate on cancellation yet: "
			 "features[subscription_cancel][proration_behavior] must be none.");
		goto out;
	}
	char *s = json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER);
	*ret = s ? arena_strdup(&r->arena, s) : NULL;
	free(s);
	rc = *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
out:
	json_decref(f);
	return rc;
}

static int profile_apply(struct req *r, const char *old, const char **ret)
{
	json_error_t e;
	json_t *p = json_loads(old, 0, &e);
	if (!json_is_object(p)) {
		json_decref(p);
		return req_fail(r, ERR_API, NULL, NULL);
	}
	static const char *const keys[] = {"headline", "privacy_policy_url",
					   "terms_of_service_url"};
	for (int i = 0; i < 3; i++) {
		char path[64];
		snprintf(path, sizeof(path), "business_profile.%s", keys[i]);
		const char *v = param_str(r, path);
		if (!v)
			continue;
		if (i > 0 && *v && !url_ok(v)) {
			json_decref(p);
			return req_fail(r, ERR_URL_INVALID,
					arena_printf(&r->arena, "business_profile[%s]", keys[i]),
					"Not a valid URL");
		}
		json_object_set_new(p, keys[i], *v ? json_string(v) : json_null());
	}
	char *s = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(p);
	*ret = s ? arena_strdup(&r->arena, s) : NULL;
	free(s);
	return *ret ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

/* Everything but `active`: the create's and the update's common parameters over c. */
static int conf_params(struct req *r, struct conf *c)
{
	bool lp;
	if (param_bool(r, "login_page.enabled", &lp) == 1 && lp)
		return req_fail(r, ERR_PARAM_BAD, "login_page[enabled]",
				"Tender's customer portal has no login page yet: "
				"login_page[enabled] must be false.");
	const char *u = param_str(r, "default_return_url");
	if (u) {
		if (*u && !url_ok(u))
			return req_fail(r, ERR_URL_INVALID, "default_return_url",
					"Not a valid URL");
		c->default_return_url = *u ? u : NULL;
	}
	if (features_apply(r, c->features, &c->features) != 0 ||
	    profile_apply(r, c->business_profile, &c->business_profile) != 0)
		return -1;
	return metadata_apply(r, c->metadata, "metadata", &c->metadata);
}

/* ---- /v1/billing_portal/configurations ---- */

/* features[subscription_update] as the request leaves it, checked when the request sets any of
 * it (billing_portal_update.c): products and prices the merchant's, active, recurring. Inside
 * the write. 0, or -1 with r->err. */
static int conf_update_check(struct req *r, struct db *db, const struct conf *c)
{
	if (!param_present(r, "features.subscription_update"))
		return 0;
	return portal_update_conf_check(r, db, c->features);
}

struct conf_ctx {
	struct req *r;
	const char *id;
	struct conf c;
};

static int conf_create_fn(struct db *db, void *p)
{
	struct conf_ctx *x = p;
	struct req *r = x->r;
	struct conf *c = &x->c;
	memset(c, 0, sizeof(*c));
	id_new_at(c->id, "bpc_", r->now);
	c->created = c->updated = r->now;
	c->active = true;
	c->features = FEATURES_BASE;
	c->business_profile = PROFILE_EMPTY;
	c->metadata = "{}";
	if (conf_params(r, c) != 0 || conf_update_check(r, db, c) != 0 ||
	    conf_insert(r, db, c) != 0)
		return -1;
	return conf_emit(r, db, c, "billing_portal.configuration.created", NULL, true);
}

static int h_conf_create(struct req *r)
{
	/* the create's features[subscription_update] is whole, as Stripe's spec requires it (an
	 * update changes what it names) */
	static const char *const whole[] = {"enabled", "default_allowed_updates", "products"};
	for (size_t i = 0; param_present(r, "features.subscription_update") && i < 3; i++) {
		char path[80];
		snprintf(path, sizeof(path), "features.subscription_update.%s", whole[i]);
		if (!param_present(r, path)) {
			const char *shown =
			    arena_printf(&r->arena, "features[subscription_update][%s]", whole[i]);
			return req_fail(r, ERR_PARAM_MISSING, shown, "%s", shown);
		}
	}
	struct conf_ctx x = {.r = r};
	return req_write(r, conf_create_fn, &x);
}

static int conf_load_or_fail(struct req *r, struct db *db, const char *id, const char *param,
			     struct conf *c)
{
	int rc = conf_load(r, db, id, c);
	if (rc == DB_NOTFOUND)
		return req_fail(r, ERR_RESOURCE_MISSING, param, "No such configuration: '%s'", id);
	return rc == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
}

static int conf_retrieve_fn(struct db *db, void *p)
{
	struct conf_ctx *x = p;
	if (conf_load_or_fail(x->r, db, x->id, "id", &x->c) != 0)
		return -1;
	conf_render(x->r, &x->c, req_json(x->r));
	return 0;
}

static int h_conf_retrieve(struct req *r)
{
	struct conf_ctx x = {.r = r, .id = r->args[0]};
	return req_read(r, conf_retrieve_fn, &x);
}

static int conf_update_fn(struct db *db, void *p)
{
	struct conf_ctx *x = p;
	struct req *r = x->r;
	struct conf old, *c = &x->c;
	if (conf_load_or_fail(r, db, x->id, "id", &old) != 0)
		return -1;
	*c = old;
	bool active;
	if (param_bool(r, "active", &active) == 1) {
		if (!active && old.is_default)
			return req_fail(r, ERR_PARAM_BAD, "active",
					"The default configuration cannot be deactivated.");
		c->active = active;
	}
	if (conf_params(r, c) != 0 || conf_update_check(r, db, c) != 0)
		return -1;
	c->updated = r->now;
	struct db_stmt *st = db_prepare(db, SQL_CONF_UPDATE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, c->id, -1);
	db_bind_int64(st, 3, c->updated);
	db_bind_int64(st, 4, c->active ? 1 : 0);
	db_bind_text(st, 5, c->default_return_url, -1);
	db_bind_text(st, 6, c->business_profile, -1);
	db_bind_text(st, 7, c->features, -1);
	db_bind_text(st, 8, c->metadata, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	/* previous_attributes: the top-level fields that changed */
	struct buf b;
	struct json j;
	buf_init(&b, 256 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	if (old.active != c->active)
		json_kv_bool(&j, "active", old.active);
	if (!str_eq(old.business_profile, c->business_profile))
		json_kv_raw(&j, "business_profile", old.business_profile,
			    strlen(old.business_profile));
	if ((old.default_return_url == NULL) != (c->default_return_url == NULL) ||
	    (old.default_return_url && !str_eq(old.default_return_url, c->default_return_url)))
		json_kv_str_or_null(&j, "default_return_url", old.default_return_url);
	if (!str_eq(old.features, c->features))
		json_kv_raw(&j, "features", old.features, strlen(old.features));
	if (!str_eq(old.metadata, c->metadata))
		json_kv_raw(&j, "metadata", old.metadata, strlen(old.metadata));
	json_kv_int(&j, "updated", old.updated);
	json_obj_close(&j);
	const char *prev = b.failed ? NULL : arena_strndup(&r->arena, b.data, b.len);
	buf_release(&b);
	if (!prev)
		return req_fail(r, ERR_API, NULL, NULL);
	return conf_emit(r, db, c, "billing_portal.configuration.updated", prev, true);
}

static int h_conf_update(struct req *r)
{
	struct conf_ctx x = {.r = r, .id = r->args[0]};
	return req_write(r, conf_update_fn, &x);
}

static const char SQL_CONF_CURSOR[] =
    "SELECT created FROM billing_portal_configurations WHERE merchant_id = $1 AND id = $2";
#define CONF_LIST                                                                                  \
	"SELECT id FROM billing_portal_configurations WHERE merchant_id = $1 AND id > $2"          \
	" AND id < $3 AND ($5 IS NULL OR active = $5) AND ($6 IS NULL OR is_default = $6)"
static const char SQL_CONF_DESC[] = CONF_LIST " ORDER BY id DESC LIMIT $4";
static const char SQL_CONF_ASC[] = CONF_LIST " ORDER BY id ASC LIMIT $4";

static int conf_list_bind(struct req *r, struct db_stmt *st, int first, void *ctx)
{
	(void)ctx;
	static const char *const names[] = {"active", "is_default"};
	for (int i = 0; i < 2; i++)
		list_bind_bool(r, st, first + i, names[i]);
	return 0;
}

static int conf_list_render(struct req *r, struct db *db, const char *id, struct json *j, void *ctx)
{
	(void)ctx;
	struct conf c;
	int rc = conf_load(r, db, id, &c);
	if (rc != DB_OK)
		return rc;
	conf_render(r, &c, j);
	return DB_OK;
}

static int h_conf_list(struct req *r)
{
	static const struct list_spec spec = {
	    .url = "/v1/billing_portal/configurations",
	    .object_name = "configuration",
	    .id_prefix = "bpc_",
	    .sql_cursor = SQL_CONF_CURSOR,
	    .sql_desc = SQL_CONF_DESC,
	    .sql_asc = SQL_CONF_ASC,
	    .bind_filters = conf_list_bind,
	    .render = conf_list_render,
	};
	return list_respond(r, &spec);
}

/* ---- POST /v1/billing_portal/sessions ---- */

static const char SQL_SESSION_PUT[] =
    "INSERT INTO billing_portal_sessions (merchant_id, id, key_hash, created, customer,"
    " configuration, return_url, locale, on_behalf_of, state, last_active, flow)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'new', $4, $10)";

struct session_ctx {
	struct req *r;
	char key[PORTAL_KEY_LEN + 1], hash[65];
	char id[ID_MAX];
};

/* The merchant's default configuration, made now if it has none. */
static int default_conf(struct req *r, struct db *db, struct conf *c)
{
	struct db_stmt *st = db_prepare(db, SQL_CONF_DEFAULT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	char id[ID_MAX] = "";
	int rc = db_step(st);
	if (rc == DB_ROW)
		str_copy(id, sizeof(id), db_col_text(st, 0, NULL));
	db_reset(st);
	if (rc == DB_ROW)
		return conf_load(r, db, id, c) == DB_OK ? 0 : req_fail(r, ERR_API, NULL, NULL);
	if (rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	memset(c, 0, sizeof(*c));
	id_new_at(c->id, "bpc_", r->now);
	c->created = c->updated = r->now;
	c->active = c->is_default = true;
	c->features = FEATURES_DEFAULT;
	c->business_profile = PROFILE_EMPTY;
	c->metadata = "{}";
	if (conf_insert(r, db, c) != 0)
		return -1;
	return conf_emit(r, db, c, "billing_portal.configuration.created", NULL, false);
}

/* ---- flow_data (deep links) ---- */

#define RETENTION_COUPON "flow_data[subscription_cancel][retention][coupon_offer][coupon]"

static const char SQL_FLOW_SUB[] =
    "SELECT customer, status, cancel_at_period_end, currency FROM subscriptions"
    " WHERE merchant_id = $1 AND id = $2";

static bool feature_on(json_t *f, const char *name)
{
	return json_is_true(json_object_get(json_object_get(f, name), "enabled"));
}

/* flow_data[<type>][subscription]: the customer's, and one the portal can act on. */
static int flow_subscription(struct req *r, struct db *db, const char *customer, const char *type,
			     const char **ret, char currency[8])
{
	char path[96], shown[96];
	snprintf(path, sizeof(path), "flow_data.%s.subscription", type);
	snprintf(shown, sizeof(shown), "flow_data[%s][subscription]", type);
	const char *sub = param_str(r, path);
	if (!sub || !*sub)
		return req_fail(r, ERR_PARAM_MISSING, shown, "%s", shown);
	struct db_stmt *st = db_prepare(db, SQL_FLOW_SUB);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, sub, -1);
	int rc = db_step(st);
	bool mine = false, cape = false;
	char status[32] = "";
	if (rc == DB_ROW) {
		mine = str_eq(db_col_text(st, 0, NULL), customer);
		str_copy(status, sizeof(status), db_col_text(st, 1, NULL));
		cape = db_col_int64(st, 2) != 0;
		str_copy(currency, 8, db_col_text(st, 3, NULL));
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	if (rc == DB_DONE)
		return req_fail(r, ERR_RESOURCE_MISSING, shown, "No such subscription: '%s'", sub);
	if (!mine)
		return req_fail(r, ERR_PARAM_BAD, shown,
				"The subscription %s does not belong to the customer %s.", sub,
				customer);
	/* what the portal's page lists (and so can act on) */
	if (str_eq(status, "canceled") || str_eq(status, "incomplete") ||
	    str_eq(status, "incomplete_expired"))
		return req_fail(r, ERR_PARAM_BAD, shown,
				"The subscription %s is %s: the portal cannot act on it.", sub,
				status);
	if (cape && str_eq(type, "subscription_cancel"))
		return req_fail(r, ERR_PARAM_BAD, shown,
				"The subscription %s is already set to cancel at the end of its "
				"period.",
				sub);
	*ret = sub;
	return 0;
}

/* flow_data[after_completion] rendered into j (the default: back to the portal's home page). */
static int flow_after_completion(struct req *r, struct json *j)
{
	const char *type = param_str(r, "flow_data.after_completion.type");
	if (param_present(r, "flow_data.after_completion") && (!type || !*type))
		return req_fail(r, ERR_PARAM_MISSING, "flow_data[after_completion][type]", "%s",
				"flow_data[after_completion][type]");
	if (!type || !*type)
		type = "portal_homepage";
	static const char *const kinds[] = {"hosted_confirmation", "redirect", NULL};
	for (int i = 0; kinds[i]; i++)
		if (param_present(r, str_eq(kinds[i], "redirect")
					 ? "flow_data.after_completion.redirect"
					 : "flow_data.after_completion.hosted_confirmation") &&
		    !str_eq(type, kinds[i]))
			return req_fail(
			    r, ERR_PARAM_BAD,
			    arena_printf(&r->arena, "flow_data[after_completion][%s]", kinds[i]),
			    "flow_data[after_completion][%s] can only be set when "
			    "flow_data[after_completion][type] is %s.",
			    kinds[i], kinds[i]);
	const char *url = param_str(r, "flow_data.after_completion.redirect.return_url");
	if (str_eq(type, "redirect")) {
		if (!url || !*url)
			return req_fail(r, ERR_PARAM_MISSING,
					"flow_data[after_completion][redirect][return_url]", "%s",
					"flow_data[after_completion][redirect][return_url]");
		if (!url_ok(url))
			return req_fail(r, ERR_URL_INVALID,
					"flow_data[after_completion][redirect][return_url]",
					"Not a valid URL");
	}
	const char *msg =
	    param_str(r, "flow_data.after_completion.hosted_confirmation.custom_message");
	json_key(j, "after_completion");
	json_obj_open(j);
	json_key(j, "hosted_confirmation");
	if (str_eq(type, "hosted_confirmation")) {
		json_obj_open(j);
		json_kv_str_or_null(j, "custom_message", msg && *msg ? msg : NULL);
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_key(j, "redirect");
	if (str_eq(type, "redirect")) {
		json_obj_open(j);
		json_kv_str(j, "return_url", url);
		json_obj_close(j);
	} else {
		json_nil(j);
	}
	json_kv_str(j, "type", type);
	json_obj_close(j);
	return 0;
}

/* flow_data checked as Stripe checks it at create (the subscription is the customer's and one
 * the portal can act on, the configuration c offers the flow) and rendered as the session's
 * `flow` (*ret, in r's arena; NULL without flow_data). 0, or -1 with r->err. */
static int flow_build(struct req *r, struct db *db, const char *customer, const struct conf *c,
		      const char **ret)
{
	*ret = NULL;
	if (!param_present(r, "flow_data"))
		return 0;
	const char *type = param_str(r, "flow_data.type");
	if (!type || !*type)
		return req_fail(r, ERR_PARAM_MISSING, "flow_data[type]", "%s", "flow_data[type]");
	static const char *const kinds[] = {"subscription_cancel", "subscription_update",
					    "subscription_update_confirm", NULL};
	for (int i = 0; kinds[i]; i++) {
		char path[64];
		snprintf(path, sizeof(path), "flow_data.%s", kinds[i]);
		bool given = param_present(r, path);
		const char *shown = arena_printf(&r->arena, "flow_data[%s]", kinds[i]);
		if (given && !str_eq(type, kinds[i]))
			return req_fail(r, ERR_PARAM_BAD, shown,
					"flow_data[%s] can only be set when flow_data[type] is %s.",
					kinds[i], kinds[i]);
		if (!given && str_eq(type, kinds[i]))
			return req_fail(r, ERR_PARAM_MISSING, shown, "%s", shown);
	}
	const char *sub = NULL;
	char currency[8] = "";
	if (!str_eq(type, "payment_method_update") &&
	    flow_subscription(r, db, customer, type, &sub, currency) != 0)
		return -1;
	/* a retention coupon: one the subscription could take now (the accept checks it again) */
	const char *coupon =
	    param_str(r, "flow_data.subscription_cancel.retention.coupon_offer.coupon");
	if (str_eq(type, "subscription_cancel") &&
	    param_present(r, "flow_data.subscription_cancel.retention")) {
		if (!coupon || !*coupon)
			return req_fail(r, ERR_PARAM_MISSING, RETENTION_COUPON, "%s",
					RETENTION_COUPON);
		struct discount_spec spec = {.present = true, .n = 1};
		spec.e[0].coupon = coupon;
		spec.e[0].shown = RETENTION_COUPON;
		struct discount *d = arena_alloc(&r->arena, DISCOUNTS_MAX * sizeof(*d));
		int n = 0;
		if (!d)
			return req_fail(r, ERR_API, NULL, NULL);
		if (discounts_resolve(r, db, &spec, customer, currency, BILLING_AMOUNT_MAX, NULL,
				      r->now, d, &n) != 0)
			return -1;
	} else {
		coupon = NULL;
	}
	json_error_t e;
	json_t *f = json_loads(c->features, 0, &e);
	const char *feature =
	    str_eq(type, "subscription_update_confirm") ? "subscription_update" : type;
	bool on = feature_on(f, feature);
	if (!on) {
		json_decref(f);
		return req_fail(r, ERR_PARAM_BAD, "flow_data[type]",
				"The configuration %s does not have features[%s] enabled.", c->id,
				feature);
	}
	/* a plan change: the subscription one the configuration lets change, and the confirm's
	 * item, price and quantity (billing_portal_update.c) */
	const char *upd = NULL, *confirm = NULL;
	if (str_eq(feature, "subscription_update")) {
		struct portal_plan plan;
		int prc = portal_plan_load(r, db, f, sub, &plan);
		int frc = prc == DB_OK ? portal_update_flow(r, db, f, type, &plan, &upd, &confirm)
				       : req_fail(r, ERR_API, NULL, NULL);
		if (frc != 0) {
			json_decref(f);
			return -1;
		}
	}
	json_decref(f);
	struct buf b;
	struct json j;
	buf_init(&b, 16 * 1024);
	json_init(&j, &b);
	json_obj_open(&j);
	int rc = flow_after_completion(r, &j);
	if (rc == 0) {
		json_key(&j, "subscription_cancel");
		if (str_eq(type, "subscription_cancel")) {
			json_obj_open(&j);
			json_key(&j, "retention");
			if (coupon) {
				json_obj_open(&j);
				json_key(&j, "coupon_offer");
				json_obj_open(&j);
				json_kv_str(&j, "coupon", coupon);
				json_obj_close(&j);
				json_kv_str(&j, "type", "coupon_offer");
				json_obj_close(&j);
			} else {
				json_nil(&j);
			}
			json_kv_str(&j, "subscription", sub);
			json_obj_close(&j);
		} else {
			json_nil(&j);
		}
		json_key(&j, "subscription_update");
		if (upd)
			json_raw(&j, upd, strlen(upd));
		else
			json_nil(&j);
		json_key(&j, "subscription_update_confirm");
		if (confirm)
			json_raw(&j, confirm, strlen(confirm));
		else
			json_nil(&j);
		json_kv_str(&j, "type", type);
		json_obj_close(&j);
		*ret = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
		if (!*ret)
			rc = req_fail(r, ERR_API, NULL, NULL);
	}
	buf_release(&b);
	return rc;
}

static void session_render(struct req *r, struct json *j, const char *id, const char *conf,
			   const char *ret, const char *flow, const char *url)
{
	const char *locale = param_str(r, "locale");
	const char *obo = param_str(r, "on_behalf_of");
	json_obj_open(j);
	json_kv_str(j, "id", id);
	json_kv_str(j, "object", "billing_portal.session");
	json_kv_str(j, "configuration", conf);
	json_kv_int(j, "created", r->now);
	json_kv_str(j, "customer", param_str(r, "customer"));
	if (flow)
		json_kv_raw(j, "flow", flow, strlen(flow));
	else
		json_kv_null(j, "flow");
	json_kv_bool(j, "livemode", r->livemode != 0);
	json_kv_str_or_null(j, "locale", locale && *locale ? locale : NULL);
	json_kv_str_or_null(j, "on_behalf_of", obo && *obo ? obo : NULL);
	json_kv_str_or_null(j, "return_url", ret);
	json_kv_str(j, "url", url);
	json_obj_close(j);
}

static int session_create_fn(struct db *db, void *p)
{
	struct session_ctx *x = p;
	struct req *r = x->r;
	const char *customer = param_str(r, "customer");
	if (customer_check(r, db, customer) != 0)
		return -1;
	struct conf c;
	const char *cid = param_str(r, "configuration");
	if (cid && *cid) {
		if (conf_load_or_fail(r, db, cid, "configuration", &c) != 0)
			return -1;
		if (!c.active)
			return req_fail(r, ERR_PARAM_BAD, "configuration",
					"The configuration %s is not active.", cid);
	} else if (default_conf(r, db, &c) != 0) {
		return -1;
	}
	const char *ret = param_str(r, "return_url");
	if (!ret || !*ret)
		ret = c.default_return_url;
	if (!ret)
		return req_fail(r, ERR_PARAM_BAD, "return_url",
				"A return_url is required: the configuration %s has no "
				"default_return_url.",
				c.id);
	const char *locale = param_str(r, "locale");
	const char *obo = param_str(r, "on_behalf_of");
	if (obo && *obo) {
		/* one of the merchant's connected accounts */
		struct account_due due;
		int rc = accounts_due(r, db, r->merchant_id, obo, &due);
		if (rc == DB_NOTFOUND)
			return req_fail(r, ERR_RESOURCE_MISSING, "on_behalf_of",
					"No such account: '%s'", obo);
		if (rc != DB_OK)
			return req_fail(r, ERR_API, NULL, NULL);
	}
	const char *flow = NULL;
	if (flow_build(r, db, customer, &c, &flow) != 0)
		return -1;
	struct db_stmt *st = db_prepare(db, SQL_SESSION_PUT);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, r->merchant_id, -1);
	db_bind_text(st, 2, x->id, -1);
	db_bind_text(st, 3, x->hash, -1);
	db_bind_int64(st, 4, r->now);
	db_bind_text(st, 5, customer, -1);
	db_bind_text(st, 6, c.id, -1);
	db_bind_text(st, 7, ret, -1);
	db_bind_text(st, 8, locale && *locale ? locale : NULL, -1);
	db_bind_text(st, 9, obo && *obo ? obo : NULL, -1);
	db_bind_text(st, 10, flow, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	const char *base =
	    arena_printf(&r->arena, "%s/billing_portal/%s/", req_url_base(r), r->merchant_id);
	if (!base)
		return req_fail(r, ERR_API, NULL, NULL);
	/* the event's copy leaves the secret out (see the top of this file) */
	struct buf b;
	struct json j;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b);
	/* return_url as used (the configuration's default when none was given) */
	session_render(r, &j, x->id, c.id, ret, flow, arena_printf(&r->arena, "%sredacted", base));
	struct event_origin o = {r->request_id, r->idempotency_key, r->livemode};
	int rc = b.failed ? DB_ERR
			  : event_append(db, r->merchant_id, &o, "billing_portal.session.created",
					 x->id, b.data, b.len, NULL, r->now, NULL);
	buf_release(&b);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	session_render(r, req_json(r), x->id, c.id, ret, flow,
		       arena_printf(&r->arena, "%s%s", base, x->key));
	return 0;
}

static int h_session_create(struct req *r)
{
	const char *ret = param_str(r, "return_url");
	if (ret && *ret && !url_ok(ret))
		return req_fail(r, ERR_URL_INVALID, "return_url", "Not a valid URL");
	struct session_ctx x = {.r = r};
	id_new_at(x.id, "bps_", r->now);
	id_random_base62(x.key, PORTAL_KEY_LEN);
	x.key[PORTAL_KEY_LEN] = '\0';
	if (digest_sha256_hex(x.key, PORTAL_KEY_LEN, x.hash) != 0)
		return req_fail(r, ERR_API, NULL, NULL);
	return req_write(r, session_create_fn, &x);
}

/* ---- the page ---- */

static const char SQL_PAGE_GET[] =
    "SELECT id, created, customer, configuration, return_url, state, opened_at, last_active,"
    " form_hash, flow, flow_done FROM billing_portal_sessions"
    " WHERE merchant_id = $1 AND key_hash = $2";
/* in the write that completes the session's flow */
static const char SQL_FLOW_DONE[] =
    "UPDATE billing_portal_sessions SET flow_done = 1 WHERE merchant_id = $1 AND id = $2";
static const char SQL_PAGE_OPEN[] =
    "UPDATE billing_portal_sessions SET state = 'opened', opened_at = $3, last_active = $3,"
    " form_hash = $4 WHERE merchant_id = $1 AND key_hash = $2 AND state = 'new'"
    " AND created > $5";
/* a post: its one-time value ($5's hash) is replaced by the next ($4) */
static const char SQL_PAGE_TOUCH[] =
    "UPDATE billing_portal_sessions SET last_active = $3, form_hash = $4"
    " WHERE merchant_id = $1 AND key_hash = $2 AND state = 'opened' AND form_hash = $5"
    " AND last_active > $6 AND opened_at > $7";

enum visit { VISIT_NOT_FOUND, VISIT_EXPIRED, VISIT_OK };

struct page_ctx {
	struct req *r;
	const char *acct, *key, *base; /* base: the page's path */
	char hash[65];
	char nonce[PORTAL_KEY_LEN + 1], nonce_hash[65]; /* the forms' next one-time value */
	enum visit outcome;
	char id[ID_MAX], customer[ID_MAX], conf[ID_MAX];
	const char *return_url;
	const char *notice; /* what the last post did */
	struct buf body;
	/* the session's flow (deep link), from its `flow` JSON: flow_type "" when it has none */
	char flow_type[32], flow_sub[ID_MAX], after_type[32];
	const char *after_url, *after_message;
	const char
	    *offer_coupon;   /* subscription_cancel[retention][coupon_offer][coupon], or NULL */
	bool flow_done;	     /* completed: the page is the home page */
	bool flow_completed; /* by this post: after_completion follows */
	/* subscription_update_confirm's change: its price and quantity */
	char flow_price[ID_MAX];
	int64_t flow_qty;
	/* a plan change's page (VIEW_HOME: the portal, or the flow's own): the plan choice or the
	 * confirmation of subscription view_sub's change to view_price / view_qty */
	enum { VIEW_HOME, VIEW_CHOOSE, VIEW_CONFIRM } view;
	char view_sub[ID_MAX];
	const char *view_price;
	int64_t view_qty;
};

struct portal_session {
	char id[ID_MAX], customer[ID_MAX], conf[ID_MAX];
	int64_t created, opened_at, last_active;
	const char *return_url, *state, *form_hash, *flow;
	bool flow_done;
};

static int session_load(struct req *r, struct db *db, struct page_ctx *x, struct portal_session *s)
{
	struct db_stmt *st = db_prepare(db, SQL_PAGE_GET);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, x->hash, -1);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		struct arena *a = &r->arena;
		memset(s, 0, sizeof(*s));
		str_copy(s->id, sizeof(s->id), db_col_text(st, 0, NULL));
		s->created = db_col_int64(st, 1);
		str_copy(s->customer, sizeof(s->customer), db_col_text(st, 2, NULL));
		str_copy(s->conf, sizeof(s->conf), db_col_text(st, 3, NULL));
		s->return_url = col_text_dup(a, st, 4);
		s->state = col_text_dup(a, st, 5);
		s->opened_at = db_col_int64_or0(st, 6);
		s->last_active = db_col_int64(st, 7);
		s->form_hash = col_text_dup(a, st, 8);
		s->flow = col_text_dup(a, st, 9);
		s->flow_done = db_col_int64_or0(st, 10) != 0;
		if (!s->state)
			rc = DB_ERR;
	}
	db_reset(st);
	if (rc == DB_ROW)
		return DB_OK;
	return rc == DB_DONE ? DB_NOTFOUND : rc < 0 ? rc : DB_ERR;
}

static void page_take(struct page_ctx *x, const struct portal_session *s)
{
	str_copy(x->id, sizeof(x->id), s->id);
	str_copy(x->customer, sizeof(x->customer), s->customer);
	str_copy(x->conf, sizeof(x->conf), s->conf);
	x->return_url = s->return_url;
	x->flow_type[0] = x->flow_sub[0] = x->after_type[0] = x->flow_price[0] = '\0';
	x->flow_qty = 0;
	x->after_url = x->after_message = x->offer_coupon = NULL;
	x->flow_done = s->flow_done;
	if (!s->flow)
		return;
	json_error_t e;
	json_t *f = json_loads(s->flow, 0, &e);
	json_t *ac = json_object_get(f, "after_completion");
	str_copy(x->flow_type, sizeof(x->flow_type), json_string_value(json_object_get(f, "type")));
	/* the flow's subscription: its cancel's, or its plan change's */
	static const char *const subs[] = {"subscription_cancel", "subscription_update",
					   "subscription_update_confirm"};
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]) && !x->flow_sub[0]; i++)
		str_copy(x->flow_sub, sizeof(x->flow_sub),
			 json_string_value(
			     json_object_get(json_object_get(f, subs[i]), "subscription")));
	json_t *item = json_array_get(
	    json_object_get(json_object_get(f, "subscription_update_confirm"), "items"), 0);
	str_copy(x->flow_price, sizeof(x->flow_price),
		 json_string_value(json_object_get(item, "price")));
	x->flow_qty = json_integer_value(json_object_get(item, "quantity"));
	str_copy(x->after_type, sizeof(x->after_type),
		 json_string_value(json_object_get(ac, "type")));
	const char *u =
	    json_string_value(json_object_get(json_object_get(ac, "redirect"), "return_url"));
	const char *m = json_string_value(
	    json_object_get(json_object_get(ac, "hosted_confirmation"), "custom_message"));
	x->after_url = u ? arena_strdup(&x->r->arena, u) : NULL;
	x->after_message = m ? arena_strdup(&x->r->arena, m) : NULL;
	const char *oc = json_string_value(json_object_get(
	    json_object_get(json_object_get(json_object_get(f, "subscription_cancel"), "retention"),
			    "coupon_offer"),
	    "coupon"));
	x->offer_coupon = oc ? arena_strdup(&x->r->arena, oc) : NULL;
	json_decref(f);
}

/* The session's flow is still to be completed: the page is that flow's only. */
static bool flow_pending(const struct page_ctx *x)
{
	return x->flow_type[0] && !x->flow_done;
}

/* In the write of the post that completes the session's flow. */
static int flow_complete(struct req *r, struct db *db, struct page_ctx *x)
{
	struct db_stmt *st = db_prepare(db, SQL_FLOW_DONE);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, x->id, -1);
	if (db_step_done(st) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	x->flow_completed = true;
	return 0;
}

/* GET: the one visit opens the session, while its URL is young enough. */
static int open_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	x->outcome = VISIT_NOT_FOUND;
	struct portal_session s;
	int rc = session_load(r, db, x, &s);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	x->outcome = VISIT_EXPIRED;
	struct db_stmt *st = db_prepare(db, SQL_PAGE_OPEN);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, x->hash, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, x->nonce_hash, -1);
	db_bind_int64(st, 5, r->now - PORTAL_LINK_TTL_S);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n != 1)
		return 0;
	page_take(x, &s);
	x->outcome = VISIT_OK;
	return 0;
}

/* A post: the session is open, active, and the form brings its one-time value, which is
 * replaced by x->nonce. Sets x->outcome. 0, or -1 with r->err. */
static int touch(struct req *r, struct db *db, struct page_ctx *x)
{
	x->outcome = VISIT_NOT_FOUND;
	struct portal_session s;
	int rc = session_load(r, db, x, &s);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	x->outcome = VISIT_EXPIRED;
	const char *given = param_str(r, "nonce");
	char given_hash[65];
	if (!given || !s.form_hash || digest_sha256_hex(given, strlen(given), given_hash) != 0 ||
	    !challenge_token_eq(s.form_hash, given_hash))
		return 0;
	struct db_stmt *st = db_prepare(db, SQL_PAGE_TOUCH);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, x->hash, -1);
	db_bind_int64(st, 3, r->now);
	db_bind_text(st, 4, x->nonce_hash, -1);
	db_bind_text(st, 5, given_hash, -1);
	db_bind_int64(st, 6, r->now - PORTAL_IDLE_S);
	db_bind_int64(st, 7, r->now - PORTAL_SESSION_MAX_S);
	int64_t n = 0;
	if (db_step_changes(st, &n) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (n != 1)
		return 0;
	page_take(x, &s);
	x->outcome = VISIT_OK;
	return 0;
}

/* "2024-05-01" (billing_portal_update.h) */
void portal_html_date(struct buf *b, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm)) {
		buf_puts(b, "?");
		return;
	}
	buf_printf(b, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static void hidden_nonce(struct buf *b, const struct page_ctx *x)
{
	buf_puts(b, "<input type=\"hidden\" name=\"nonce\" value=\"");
	html_escape(b, x->nonce);
	buf_puts(b, "\">");
}

static const char SQL_SUBS[] =
    "SELECT id, status, currency, current_period_end, cancel_at_period_end,"
    " billing_interval, billing_interval_count FROM subscriptions"
    " WHERE merchant_id = $1 AND customer = $2 AND status <> 'canceled'"
    " AND status <> 'incomplete_expired' AND status <> 'incomplete'"
    " ORDER BY id DESC LIMIT $3";
static const char SQL_SUB_ITEMS[] =
    "SELECT price, quantity FROM subscription_items WHERE merchant_id = $1 AND subscription = $2"
    " ORDER BY pos LIMIT $3";

struct sub_row {
	char id[ID_MAX], status[24], currency[8], interval[8];
	int64_t period_end, interval_count;
	bool cape;
};

static const char *reason_label(const char *reason)
{
	static const char *const labels[][2] = {
	    {"customer_service", "Customer service was less than expected"},
	    {"low_quality", "Quality was less than expected"},
	    {"missing_features", "Some features are missing"},
	    {"other", "Other reason"},
	    {"switched_service", "I'm switching to a different service"},
	    {"too_complex", "Ease of use was less than expected"},
	    {"too_expensive", "It's too expensive"},
	    {"unused", "I don't use the service enough"},
	};
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i][0], reason) == 0)
			return labels[i][1];
	return reason;
}

/* One subscription's items: "Product × 2" lines and the period's total. */
static int sub_items(struct req *r, struct db *db, struct page_ctx *x, const struct sub_row *s)
{
	struct buf *b = &x->body;
	struct {
		char price[ID_MAX];
		int64_t qty;
	} items[SUB_ITEMS_MAX];
	int n = 0, rc;
	struct db_stmt *st = db_prepare(db, SQL_SUB_ITEMS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, s->id, -1);
	db_bind_int64(st, 3, SUB_ITEMS_MAX);
	while (n < SUB_ITEMS_MAX && (rc = db_step(st)) == DB_ROW) {
		str_copy(items[n].price, ID_MAX, db_col_text(st, 0, NULL));
		items[n].qty = db_col_int64(st, 1);
		n++;
	}
	if (n == SUB_ITEMS_MAX)
		rc = DB_DONE;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	int64_t total = 0;
	buf_puts(b, "<ul>");
	for (int i = 0; i < n; i++) {
		struct price_facts pf;
		/* in the subscription's currency (a price's currency_options entry for it) */
		rc = price_facts_in(r, db, items[i].price, s->currency, &pf);
		if (rc == DB_NOTFOUND)
			continue;
		if (rc != DB_OK)
			return rc;
		int64_t line;
		/* unit_amount × quantity, or a tiered price's amount for that quantity */
		if (price_facts_amount(&pf, items[i].qty, &line) != 0 ||
		    __builtin_add_overflow(total, line, &total))
			return DB_ERR;
		buf_puts(b, "<li>");
		html_escape(b, pf.product_name ? pf.product_name : items[i].price);
		if (items[i].qty != 1)
			buf_printf(b, " × %lld", (long long)items[i].qty);
		buf_puts(b, "</li>");
	}
	buf_puts(b, "</ul><p class=\"amt\" id=\"amount-");
	html_escape(b, s->id);
	buf_puts(b, "\">");
	html_amount(b, total, s->currency);
	if (s->interval_count > 1)
		buf_printf(b, " every %lld %ss", (long long)s->interval_count, s->interval);
	else
		buf_printf(b, " per %s", s->interval);
	buf_puts(b, "</p>");
	return DB_OK;
}

/* A cancel flow's retention offer: its coupon, and a form that takes it instead of canceling.
 * Nothing when the coupon cannot be redeemed any more. */
static int section_offer(struct req *r, struct db *db, struct page_ctx *x)
{
	struct buf *b = &x->body;
	struct coupon c;
	int rc = coupon_load(r, db, x->offer_coupon, &c);
	if (rc == DB_NOTFOUND || (rc == DB_OK && (c.deleted || !coupon_valid(&c, r->now))))
		return DB_OK;
	if (rc != DB_OK)
		return rc;
	buf_puts(b, "<section id=\"retention\"><p id=\"offer\">Stay and get ");
	if (c.percent_e4 > 0) {
		buf_printf(b, "%lld", (long long)(c.percent_e4 / 10000));
		if (c.percent_e4 % 10000)
			buf_printf(b, ".%02lld", (long long)(c.percent_e4 % 10000 / 100));
		buf_puts(b, "%");
	} else {
		html_amount(b, c.amount_off, c.currency);
	}
	buf_puts(b, " off");
	if (str_eq(c.duration, "once"))
		buf_puts(b, " your next invoice");
	else if (str_eq(c.duration, "repeating"))
		buf_printf(b, " for %lld months", (long long)c.duration_in_months);
	buf_puts(b, ".</p><form method=\"post\" action=\"");
	html_escape(b, x->base);
	buf_puts(b, "/retention\">");
	hidden_nonce(b, x);
	buf_puts(b, "<p><button type=\"submit\">Accept offer</button></p></form></section>");
	return DB_OK;
}

static int section_subscriptions(struct req *r, struct db *db, struct page_ctx *x, json_t *f)
{
	struct buf *b = &x->body;
	struct sub_row *rows = arena_alloc(&r->arena, PORTAL_SUBS_MAX * sizeof(*rows));
	if (!rows)
		return DB_ERR;
	int n = 0, rc;
	struct db_stmt *st = db_prepare(db, SQL_SUBS);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, x->customer, -1);
	db_bind_int64(st, 3, PORTAL_SUBS_MAX);
	while (n < PORTAL_SUBS_MAX && (rc = db_step(st)) == DB_ROW) {
		struct sub_row *s = &rows[n++];
		memset(s, 0, sizeof(*s));
		str_copy(s->id, sizeof(s->id), db_col_text(st, 0, NULL));
		str_copy(s->status, sizeof(s->status), db_col_text(st, 1, NULL));
		str_copy(s->currency, sizeof(s->currency), db_col_text(st, 2, NULL));
		s->period_end = db_col_int64(st, 3);
		s->cape = db_col_int64(st, 4) != 0;
		str_copy(s->interval, sizeof(s->interval), db_col_text(st, 5, NULL));
		s->interval_count = db_col_int64(st, 6);
	}
	if (n == PORTAL_SUBS_MAX)
		rc = DB_DONE;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	json_t *sc = json_object_get(f, "subscription_cancel");
	bool can_cancel = json_is_true(json_object_get(sc, "enabled"));
	bool now = str_eq(json_string_value(json_object_get(sc, "mode")), "immediately");
	json_t *cr = json_object_get(sc, "cancellation_reason");
	json_t *options =
	    json_is_true(json_object_get(cr, "enabled")) ? json_object_get(cr, "options") : NULL;
	buf_puts(b, "<h2>Current plan</h2>");
	if (n == 0) {
		buf_puts(b, "<p id=\"no-subscriptions\">No active subscriptions.</p>");
		return DB_OK;
	}
	int shown = 0;
	for (int i = 0; i < n; i++) {
		const struct sub_row *s = &rows[i];
		/* a cancel flow shows its subscription only */
		if (flow_pending(x) && !str_eq(s->id, x->flow_sub))
			continue;
		shown++;
		buf_puts(b, "<section class=\"subscription\" id=\"");
		html_escape(b, s->id);
		buf_puts(b, "\">");
		rc = sub_items(r, db, x, s);
		if (rc != DB_OK)
			return rc;
		buf_puts(b, "<p class=\"renewal\">");
		if (s->cape) {
			buf_puts(b, "Your plan will be canceled on ");
			portal_html_date(b, s->period_end);
			buf_puts(b, ".");
		} else if (str_eq(s->status, "paused")) {
			buf_puts(b, "Paused.");
		} else {
			buf_puts(b,
				 str_eq(s->status, "trialing") ? "Trial ends on " : "Renews on ");
			portal_html_date(b, s->period_end);
			buf_puts(b, ".");
			if (str_eq(s->status, "past_due") || str_eq(s->status, "unpaid"))
				buf_puts(b, " A payment is overdue.");
		}
		buf_puts(b, "</p>");
		if (can_cancel && !s->cape) {
			buf_puts(b, "<form method=\"post\" action=\"");
			html_escape(b, x->base);
			buf_puts(b, "/cancel\">");
			hidden_nonce(b, x);
			buf_puts(b, "<input type=\"hidden\" name=\"subscription\" value=\"");
			html_escape(b, s->id);
			buf_puts(b, "\">");
			if (json_array_size(options) > 0) {
				buf_puts(b, "<label>Why are you canceling?<select name=\"reason\">"
					    "<option value=\"\">Choose a reason</option>");
				size_t k;
				json_t *o;
				json_array_foreach(options, k, o)
				{
					const char *v = json_string_value(o);
					if (!v)
						continue;
					buf_puts(b, "<option value=\"");
					html_escape(b, v);
					buf_puts(b, "\">");
					html_escape(b, reason_label(v));
					buf_puts(b, "</option>");
				}
				buf_puts(b, "</select></label>");
			}
			buf_puts(b, now ? "<p><button type=\"submit\">Cancel plan now</button></p>"
					: "<p><button type=\"submit\">Cancel plan</button></p>");
			buf_puts(b, "</form>");
		}
		/* a plan the configuration lets the customer change (billing_portal_update.c) */
		if (!flow_pending(x) && feature_on(f, "subscription_update")) {
			struct portal_plan plan;
			rc = portal_plan_load(r, db, f, s->id, &plan);
			if (rc != DB_OK)
				return rc;
			if (!plan.why) {
				buf_puts(b, "<form method=\"post\" action=\"");
				html_escape(b, x->base);
				buf_puts(b, "/update\">");
				hidden_nonce(b, x);
				buf_puts(b,
					 "<input type=\"hidden\" name=\"subscription\" value=\"");
				html_escape(b, s->id);
				buf_puts(b, "\"><p><button type=\"submit\">Update "
					    "plan</button></p></form>");
			}
		}
		buf_puts(b, "</section>");
	}
	/* the flow's subscription ended since the link was made */
	if (shown == 0)
		buf_puts(b, "<p id=\"no-subscriptions\">This plan is no longer active.</p>");
	return DB_OK;
}

static bool update_flow(const struct page_ctx *x)
{
	return str_eq(x->flow_type, "subscription_update") ||
	       str_eq(x->flow_type, "subscription_update_confirm");
}

/* A plan change's page: the plan choice, or the confirmation of the change chosen (the flow's
 * own when a deep link opened it). A confirmation that cannot be previewed shows why, and the
 * plan choice when the customer may choose again. DB_OK or < 0 (r->err not set). */
static int section_update(struct req *r, struct db *db, struct page_ctx *x, json_t *f)
{
	struct buf *b = &x->body;
	/* a confirm link shows its own change whatever was posted */
	bool flow = x->view == VIEW_HOME ||
		    (flow_pending(x) && str_eq(x->flow_type, "subscription_update_confirm"));
	const char *sub = flow ? x->flow_sub : x->view_sub;
	bool confirm =
	    flow ? str_eq(x->flow_type, "subscription_update_confirm") : x->view == VIEW_CONFIRM;
	const char *price = flow ? x->flow_price : x->view_price;
	int64_t qty = flow ? x->flow_qty : x->view_qty;
	/* the configuration changed since the link was made */
	if (!feature_on(f, "subscription_update")) {
		buf_puts(b, "<p id=\"not-updatable\">Changing plans is not offered here.</p>");
		return DB_OK;
	}
	struct portal_plan plan;
	int rc = portal_plan_load(r, db, f, sub, &plan);
	if (rc == DB_NOTFOUND || (rc == DB_OK && !str_eq(plan.customer, x->customer))) {
		buf_puts(b, "<p id=\"no-subscriptions\">This plan is no longer active.</p>");
		return DB_OK;
	}
	if (rc != DB_OK)
		return rc;
	const char *action =
	    arena_printf(&r->arena, "%s/update/%s", x->base, confirm ? "apply" : "confirm");
	if (!action)
		return DB_ERR;
	if (confirm) {
		struct buf cb;
		buf_init(&cb, 256 * 1024);
		rc = portal_update_confirm_html(r, db, f, &plan, price, qty, &cb, action, x->nonce);
		if (rc == 0 && !cb.failed)
			buf_append(b, cb.data, cb.len);
		buf_release(&cb);
		if (rc == 0)
			return DB_OK;
		/* why, then the choice again (a deep link's confirmation: why alone) */
		buf_puts(b, "<p class=\"error\" id=\"error\" role=\"alert\">");
		html_escape(b, req_error_message(r));
		buf_puts(b, "</p>");
		r->err.set = false;
		if (flow)
			return DB_OK;
		action = arena_printf(&r->arena, "%s/update/confirm", x->base);
		if (!action)
			return DB_ERR;
	}
	return portal_update_choose_html(r, db, f, &plan, b, action, x->nonce);
}

static int section_payment_method(struct db *db, struct page_ctx *x, const char *default_pm,
				  bool can_update)
{
	struct buf *b = &x->body;
	buf_puts(b, "<h2>Payment method</h2>");
	struct pm_card pc;
	int rc = default_pm ? pm_load(db, x->acct, default_pm, &pc) : DB_NOTFOUND;
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return rc;
	if (rc == DB_OK) {
		buf_puts(b, "<p id=\"default-card\"><span id=\"card-brand\">");
		html_escape(b, pc.brand);
		buf_puts(b, "</span> ending in <span id=\"card-last4\">");
		html_escape(b, pc.last4);
		buf_printf(b, "</span>, expires %02d/%04d</p>", pc.exp_month, pc.exp_year);
	} else {
		buf_puts(b, "<p id=\"no-card\">No default payment method.</p>");
	}
	if (!can_update)
		return DB_OK;
	buf_puts(b, "<form class=\"pay\" method=\"post\" autocomplete=\"on\" action=\"");
	html_escape(b, x->base);
	buf_puts(b, "/payment_method\">");
	hidden_nonce(b, x);
	buf_puts(b, "<input type=\"hidden\" name=\"payment_method_data[type]\" value=\"card\">"
		    "<label for=\"name\">Name on card</label><input id=\"name\" "
		    "name=\"payment_method_data[billing_details][name]\" autocomplete=\"cc-name\">"
		    "<label for=\"number\">Card number</label><input id=\"number\" required "
		    "inputmode=\"numeric\" autocomplete=\"cc-number\" "
		    "name=\"payment_method_data[card][number]\">"
		    "<div class=\"row\"><div><label for=\"exp_month\">Month (MM)</label><input "
		    "id=\"exp_month\" required inputmode=\"numeric\" autocomplete=\"cc-exp-month\" "
		    "name=\"payment_method_data[card][exp_month]\"></div><div><label "
		    "for=\"exp_year\">Year (YYYY)</label><input id=\"exp_year\" required "
		    "inputmode=\"numeric\" autocomplete=\"cc-exp-year\" "
		    "name=\"payment_method_data[card][exp_year]\"></div><div><label "
		    "for=\"cvc\">CVC</label><input id=\"cvc\" required inputmode=\"numeric\" "
		    "autocomplete=\"cc-csc\" name=\"payment_method_data[card][cvc]\"></div></div>"
		    "<p><button type=\"submit\" class=\"complete\">Add card</button></p></form>");
	return DB_OK;
}

static bool allowed(json_t *f, const char *what)
{
	json_t *cu = json_object_get(f, "customer_update");
	if (!json_is_true(json_object_get(cu, "enabled")))
		return false;
	size_t i;
	json_t *u;
	json_array_foreach(json_object_get(cu, "allowed_updates"), i, u)
	{
		if (str_eq(json_string_value(u), what))
			return true;
	}
	return false;
}

static void detail_field(struct buf *b, const char *label, const char *name, const char *id,
			 const char *value, const char *autocomplete)
{
	buf_puts(b, "<label for=\"");
	html_escape(b, id);
	buf_puts(b, "\">");
	html_escape(b, label);
	buf_puts(b, "</label><input id=\"");
	html_escape(b, id);
	buf_puts(b, "\" name=\"");
	html_escape(b, name);
	buf_puts(b, "\" autocomplete=\"");
	html_escape(b, autocomplete);
	buf_puts(b, "\" value=\"");
	html_escape(b, value ? value : "");
	buf_puts(b, "\">");
}

/* The customer's details that the configuration lets them edit (customer_update). */
static int section_details(struct req *r, struct db *db, struct page_ctx *x, json_t *f)
{
	bool email = allowed(f, "email"), name = allowed(f, "name"), phone = allowed(f, "phone");
	bool address = allowed(f, "address"), tax = allowed(f, "tax_id");
	if (!email && !name && !phone && !address && !tax)
		return DB_OK;
	struct buf *b = &x->body, cb;
	struct json j;
	buf_init(&cb, 256 * 1024);
	json_init(&j, &cb);
	int rc = customer_render_by_id(r, db, x->customer, &j);
	json_error_t e;
	json_t *cus = rc == DB_OK && !cb.failed ? json_loadb(cb.data, cb.len, 0, &e) : NULL;
	buf_reset(&cb);
	json_init(&j, &cb);
	if (rc == DB_OK && tax)
		rc = tax_ids_render_embedded(r, db, x->customer, &j);
	json_t *tids = rc == DB_OK && tax && !cb.failed ? json_loadb(cb.data, cb.len, 0, &e) : NULL;
	buf_release(&cb);
	if (rc != DB_OK || !cus) {
		json_decref(cus);
		json_decref(tids);
		return rc != DB_OK ? rc : DB_ERR;
	}
	buf_puts(b, "<h2>Your details</h2>");
	if (email || name || phone || address) {
		buf_puts(b, "<form id=\"details\" method=\"post\" action=\"");
		html_escape(b, x->base);
		buf_puts(b, "/details\">");
		hidden_nonce(b, x);
		if (name)
			detail_field(b, "Name", "name", "detail-name",
				     json_string_value(json_object_get(cus, "name")), "name");
		if (email)
			detail_field(b, "Email", "email", "detail-email",
				     json_string_value(json_object_get(cus, "email")), "email");
		if (phone)
			detail_field(b, "Phone", "phone", "detail-phone",
				     json_string_value(json_object_get(cus, "phone")), "tel");
		if (address) {
			static const char *const parts[][3] = {
			    {"line1", "Address line 1", "address-line1"},
			    {"line2", "Address line 2", "address-line2"},
			    {"city", "City", "address-level2"},
			    {"state", "State or region", "address-level1"},
			    {"postal_code", "Postal code", "postal-code"},
			    {"country", "Country (2 letters)", "country"},
			};
			json_t *a = json_object_get(cus, "address");
			for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
				char nm[48], id[48];
				snprintf(nm, sizeof(nm), "address[%s]", parts[i][0]);
				snprintf(id, sizeof(id), "detail-%s", parts[i][0]);
				detail_field(b, parts[i][1], nm, id,
					     json_string_value(json_object_get(a, parts[i][0])),
					     parts[i][2]);
			}
		}
		buf_puts(b, "<p><button type=\"submit\">Save details</button></p></form>");
	}
	if (tax) {
		buf_puts(b, "<ul id=\"tax-ids\">");
		size_t i;
		json_t *t;
		json_array_foreach(json_object_get(tids, "data"), i, t)
		{
			buf_puts(b, "<li>");
			html_escape(b, json_string_value(json_object_get(t, "type")));
			buf_puts(b, " ");
			html_escape(b, json_string_value(json_object_get(t, "value")));
			buf_puts(b, "</li>");
		}
		buf_puts(b, "</ul><form id=\"tax-id\" method=\"post\" action=\"");
		html_escape(b, x->base);
		buf_puts(b, "/details\">");
		hidden_nonce(b, x);
		buf_puts(b, "<label for=\"tax-type\">Tax ID type</label><select id=\"tax-type\" "
			    "name=\"tax_id_data[0][type]\">");
		static const char *const types[] = {"eu_vat", "gb_vat", "us_ein", "au_abn",
						    "ca_bn",  "ch_vat", "no_vat", "nz_gst"};
		for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
			buf_puts(b, "<option>");
			buf_puts(b, types[k]);
			buf_puts(b, "</option>");
		}
		buf_puts(b,
			 "</select><label for=\"tax-value\">Tax ID</label><input id=\"tax-value\" "
			 "required name=\"tax_id_data[0][value]\"><p><button type=\"submit\">Add "
			 "tax ID</button></p></form>");
	}
	json_decref(cus);
	json_decref(tids);
	return DB_OK;
}

static const char SQL_INVOICES[] =
    "SELECT id, number, created, total, currency, status FROM invoices"
    " WHERE merchant_id = $1 AND customer = $2 AND status <> 'draft'"
    " ORDER BY created DESC, id DESC LIMIT $3";

static int section_invoices(struct req *r, struct db *db, struct page_ctx *x)
{
	struct buf *b = &x->body;
	struct db_stmt *st = db_prepare(db, SQL_INVOICES);
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, x->customer, -1);
	db_bind_int64(st, 3, PORTAL_INVOICES_MAX);
	buf_puts(b, "<h2>Invoice history</h2>");
	int n = 0, rc;
	while (n < PORTAL_INVOICES_MAX && (rc = db_step(st)) == DB_ROW) {
		if (n++ == 0)
			buf_puts(b, "<table id=\"invoices\"><tr><th>Number</th><th>Date</th>"
				    "<th class=\"amt\">Amount</th><th>Status</th></tr>");
		const char *id = db_col_text(st, 0, NULL);
		const char *number = db_col_text(st, 1, NULL);
		int64_t created = db_col_int64(st, 2), total = db_col_int64(st, 3);
		const char *cur = col_text_dup(&r->arena, st, 4);
		buf_puts(b, "<tr id=\"");
		html_escape(b, id);
		buf_puts(b, "\"><td>");
		html_escape(b, number ? number : "");
		buf_puts(b, "</td><td>");
		portal_html_date(b, created);
		buf_puts(b, "</td><td class=\"amt\">");
		html_amount(b, total, cur ? cur : "usd");
		buf_puts(b, "</td><td>");
		html_escape(b, db_col_text(st, 5, NULL));
		buf_puts(b, "</td></tr>");
	}
	if (n == PORTAL_INVOICES_MAX)
		rc = DB_DONE;
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	buf_puts(b, n ? "</table>" : "<p id=\"no-invoices\">No invoices yet.</p>");
	return DB_OK;
}

static int portal_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	buf_reset(&x->body);
	struct buf *b = &x->body;
	char name[256];
	struct conf c;
	struct billing_customer bc;
	if (challenge_merchant_name(db, x->acct, name, sizeof(name)) != 0 ||
	    conf_load(r, db, x->conf, &c) != DB_OK ||
	    billing_customer_get(r, db, x->customer, &bc) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	json_error_t e;
	json_t *f = json_loads(c.features, 0, &e), *bp = json_loads(c.business_profile, 0, &e);
	buf_puts(b, "<h1>");
	html_escape(b, name[0] ? name : "Billing");
	buf_puts(b, "</h1>");
	const char *headline = json_string_value(json_object_get(bp, "headline"));
	if (headline) {
		buf_puts(b, "<p id=\"headline\">");
		html_escape(b, headline);
		buf_puts(b, "</p>");
	}
	if (bc.found && (bc.email || bc.name)) {
		buf_puts(b, "<p id=\"customer\">");
		html_escape(b, bc.name ? bc.name : bc.email);
		buf_puts(b, "</p>");
	}
	if (x->notice) {
		buf_puts(b, "<p class=\"notice\" id=\"notice\" role=\"status\">");
		html_escape(b, x->notice);
		buf_puts(b, "</p>");
	}
	int rc = DB_OK;
	/* a plan change's page (not inside another flow: a refused post there shows that flow) */
	bool update_view = x->view != VIEW_HOME && (!flow_pending(x) || update_flow(x));
	if (bc.found && (update_view || (flow_pending(x) && update_flow(x)))) {
		/* a plan change: its choice or confirmation alone */
		if (flow_pending(x)) {
			buf_puts(b, "<p id=\"flow\" class=\"");
			html_escape(b, x->flow_type);
			buf_puts(b, "\">Update your plan</p>");
		}
		rc = section_update(r, db, x, f);
		goto links;
	}
	if (flow_pending(x)) {
		/* a deep link: that flow's section only (Stripe hides the rest of the portal) */
		bool cancel = str_eq(x->flow_type, "subscription_cancel");
		buf_puts(
		    b, cancel ? "<p id=\"flow\" class=\"subscription_cancel\">Cancel your plan</p>"
			      : "<p id=\"flow\" class=\"payment_method_update\">Update your "
				"payment method</p>");
		if (bc.found && cancel && x->offer_coupon)
			rc = section_offer(r, db, x);
		if (bc.found && rc == DB_OK)
			rc = cancel
				 ? section_subscriptions(r, db, x, f)
				 : section_payment_method(db, x, bc.default_pm,
							  feature_on(f, "payment_method_update"));
		goto links;
	}
	rc = bc.found ? section_subscriptions(r, db, x, f) : DB_OK;
	if (rc == DB_OK && bc.found)
		rc = section_details(r, db, x, f);
	if (rc == DB_OK && bc.found)
		rc = section_payment_method(
		    db, x, bc.default_pm,
		    json_is_true(
			json_object_get(json_object_get(f, "payment_method_update"), "enabled")));
	if (rc == DB_OK && bc.found &&
	    json_is_true(json_object_get(json_object_get(f, "invoice_history"), "enabled")))
		rc = section_invoices(r, db, x);
links:
	if (x->return_url) {
		buf_puts(b, "<p><a id=\"return\" href=\"");
		html_escape(b, x->return_url);
		buf_puts(b, "\">Return to ");
		html_escape(b, name[0] ? name : "the merchant");
		buf_puts(b, "</a></p>");
	}
	static const char *const links[][2] = {{"terms_of_service_url", "Terms of service"},
					       {"privacy_policy_url", "Privacy policy"}};
	for (int i = 0; i < 2; i++) {
		const char *u = json_string_value(json_object_get(bp, links[i][0]));
		if (!u)
			continue;
		buf_puts(b, "<p><a href=\"");
		html_escape(b, u);
		buf_puts(b, "\">");
		buf_puts(b, links[i][1]);
		buf_puts(b, "</a></p>");
	}
	json_decref(f);
	json_decref(bp);
	if (rc != DB_OK || b->failed)
		return req_fail(r, ERR_API, NULL, NULL);
	return 0;
}

static int expired_page(struct req *r)
{
	return challenge_page(r, 410, "Session expired",
			      "<h1>This link has expired</h1><p>A billing portal link opens once "
			      "and ends after a few minutes without use. Go back to the site that "
			      "sent you here for a new one.</p>");
}

static int not_found_page(struct req *r)
{
	return challenge_page(r, 404, "Link not found",
			      "<h1>This link is not valid</h1><p>Go back to the site that sent you "
			      "here for a new one.</p>");
}

/* The portal for an open session x, with an error (status 4xx) or x->notice. */
static int portal_page(struct req *r, struct page_ctx *x, int status, const char *error)
{
	buf_init(&x->body, 256 * 1024);
	int rc = req_read(r, portal_fn, x);
	if (rc == 0 && error) {
		struct buf page;
		buf_init(&page, 256 * 1024);
		buf_puts(&page, "<p class=\"error\" id=\"error\" role=\"alert\">");
		html_escape(&page, error);
		buf_puts(&page, "</p>");
		buf_append(&page, x->body.data, x->body.len);
		rc = page.failed ? -1 : challenge_page(r, status, "Billing", buf_cstr(&page));
		buf_release(&page);
	} else if (rc == 0) {
		rc = challenge_page(r, status, "Billing", buf_cstr(&x->body));
	}
	buf_release(&x->body);
	return rc == 0 ? 0 : -1;
}

static int page_init(struct req *r, struct page_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->acct = r->args[0];
	x->key = r->args[1];
	/* the page runs in the merchant's scope (its shard, its rate limit) */
	str_copy(r->merchant_id, sizeof(r->merchant_id), x->acct);
	x->base = arena_printf(&r->arena, "/billing_portal/%s/%s", x->acct, x->key);
	if (!x->base || strlen(x->key) != PORTAL_KEY_LEN ||
	    digest_sha256_hex(x->key, PORTAL_KEY_LEN, x->hash) != 0)
		return 1;
	id_random_base62(x->nonce, PORTAL_KEY_LEN);
	x->nonce[PORTAL_KEY_LEN] = '\0';
	return digest_sha256_hex(x->nonce, PORTAL_KEY_LEN, x->nonce_hash) != 0 ? -1 : 0;
}

static int h_page(struct req *r)
{
	struct page_ctx x;
	int rc = page_init(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : not_found_page(r);
	if (req_write(r, open_fn, &x) != 0)
		return -1;
	if (x.outcome == VISIT_NOT_FOUND)
		return not_found_page(r);
	if (x.outcome == VISIT_EXPIRED)
		return expired_page(r);
	return portal_page(r, &x, 200, NULL);
}

/* A form post's write begins here: the session touched and its one-time value checked, then,
 * when the visit is good, its configuration's features (*ret_features, for json_decref).
 * 1: go on; 0: the visit is not good (x->outcome says why), nothing more to write; -1 with
 * r->err. */
static int post_begin(struct req *r, struct db *db, struct page_ctx *x, json_t **ret_features)
{
	if (touch(r, db, x) != 0)
		return -1;
	if (x->outcome != VISIT_OK)
		return 0;
	struct conf cf;
	if (conf_load(r, db, x->conf, &cf) != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	json_error_t e;
	*ret_features = json_loads(cf.features, 0, &e);
	return 1;
}

/* ---- the page's cancel ---- */

static const char SQL_SUB_OWNER[] =
    "SELECT customer FROM subscriptions WHERE merchant_id = $1 AND id = $2";

struct cancel_ctx {
	struct page_ctx *x;
	const char *sub, *reason;
	bool at_period_end;
};

static int cancel_fn(struct db *db, void *p)
{
	struct cancel_ctx *c = p;
	struct page_ctx *x = c->x;
	struct req *r = x->r;
	json_t *f = NULL;
	int go = post_begin(r, db, x, &f);
	if (go <= 0)
		return go;
	json_t *sc = json_object_get(f, "subscription_cancel");
	bool enabled = json_is_true(json_object_get(sc, "enabled"));
	c->at_period_end = !str_eq(json_string_value(json_object_get(sc, "mode")), "immediately");
	json_t *cr = json_object_get(sc, "cancellation_reason");
	bool reason_ok = !c->reason || !*c->reason;
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(cr, "options"), i, o) reason_ok =
	    reason_ok || str_eq(json_string_value(o), c->reason);
	json_decref(f);
	if (!enabled)
		return req_fail(r, ERR_PARAM_BAD, NULL, "Canceling is not offered here.");
	if (!reason_ok)
		return req_fail(r, ERR_PARAM_BAD, "reason", "Choose one of the reasons offered.");
	/* only the session's customer's subscription: another's is not found */
	struct db_stmt *st = db_prepare(db, SQL_SUB_OWNER);
	if (!st)
		return req_fail(r, ERR_API, NULL, NULL);
	db_bind_text(st, 1, x->acct, -1);
	db_bind_text(st, 2, c->sub, -1);
	int rc = db_step(st);
	bool mine = rc == DB_ROW && str_eq(db_col_text(st, 0, NULL), x->customer);
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return req_fail(r, ERR_API, NULL, NULL);
	if (!mine)
		return req_fail(r, ERR_RESOURCE_MISSING, "subscription",
				"No such subscription: '%s'", c->sub);
	bool flow = flow_pending(x);
	if (flow && (!str_eq(x->flow_type, "subscription_cancel") || !str_eq(c->sub, x->flow_sub)))
		return req_fail(r, ERR_PARAM_BAD, NULL, "This link is for another change.");
	if (subscription_portal_cancel(r, db, c->sub, c->at_period_end,
				       c->reason && *c->reason ? c->reason : NULL) != 0)
		return -1;
	return flow ? flow_complete(r, db, x) : 0;
}

/* After the post that completed the session's flow: flow_data[after_completion]. notice: what
 * the post did (the confirmation page's message when the flow brings none). */
static int flow_finish(struct req *r, struct page_ctx *x)
{
	if (str_eq(x->after_type, "redirect") && x->after_url) {
		r->location = x->after_url;
		return challenge_redirect(r);
	}
	if (str_eq(x->after_type, "hosted_confirmation")) {
		struct buf b;
		buf_init(&b, 64 * 1024);
		buf_puts(&b, "<h1>Done</h1><p id=\"confirmation\" role=\"status\">");
		html_escape(&b, x->after_message ? x->after_message : x->notice);
		buf_puts(&b, "</p>");
		if (x->return_url) {
			buf_puts(&b, "<p><a id=\"return\" href=\"");
			html_escape(&b, x->return_url);
			buf_puts(&b, "\">Return</a></p>");
		}
		int rc = b.failed ? -1 : challenge_page(r, 200, "Billing", buf_cstr(&b));
		buf_release(&b);
		return rc;
	}
	/* portal_homepage: the portal, whole, from now on */
	x->flow_done = true;
	return portal_page(r, x, 200, NULL);
}

/* After a refused post: the page again with msg, its old one-time value still the valid one
 * (the refused write changed nothing). */
static int refused(struct req *r, struct page_ctx *x, const char *given_nonce, const char *msg)
{
	str_copy(x->nonce, sizeof(x->nonce), given_nonce);
	x->notice = NULL;
	return portal_page(r, x, 400, msg);
}

/* The session as the refused write left it (it changed nothing): open and the same. */
static int reread_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct portal_session s;
	x->outcome = VISIT_NOT_FOUND;
	int rc = session_load(x->r, db, x, &s);
	if (rc != DB_OK)
		return rc == DB_NOTFOUND ? 0 : req_fail(x->r, ERR_API, NULL, NULL);
	page_take(x, &s);
	x->outcome = VISIT_OK;
	return 0;
}

/* A form post's first write (fn checks the session and its one-time value before it acts). true:
 * it went through, and the handler goes on; false: the answer is rendered (the refusal shown on
 * the page, or the expired or missing page) and *ret is what the handler returns. */
static bool post_write(struct req *r, struct page_ctx *x, store_fn fn, void *ctx, int *ret)
{
	const char *given = param_str(r, "nonce");
	if (req_write(r, fn, ctx) != 0) {
		const char *msg = arena_strdup(&r->arena, req_error_message(r));
		r->err.set = false;
		if (req_read(r, reread_fn, x) != 0 || x->outcome != VISIT_OK || !given ||
		    strlen(given) != PORTAL_KEY_LEN)
			*ret = expired_page(r);
		else
			*ret = refused(r, x, given, msg);
		return false;
	}
	if (x->outcome == VISIT_NOT_FOUND || x->outcome == VISIT_EXPIRED) {
		*ret = x->outcome == VISIT_NOT_FOUND ? not_found_page(r) : expired_page(r);
		return false;
	}
	return true;
}

static int h_cancel(struct req *r)
{
	struct page_ctx x;
	int rc = page_init(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : not_found_page(r);
	struct cancel_ctx c = {&x, param_str(r, "subscription"), param_str(r, "reason"), true};
	if (!post_write(r, &x, cancel_fn, &c, &rc))
		return rc;
	x.notice = c.at_period_end ? "Your plan will be canceled at the end of the billing period."
				   : "Your plan has been canceled.";
	return x.flow_completed ? flow_finish(r, &x) : portal_page(r, &x, 200, NULL);
}

/* ---- a cancel flow's retention offer, accepted ---- */

static int retention_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	json_t *f = NULL;
	int go = post_begin(r, db, x, &f);
	if (go <= 0)
		return go;
	json_decref(f);
	if (!flow_pending(x) || !str_eq(x->flow_type, "subscription_cancel") || !x->offer_coupon)
		return req_fail(r, ERR_PARAM_BAD, NULL, "There is no offer to accept here.");
	/* the subscription and coupon are the session's, never the form's */
	if (subscription_portal_coupon(r, db, x->flow_sub, x->offer_coupon, "coupon") != 0)
		return -1;
	return flow_complete(r, db, x);
}

static int h_retention(struct req *r)
{
	struct page_ctx x;
	int rc = page_init(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : not_found_page(r);
	if (!post_write(r, &x, retention_fn, &x, &rc))
		return rc;
	x.notice = "The offer was applied to your plan.";
	return flow_finish(r, &x);
}

/* ---- the page's plan change (billing_portal_update.c) ----
 *
 * Three posts, each with the form's one-time value: /update (a subscription: its plan choice),
 * /update/confirm (the price and quantity chosen: the confirmation with what it costs) and
 * /update/apply (the change, through the subscription update's own code). Each checks again
 * what the configuration allows, on the session's customer's subscription alone; a deep link's
 * flow takes its own subscription (subscription_update) or its exact change
 * (subscription_update_confirm) only. */

enum { STEP_CHOOSE, STEP_CONFIRM, STEP_APPLY };

struct update_ctx {
	struct page_ctx *x;
	int step;
	const char *sub, *price;
	int64_t qty;
	json_t *f; /* STEP_APPLY: the configuration's features, for the change after the write */
	struct portal_plan plan;
};

static int update_check(struct req *r, struct db *db, struct update_ctx *u, json_t *f)
{
	struct page_ctx *x = u->x;
	if (!feature_on(f, "subscription_update"))
		return req_fail(r, ERR_PARAM_BAD, NULL, "Changing plans is not offered here.");
	if (flow_pending(x) && (!update_flow(x) || !str_eq(u->sub, x->flow_sub)))
		return req_fail(r, ERR_PARAM_BAD, NULL, "This link is for another change.");
	/* a confirm link takes its own change, as it was made, and nothing else */
	if (flow_pending(x) && str_eq(x->flow_type, "subscription_update_confirm") &&
	    (u->step != STEP_APPLY || !str_eq(u->price, x->flow_price) || u->qty != x->flow_qty))
		return req_fail(r, ERR_PARAM_BAD, NULL, "This link is for another change.");
	int rc = portal_plan_load(r, db, f, u->sub, &u->plan);
	if (rc == DB_NOTFOUND || (rc == DB_OK && !str_eq(u->plan.customer, x->customer)))
		return req_fail(r, ERR_RESOURCE_MISSING, "subscription",
				"No such subscription: '%s'", u->sub);
	if (rc != DB_OK)
		return req_fail(r, ERR_API, NULL, NULL);
	if (u->plan.why)
		return req_fail(r, ERR_PARAM_BAD, "subscription",
				"This plan cannot be changed here: %s.", u->plan.why);
	if (u->step == STEP_CHOOSE)
		return 0;
	return portal_update_choice_check(r, db, f, &u->plan, u->price, u->qty, "price",
					  "quantity");
}

static int update_touch_fn(struct db *db, void *p)
{
	struct update_ctx *u = p;
	struct page_ctx *x = u->x;
	struct req *r = x->r;
	json_decref(u->f); /* a write run again */
	u->f = NULL;
	json_t *f = NULL;
	int go = post_begin(r, db, x, &f);
	if (go <= 0)
		return go;
	int rc = update_check(r, db, u, f);
	if (rc == 0 && u->step == STEP_APPLY)
		u->f = f;
	else
		json_decref(f);
	return rc;
}

/* in the change's write: a flow's plan change completes it */
static int update_done(struct req *r, struct db *db, void *p)
{
	struct page_ctx *x = p;
	return flow_pending(x) ? flow_complete(r, db, x) : 0;
}

static int update_post(struct req *r, int step)
{
	struct page_ctx x;
	int rc = page_init(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : not_found_page(r);
	struct update_ctx u = {.x = &x, .step = step, .sub = param_str(r, "subscription")};
	u.price = param_str(r, "price");
	param_int(r, "quantity", &u.qty);
	/* a refusal shows the portal (a choice's) or the plan choice again (a confirmation's) */
	if (step != STEP_CHOOSE) {
		x.view = VIEW_CHOOSE;
		str_copy(x.view_sub, sizeof(x.view_sub), u.sub);
	}
	if (!post_write(r, &x, update_touch_fn, &u, &rc)) {
		json_decref(u.f);
		return rc;
	}
	str_copy(x.view_sub, sizeof(x.view_sub), u.sub);
	if (step == STEP_CHOOSE) {
		x.view = VIEW_CHOOSE;
		return portal_page(r, &x, 200, NULL);
	}
	if (step == STEP_CONFIRM) {
		x.view = VIEW_CONFIRM;
		x.view_price = u.price;
		x.view_qty = u.qty;
		return portal_page(r, &x, 200, NULL);
	}
	rc = portal_update_apply(r, u.f, &u.plan, u.price, u.qty, update_done, &x);
	json_decref(u.f);
	if (rc != 0) {
		/* the change undone (a declined payment, the subscription changed meanwhile) */
		const char *msg = arena_strdup(&r->arena, req_error_message(r));
		int status = r->err.decline_code[0] ? 402 : 400;
		r->err.set = false;
		return portal_page(r, &x, status, msg);
	}
	x.view = VIEW_HOME;
	x.notice = "Your plan was updated.";
	return x.flow_completed ? flow_finish(r, &x) : portal_page(r, &x, 200, NULL);
}

static int h_update(struct req *r)
{
	return update_post(r, STEP_CHOOSE);
}

static int h_update_confirm(struct req *r)
{
	return update_post(r, STEP_CONFIRM);
}

static int h_update_apply(struct req *r)
{
	return update_post(r, STEP_APPLY);
}

/* ---- the page's new card ---- */

struct card_ctx {
	struct page_ctx *x;
	const char *pm, *si;
};

static int default_pm_fn(struct db *db, void *p)
{
	struct card_ctx *c = p;
	if (customer_set_default_pm(c->x->r, db, c->x->customer, c->pm) != 0)
		return -1;
	/* card_touch_fn let this post through a pending flow only when it is this one */
	return flow_pending(c->x) ? flow_complete(c->x->r, db, c->x) : 0;
}

static int abandon_fn(struct db *db, void *p)
{
	struct card_ctx *c = p;
	return setup_intent_abandon(c->x->r, db, c->si);
}

/* A card post: the session, its one-time value, and the card update offered. */
static int card_touch_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	json_t *f = NULL;
	int go = post_begin(r, db, x, &f);
	if (go <= 0)
		return go;
	bool on = feature_on(f, "payment_method_update");
	json_decref(f);
	if (flow_pending(x) && !str_eq(x->flow_type, "payment_method_update"))
		return req_fail(r, ERR_PARAM_BAD, NULL, "This link is for another change.");
	return on ? 0
		  : req_fail(r, ERR_PARAM_BAD, NULL,
			     "Updating the payment method is not offered here.");
}

static int card_page_error(struct req *r, struct page_ctx *x, int status)
{
	const char *msg = req_error_message(r);
	r->err.set = false;
	return portal_page(r, x, status, msg);
}

static int h_card(struct req *r)
{
	struct page_ctx x;
	int rc = page_init(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : not_found_page(r);
	/* the session and its one-time value first (the form's next value is x.nonce from now) */
	if (!post_write(r, &x, card_touch_fn, &x, &rc))
		return rc;
	struct card_ctx c = {&x, NULL, NULL};
	char pm[ID_MAX];
	if (pm_create_from_data(r, "payment_method_data", pm) != 0)
		return card_page_error(r, &x, 400);
	/* return_url: the merchant's, not the page's (its path holds the session's secret, and a
	 * challenge is not taken here anyway) */
	struct si_checkout co = {.customer = x.customer, .return_url = x.return_url, .pm_id = pm};
	if (setup_intents_checkout(r, &co) != 0)
		return card_page_error(r, &x, 402);
	if (co.challenge_url || !str_eq(co.status, "succeeded")) {
		c.si = co.id;
		if (req_write(r, abandon_fn, &c) != 0)
			r->err.set = false;
		req_fail(r, ERR_PARAM_BAD, NULL,
			 "This card asks for authentication, which the portal cannot do yet: use "
			 "another card.");
		return card_page_error(r, &x, 402);
	}
	c.pm = pm;
	if (req_write(r, default_pm_fn, &c) != 0)
		return card_page_error(r, &x, 400);
	x.notice = "Your new card is now your default payment method.";
	return x.flow_completed ? flow_finish(r, &x) : portal_page(r, &x, 200, NULL);
}

/* ---- the page's details (customer_update) ---- */

static int details_fn(struct db *db, void *p)
{
	struct page_ctx *x = p;
	struct req *r = x->r;
	json_t *f = NULL;
	int go = post_begin(r, db, x, &f);
	if (go <= 0)
		return go;
	static const char *const fields[][2] = {{"email", "email"},
						{"name", "name"},
						{"phone", "phone"},
						{"address", "address"},
						{"tax_id_data", "tax_id"}};
	if (flow_pending(x)) {
		json_decref(f);
		return req_fail(r, ERR_PARAM_BAD, NULL, "This link is for another change.");
	}
	const char *refused_field = NULL;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (param_present(r, fields[i][0]) && !allowed(f, fields[i][1]))
			refused_field = fields[i][0];
	json_decref(f);
	if (refused_field)
		return req_fail(r, ERR_PARAM_BAD, refused_field, "Changing %s is not offered here.",
				refused_field);
	if (customer_portal_update(r, db, x->customer) != 0)
		return -1;
	if (param_present(r, "tax_id_data") && tax_ids_create_from_data(r, db, x->customer) != 0)
		return -1;
	return 0;
}

static int h_details(struct req *r)
{
	struct page_ctx x;
	int rc = page_init(r, &x);
	if (rc != 0)
		return rc < 0 ? -1 : not_found_page(r);
	const char *given = param_str(r, "nonce");
	if ((param_present(r, "tax_id_data") && tax_ids_check_data(r) != 0) ||
	    req_write(r, details_fn, &x) != 0) {
		const char *msg = arena_strdup(&r->arena, req_error_message(r));
		r->err.set = false;
		if (req_read(r, reread_fn, &x) != 0 || x.outcome != VISIT_OK || !given ||
		    strlen(given) != PORTAL_KEY_LEN)
			return expired_page(r);
		return refused(r, &x, given, msg);
	}
	if (x.outcome == VISIT_NOT_FOUND)
		return not_found_page(r);
	if (x.outcome == VISIT_EXPIRED)
		return expired_page(r);
	x.notice = "Your details were updated.";
	return portal_page(r, &x, 200, NULL);
}

/* ---- routes ---- */

static const struct param_spec enabled_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec customer_update_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"allowed_updates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec reason_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {"options", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec cancel_children[] = {
    {"enabled", PT_BOOL, 0, 0, NULL, NULL},
    {"mode", PT_ENUM, 0, 0, (const char *const[]){"at_period_end", "immediately", NULL}, NULL},
    {"proration_behavior", PT_ENUM, 0, 0, prorations, NULL},
    {"cancellation_reason", PT_OBJECT, 0, 0, NULL, reason_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec product_children[] = {
    {"product", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"prices", PT_STRING_ARRAY, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_children[] = {
    {"enabled", PT_BOOL, 0, 0, NULL, NULL},
    {"default_allowed_updates", PT_STRING_ARRAY, PF_EMPTYABLE, 0, NULL, NULL},
    {"products", PT_OBJECT_ARRAY, PF_EMPTYABLE, 10, NULL, product_children},
    {"proration_behavior", PT_ENUM, 0, 0, prorations, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec features_children[] = {
    {"customer_update", PT_OBJECT, 0, 0, NULL, customer_update_children},
    {"invoice_history", PT_OBJECT, 0, 0, NULL, enabled_children},
    {"payment_method_update", PT_OBJECT, 0, 0, NULL, enabled_children},
    {"subscription_cancel", PT_OBJECT, 0, 0, NULL, cancel_children},
    {"subscription_pause", PT_OBJECT, 0, 0, NULL, enabled_children},
    {"subscription_update", PT_OBJECT, 0, 0, NULL, update_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec profile_children[] = {
    {"headline", PT_STRING, PF_EMPTYABLE, 60, NULL, NULL},
    {"privacy_policy_url", PT_STRING, PF_EMPTYABLE, 2048, NULL, NULL},
    {"terms_of_service_url", PT_STRING, PF_EMPTYABLE, 2048, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec login_children[] = {
    {"enabled", PT_BOOL, PF_REQUIRED, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec conf_create_params[] = {
    {"business_profile", PT_OBJECT, 0, 0, NULL, profile_children},
    {"default_return_url", PT_STRING, PF_EMPTYABLE, 2048, NULL, NULL},
    {"features", PT_OBJECT, PF_REQUIRED, 0, NULL, features_children},
    {"login_page", PT_OBJECT, 0, 0, NULL, login_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec conf_update_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"business_profile", PT_OBJECT, 0, 0, NULL, profile_children},
    {"default_return_url", PT_STRING, PF_EMPTYABLE, 2048, NULL, NULL},
    {"features", PT_OBJECT, 0, 0, NULL, features_children},
    {"login_page", PT_OBJECT, 0, 0, NULL, login_children},
    {"metadata", PT_METADATA, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec conf_list_params[] = {
    {"active", PT_BOOL, 0, 0, NULL, NULL},
    {"is_default", PT_BOOL, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const char *const locales[] = {
    "auto",  "bg",    "cs",    "da",	"de", "el",	"en",	 "en-AU", "en-CA", "en-GB",
    "en-IE", "en-IN", "en-NZ", "en-SG", "es", "es-419", "et",	 "fi",	  "fil",   "fr",
    "fr-CA", "hr",    "hu",    "id",	"it", "ja",	"ko",	 "lt",	  "lv",	   "ms",
    "mt",    "nb",    "nl",    "pl",	"pt", "pt-BR",	"ro",	 "ru",	  "sk",	   "sl",
    "sv",    "th",    "tr",    "vi",	"zh", "zh-HK",	"zh-TW", NULL};
static const struct param_spec flow_redirect_children[] = {
    {"return_url", PT_STRING, PF_REQUIRED, 2048, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec flow_confirmation_children[] = {
    {"custom_message", PT_STRING, PF_EMPTYABLE, 500, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec flow_after_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0,
     (const char *const[]){"hosted_confirmation", "portal_homepage", "redirect", NULL}, NULL},
    {"redirect", PT_OBJECT, 0, 0, NULL, flow_redirect_children},
    {"hosted_confirmation", PT_OBJECT, 0, 0, NULL, flow_confirmation_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec flow_subscription_children[] = {
    {"subscription", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec flow_confirm_item_children[] = {
    {"id", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"price", PT_STRING, 0, 5000, NULL, NULL},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec flow_confirm_discount_children[] = {
    {"coupon", PT_STRING, 0, 5000, NULL, NULL},
    {"promotion_code", PT_STRING, 0, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec flow_confirm_children[] = {
    {"subscription", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"items", PT_OBJECT_ARRAY, PF_REQUIRED, 1, NULL, flow_confirm_item_children},
    {"discounts", PT_OBJECT_ARRAY, 0, 1, NULL, flow_confirm_discount_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec flow_coupon_offer_children[] = {
    {"coupon", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec flow_retention_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0, (const char *const[]){"coupon_offer", NULL}, NULL},
    {"coupon_offer", PT_OBJECT, PF_REQUIRED, 0, NULL, flow_coupon_offer_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec flow_cancel_children[] = {
    {"subscription", PT_STRING, PF_REQUIRED, 5000, NULL, NULL},
    {"retention", PT_OBJECT, 0, 0, NULL, flow_retention_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec flow_children[] = {
    {"type", PT_ENUM, PF_REQUIRED, 0,
     (const char *const[]){"payment_method_update", "subscription_cancel", "subscription_update",
			   "subscription_update_confirm", NULL},
     NULL},
    {"after_completion", PT_OBJECT, 0, 0, NULL, flow_after_children},
    {"subscription_cancel", PT_OBJECT, 0, 0, NULL, flow_cancel_children},
    {"subscription_update", PT_OBJECT, 0, 0, NULL, flow_subscription_children},
    {"subscription_update_confirm", PT_OBJECT, 0, 0, NULL, flow_confirm_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec session_params[] = {
    {"flow_data", PT_OBJECT, 0, 0, NULL, flow_children},
    {"customer", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"configuration", PT_STRING, 0, 255, NULL, NULL},
    {"return_url", PT_STRING, 0, 2048, NULL, NULL},
    {"locale", PT_ENUM, 0, 0, locales, NULL},
    {"on_behalf_of", PT_STRING, 0, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec cancel_params[] = {
    {"nonce", PT_STRING, 0, 64, NULL, NULL},
    {"subscription", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"reason", PT_STRING, PF_EMPTYABLE, 64, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec card_params[] = {
    {"nonce", PT_STRING, 0, 64, NULL, NULL},
    {"payment_method_data", PT_OBJECT, PF_REQUIRED, 0, NULL, pm_data_params},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec retention_params[] = {
    {"nonce", PT_STRING, 0, 64, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec details_params[] = {
    {"nonce", PT_STRING, 0, 64, NULL, NULL},
    {"email", PT_STRING, PF_EMPTYABLE, 512, NULL, NULL},
    {"name", PT_STRING, PF_EMPTYABLE, 256, NULL, NULL},
    {"phone", PT_STRING, PF_EMPTYABLE, 20, NULL, NULL},
    {"address", PT_OBJECT, PF_EMPTYABLE, 0, NULL, address_params},
    {"tax_id_data", PT_OBJECT_ARRAY, 0, 1, NULL, tax_id_data_children},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_params[] = {
    {"nonce", PT_STRING, 0, 64, NULL, NULL},
    {"subscription", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec update_confirm_params[] = {
    {"nonce", PT_STRING, 0, 64, NULL, NULL},
    {"subscription", PT_STRING, PF_REQUIRED, 255, NULL, NULL},
    {"price", PT_STRING, 0, 255, NULL, NULL},
    {"quantity", PT_INT, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
static const struct param_spec no_params[] = {{NULL, 0, 0, 0, NULL, NULL}};

const struct route billing_portal_routes[] = {
    {"POST", "/v1/billing_portal/configurations", h_conf_create, conf_create_params, 0},
    {"GET", "/v1/billing_portal/configurations", h_conf_list, conf_list_params, ROUTE_LIST},
    {"GET", "/v1/billing_portal/configurations/{id}", h_conf_retrieve, no_params, 0},
    {"POST", "/v1/billing_portal/configurations/{id}", h_conf_update, conf_update_params, 0},
    {"POST", "/v1/billing_portal/sessions", h_session_create, session_params, 0},
    {"GET", "/billing_portal/{acct}/{key}", h_page, no_params, ROUTE_NO_AUTH | ROUTE_RAW},
    {"POST", "/billing_portal/{acct}/{key}/cancel", h_cancel, cancel_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {"POST", "/billing_portal/{acct}/{key}/payment_method", h_card, card_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {"POST", "/billing_portal/{acct}/{key}/details", h_details, details_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {"POST", "/billing_portal/{acct}/{key}/retention", h_retention, retention_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {"POST", "/billing_portal/{acct}/{key}/update", h_update, update_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {"POST", "/billing_portal/{acct}/{key}/update/confirm", h_update_confirm, update_confirm_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {"POST", "/billing_portal/{acct}/{key}/update/apply", h_update_apply, update_confirm_params,
     ROUTE_NO_AUTH | ROUTE_RAW | ROUTE_PAGE_LIMIT},
    {NULL, NULL, NULL, NULL, 0},
};
