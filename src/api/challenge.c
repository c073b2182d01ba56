#include "api/challenge.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "core/digest.h"
#include "core/str.h"
#include "money/currency.h"
#include "store/db.h"

static const char CHALLENGE_STYLE[] =
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;"
    "color:#1a1a1a}h1{font-size:1.4rem}dl{display:grid;grid-template-columns:auto 1fr;"
    "gap:.4rem 1rem}dt{font-weight:600}form{display:inline-block;margin:1rem 1rem 0 0}"
    "button{font-size:1rem;padding:.6rem 1.4rem;border-radius:6px;border:2px solid #1a1a1a;"
    "cursor:pointer}button.complete{background:#0a6e31;color:#fff;border-color:#0a6e31}"
    "button:focus{outline:3px solid #f5a623;outline-offset:2px}form.pay{display:block}"
    "label{display:block;margin:.7rem 0 .2rem;font-weight:600}input{font-size:1rem;"
    "padding:.45rem;width:100%;box-sizing:border-box;border:1px solid #888;border-radius:4px}"
    ".row{display:grid;grid-template-columns:1fr 1fr 1fr;gap:.6rem}"
    "p.error{color:#a00;font-weight:600}th{text-align:left}.amt{text-align:right}"
    "table{width:100%;border-collapse:collapse}";

/* The page may use nothing but its own inline style (pinned by its hash) and post back to
 * Tender: no scripts, no external assets, no framing. */
static const char *challenge_csp(struct req *r)
{
	unsigned char d[32];
	unsigned int dl = 0;
	EVP_Digest(CHALLENGE_STYLE, strlen(CHALLENGE_STYLE), d, &dl, digest_sha256(), NULL);
	unsigned char b64[64];
	EVP_EncodeBlock(b64, d, (int)dl);
	return arena_printf(&r->arena,
			    "default-src 'none'; style-src 'sha256-%s'; form-action 'self' http: "
			    "https:; frame-ancestors 'none'; base-uri 'none'",
			    (const char *)b64);
}

void html_escape(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		case '\'':
			buf_puts(b, "&#39;");
			break;
		default:
			buf_putc(b, *s);
		}
	}
}

/* "20.00 USD": the amount in major units, exactly (integer arithmetic only). A negative amount
 * (a balance can be one) is "-20.00 USD": its magnitude is taken as unsigned, which INT64_MIN
 * also has. */
void html_amount(struct buf *b, int64_t amount, const char *currency)
{
	const struct currency *cy = currency_find(currency);
	int exp = cy ? cy->exponent : 2;
	uint64_t div = 1;
	for (int i = 0; i < exp; i++)
		div *= 10;
	uint64_t mag = amount < 0 ? (uint64_t)0 - (uint64_t)amount : (uint64_t)amount;
	char cur[8];
	size_t n = strlen(currency);
	for (size_t i = 0; i < n && i < 7; i++)
		cur[i] = (char)(currency[i] >= 'a' && currency[i] <= 'z' ? currency[i] - 32
									 : currency[i]);
	cur[n < 7 ? n : 7] = '\0';
	if (exp == 0)
		buf_printf(b, "%s%llu %s", amount < 0 ? "-" : "", (unsigned long long)mag, cur);
	else
		buf_printf(b, "%s%llu.%0*llu %s", amount < 0 ? "-" : "",
			   (unsigned long long)(mag / div), exp, (unsigned long long)(mag % div),
			   cur);
}

bool challenge_token_eq(const char *stored, const char *given)
{
	return stored && given && strlen(stored) == strlen(given) &&
	       CRYPTO_memcmp(stored, given, strlen(stored)) == 0;
}

static const char SQL_MERCHANT_NAME[] = "SELECT name FROM merchants WHERE id = $1";

int challenge_merchant_name(struct db *db, const char *merchant_id, char *out, size_t n)
{
	out[0] = '\0';
	struct db_stmt *st = db_prepare(db, SQL_MERCHANT_NAME);
	if (!st)
		return -1;
	db_bind_text(st, 1, merchant_id, -1);
	if (db_step(st) == DB_ROW) {
		const char *name = db_col_text(st, 0, NULL);
		str_copy(out, n, name ? name : "");
	}
	db_reset(st);
	return 0;
}

void challenge_forms(struct buf *b, const char *base)
{
	buf_puts(b, "<form method=\"post\" action=\"");
	html_escape(b, base);
	buf_puts(b, "/complete\"><button type=\"submit\" class=\"complete\">Complete "
		    "authentication</button></form><form method=\"post\" action=\"");
	html_escape(b, base);
	buf_puts(b, "/fail\"><button type=\"submit\" class=\"fail\">Fail authentication</button>"
		    "</form>");
}

int challenge_page(struct req *r, int status, const char *title, const char *body_html)
{
	buf_reset(&r->out);
	r->status = status;
	r->content_type = "text/html; charset=utf-8";
	r->csp = challenge_csp(r);
	buf_puts(&r->out, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
			  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
			  "<title>");
	html_escape(&r->out, title);
	buf_puts(&r->out, "</title><style>");
	buf_puts(&r->out, CHALLENGE_STYLE);
	buf_puts(&r->out, "</style></head><body><main>");
	buf_puts(&r->out, body_html);
	buf_puts(&r->out, "</main></body></html>");
	return 0;
}

int challenge_not_found(struct req *r)
{
	return challenge_page(r, 404, "Authentication not found",
			      "<h1>This authentication is not available</h1><p>It may have been "
			      "completed already, or the link is wrong.</p>");
}

int challenge_done(struct req *r, bool ok)
{
	return challenge_page(r, 200, ok ? "Authentication complete" : "Authentication failed",
			      ok ? "<h1>Authentication complete</h1><p>You can close this page.</p>"
				 : "<h1>Authentication failed</h1><p>You can close this page.</p>");
}

int challenge_return(struct req *r, const char *return_url, const char *kind, const char *id,
		     const char *client_secret, bool ok)
{
	if (!return_url)
		return challenge_done(r, ok);
	const char *sep = strchr(return_url, '?') ? "&" : "?";
	r->location =
	    arena_printf(&r->arena, "%s%s%s=%s&%s_client_secret=%s&redirect_status=%s", return_url,
			 sep, kind, id, kind, client_secret, ok ? "succeeded" : "failed");
	return challenge_redirect(r);
}

int challenge_redirect(struct req *r)
{
	buf_reset(&r->out);
	r->status = 303;
	r->content_type = "text/html; charset=utf-8";
	r->csp = challenge_csp(r);
	buf_puts(&r->out, "<!doctype html><title>Redirecting</title>");
	return 0;
}

const char *challenge_next_action(struct req *r, const char *return_url, const char *url)
{
	struct buf b;
	struct json j;
	buf_init(&b, 8192);
	json_init(&j, &b);
	json_obj_open(&j);
	json_key(&j, "redirect_to_url");
	json_obj_open(&j);
	json_kv_str_or_null(&j, "return_url", return_url);
	json_kv_str(&j, "url", url);
	json_obj_close(&j);
	json_kv_str(&j, "type", "redirect_to_url");
	json_obj_close(&j);
	const char *s = b.failed ? NULL : arena_strdup(&r->arena, buf_cstr(&b));
	buf_release(&b);
	return s;
}

void html_row(struct buf *b, const char *label, const char *id, const char *value)
{
	buf_puts(b, "<tr><th>");
	html_escape(b, label);
	buf_puts(b, "</th><td id=\"");
	buf_puts(b, id);
	buf_puts(b, "\">");
	html_escape(b, value);
	buf_puts(b, "</td></tr>");
}
