/*
 * Parser and evaluator for merchant fraud rules (format in rules.h).
 *
 * The parser is a hand-written line tokenizer plus a tiny recursive-descent over one statement;
 * the grammar has no nesting beyond "and", so every statement is parsed and checked in one pass
 * over its line, and every error names that line. All storage is fixed-size inside one
 * allocation, except list words, so a rules file can never make evaluation allocate or loop
 * beyond RISK_RULES_MAX x RISK_RULE_MAX_CONDS x RISK_RULE_MAX_LIST_ITEMS comparisons.
 */
#include "risk/rules.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/parse.h"

enum field_type {
	FT_INT,
	FT_BOOL,
	FT_RATE,
	FT_COUNTRY,
	FT_BRAND,
	FT_FUNDING,
	FT_FINGERPRINT,
	FT_IP,
	FT_CUSTOMER,
	FT_BIN,
	FT_EMAIL,
	FT_EMAIL_DOMAIN,
};

enum field_id {
	FLD_AMOUNT,
	FLD_MCC,
	FLD_HOUR,
	FLD_WEEKDAY,
	FLD_IS_USD,
	FLD_BRAND,
	FLD_FUNDING,
	FLD_CARD_COUNTRY,
	FLD_BILLING_COUNTRY,
	FLD_CARD_COUNT_1H,
	FLD_CARD_COUNT_24H,
	FLD_CARD_SUM_1H,
	FLD_CARD_SUM_24H,
	FLD_CUST_COUNT_1H,
	FLD_CUST_COUNT_24H,
	FLD_CUST_SUM_1H,
	FLD_CUST_SUM_24H,
	FLD_DECLINE_RATE,
	FLD_ATTEMPTS_30D,
	FLD_DECLINES_30D,
	FLD_FIRST_TIME_CARD,
	FLD_IP_COUNT_1H,
	FLD_FINGERPRINT,
	FLD_RISK_SCORE,
	FLD_IP_ADDRESS,
	FLD_CUSTOMER,
	FLD_CARD_BIN,
	FLD_EMAIL,
	FLD_EMAIL_DOMAIN,
};

static const struct field_def {
	const char *name;
	enum field_id id;
	enum field_type type;
} fields[] = {
    {"amount", FLD_AMOUNT, FT_INT},
    {"amount_usd_minor", FLD_AMOUNT, FT_INT},
    {"mcc", FLD_MCC, FT_INT},
    {"hour", FLD_HOUR, FT_INT},
    {"hour_utc", FLD_HOUR, FT_INT},
    {"weekday", FLD_WEEKDAY, FT_INT},
    {"weekday_utc", FLD_WEEKDAY, FT_INT},
    {"currency_is_usd", FLD_IS_USD, FT_BOOL},
    {"card_brand", FLD_BRAND, FT_BRAND},
    {"funding", FLD_FUNDING, FT_FUNDING},
    {"card_country", FLD_CARD_COUNTRY, FT_COUNTRY},
    {"billing_country", FLD_BILLING_COUNTRY, FT_COUNTRY},
    {"card_velocity_hour", FLD_CARD_COUNT_1H, FT_INT},
    {"card_count_1h", FLD_CARD_COUNT_1H, FT_INT},
    {"card_velocity_day", FLD_CARD_COUNT_24H, FT_INT},
    {"card_count_24h", FLD_CARD_COUNT_24H, FT_INT},
    {"card_amount_hour", FLD_CARD_SUM_1H, FT_INT},
    {"card_sum_1h", FLD_CARD_SUM_1H, FT_INT},
    {"card_amount_day", FLD_CARD_SUM_24H, FT_INT},
    {"card_sum_24h", FLD_CARD_SUM_24H, FT_INT},
    {"customer_velocity_hour", FLD_CUST_COUNT_1H, FT_INT},
    {"customer_count_1h", FLD_CUST_COUNT_1H, FT_INT},
    {"customer_velocity_day", FLD_CUST_COUNT_24H, FT_INT},
    {"customer_count_24h", FLD_CUST_COUNT_24H, FT_INT},
    {"customer_amount_hour", FLD_CUST_SUM_1H, FT_INT},
    {"customer_sum_1h", FLD_CUST_SUM_1H, FT_INT},
    {"customer_amount_day", FLD_CUST_SUM_24H, FT_INT},
    {"customer_sum_24h", FLD_CUST_SUM_24H, FT_INT},
    {"decline_rate", FLD_DECLINE_RATE, FT_RATE},
    {"card_decline_rate_30d", FLD_DECLINE_RATE, FT_RATE},
    {"card_attempts_30d", FLD_ATTEMPTS_30D, FT_INT},
    {"card_declines_30d", FLD_DECLINES_30D, FT_INT},
    {"first_time_card", FLD_FIRST_TIME_CARD, FT_BOOL},
    {"ip_velocity_hour", FLD_IP_COUNT_1H, FT_INT},
    {"ip_count_1h", FLD_IP_COUNT_1H, FT_INT},
    {"fingerprint", FLD_FINGERPRINT, FT_FINGERPRINT},
    {"card_fingerprint", FLD_FINGERPRINT, FT_FINGERPRINT},
    {"risk_score", FLD_RISK_SCORE, FT_INT},
    {"ip_address", FLD_IP_ADDRESS, FT_IP},
    {"customer", FLD_CUSTOMER, FT_CUSTOMER},
    {"customer_id", FLD_CUSTOMER, FT_CUSTOMER},
    {"card_bin", FLD_CARD_BIN, FT_BIN},
    {"email", FLD_EMAIL, FT_EMAIL},
    {"email_domain", FLD_EMAIL_DOMAIN, FT_EMAIL_DOMAIN},
};

enum op { OP_GT, OP_GE, OP_LT, OP_LE, OP_EQ, OP_NE, OP_IN };

struct cond {
	const struct field_def *field;
	enum op op;
	int64_t i;		       /* FT_INT / FT_BOOL */
	double d;		       /* FT_RATE */
	char word[RISK_RULE_WORD_MAX]; /* text fields with == / != */
	int list;		       /* OP_IN: index into lists */
};

struct rule {
	enum risk_rule_action action;
	int line;
	int ncond;
	struct cond cond[RISK_RULE_MAX_CONDS];
};

struct word_list {
	char name[RISK_RULE_WORD_MAX]; /* "" for inline lists */
	size_t n;
	char (*words)[RISK_RULE_WORD_MAX];
	/* a merchant's value list (@alias not defined in the file): its ordinal among them
	 * (risk_rule_input.list_hits) and the fields compared with it; no words */
	bool value_list;
	int ordinal;
	uint32_t slots;
};

struct risk_rules {
	size_t nrules;
	struct rule rules[RISK_RULES_MAX];
	size_t nlists;
	struct word_list lists[RISK_RULE_MAX_LISTS];
	size_t nvalue_lists;
	int value_list_index[RISK_RULE_MAX_LISTS]; /* ordinal → index into lists */
	uint32_t slots_read; /* the text slots any condition reads (risk_rules_slots_read) */
};

/* ---- tokenizer ---- */

enum tok_kind { T_END, T_WORD, T_OP, T_LPAREN, T_RPAREN, T_COMMA, T_AT, T_ASSIGN };

struct tok {
	enum tok_kind kind;
	enum op op;
	char text[RISK_RULE_WORD_MAX];
};

struct lexer {
	const char *p;
	int line;
	char *err;
	size_t errlen;
};

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == ':' || c == '-';
}

/* Inside a word (not first: a leading '@' names a list) an email's '@' and '+' are part of it. */
static bool word_cont_char(char c)
{
	return word_char(c) || c == '@' || c == '+';
}

__attribute__((format(printf, 2, 3))) static int fail(struct lexer *lx, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(lx->err, lx->errlen, "line %d: %s", lx->line, msg);
	return -EINVAL;
}

static int next_tok(struct lexer *lx, struct tok *t)
{
	while (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r')
		lx->p++;
	memset(t, 0, sizeof(*t));
	char c = *lx->p;
	if (c == '\0' || c == '#') {
		t->kind = T_END;
		return 0;
	}
	if (word_char(c)) {
		size_t n = 0;
		while (word_cont_char(lx->p[n]))
			n++;
		if (n >= sizeof(t->text))
			return fail(lx, "word longer than %d bytes", RISK_RULE_WORD_MAX - 1);
		memcpy(t->text, lx->p, n);
		t->text[n] = '\0';
		t->kind = T_WORD;
		lx->p += n;
		return 0;
	}
	lx->p++;
	switch (c) {
	case '(':
		t->kind = T_LPAREN;
		return 0;
	case ')':
		t->kind = T_RPAREN;
		return 0;
	case ',':
		t->kind = T_COMMA;
		return 0;
	case '@':
		t->kind = T_AT;
		return 0;
	case '>':
	case '<':
		t->kind = T_OP;
		if (*lx->p == '=') {
			lx->p++;
			t->op = c == '>' ? OP_GE : OP_LE;
		} else {
			t->op = c == '>' ? OP_GT : OP_LT;
		}
		return 0;
	case '=':
		if (*lx->p == '=') {
			lx->p++;
			t->kind = T_OP;
			t->op = OP_EQ;
		} else {
			t->kind = T_ASSIGN;
		}
		return 0;
	case '!':
		if (*lx->p == '=') {
			lx->p++;
			t->kind = T_OP;
			t->op = OP_NE;
			return 0;
		}
		break;
	default:
		break;
	}
	if (c > ' ' && c < 0x7f)
		return fail(lx, "unexpected character '%c'", c);
	return fail(lx, "unexpected byte 0x%02x", (unsigned)(unsigned char)c);
}

/* ---- parser ---- */

static const struct field_def *find_field(const char *name)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

static bool is_text(const struct field_def *f)
{
	return f->type == FT_COUNTRY || f->type == FT_BRAND || f->type == FT_FUNDING ||
	       f->type == FT_FINGERPRINT || f->type == FT_IP || f->type == FT_CUSTOMER ||
	       f->type == FT_BIN || f->type == FT_EMAIL || f->type == FT_EMAIL_DOMAIN;
}

/* The text field's slot (risk_rule_slot_value): which of the payment's values it compares. */
static enum risk_rule_slot slot_of(enum field_id id)
{
	switch (id) {
	case FLD_CARD_COUNTRY:
		return RISK_SLOT_CARD_COUNTRY;
	case FLD_BILLING_COUNTRY:
		return RISK_SLOT_BILLING_COUNTRY;
	case FLD_BRAND:
		return RISK_SLOT_BRAND;
	case FLD_FUNDING:
		return RISK_SLOT_FUNDING;
	case FLD_IP_ADDRESS:
		return RISK_SLOT_IP_ADDRESS;
	case FLD_CUSTOMER:
		return RISK_SLOT_CUSTOMER;
	case FLD_CARD_BIN:
		return RISK_SLOT_CARD_BIN;
	case FLD_EMAIL:
		return RISK_SLOT_EMAIL;
	case FLD_EMAIL_DOMAIN:
		return RISK_SLOT_EMAIL_DOMAIN;
	default:
		return RISK_SLOT_FINGERPRINT;
	}
}

/* Checks and canonicalises a text value for field f in place. */
static int text_value(struct lexer *lx, const struct field_def *f, char *word)
{
	switch (f->type) {
	case FT_COUNTRY:
		if (risk_country_code(word) == 0)
			return fail(lx, "'%s' is not a two-letter country code", word);
		word[0] = (char)(word[0] & ~0x20);
		word[1] = (char)(word[1] & ~0x20);
		return 0;
	case FT_BRAND: {
		enum risk_card_brand b = risk_card_brand_from_name(word);
		if (b == RISK_BRAND_UNKNOWN)
			return fail(lx, "unknown card brand '%s'", word);
		snprintf(word, RISK_RULE_WORD_MAX, "%s", risk_card_brand_name(b));
		return 0;
	}
	case FT_FUNDING: {
		enum risk_funding fu = risk_funding_from_name(word);
		if (fu == RISK_FUNDING_UNKNOWN)
			return fail(lx, "unknown funding '%s' (credit, debit, prepaid)", word);
		snprintf(word, RISK_RULE_WORD_MAX, "%s", risk_funding_name(fu));
		return 0;
	}
	case FT_BIN: /* Stripe's card_bin: the card number's first six digits */
		if (strlen(word) != 6 || strspn(word, "0123456789") != 6)
			return fail(lx, "'%s' is not a card BIN (six digits)", word);
		return 0;
	case FT_EMAIL: {
		const char *at = strchr(word, '@');
		if (at == NULL || at == word || at[1] == '\0' || strchr(at + 1, '@'))
			return fail(lx, "'%s' is not an email address", word);
		return 0;
	}
	case FT_EMAIL_DOMAIN:
		if (strchr(word, '@'))
			return fail(lx, "'%s' is not an email domain (no '@')", word);
		return 0;
	default:
		return 0;
	}
}

/* Parses "A, B, C" up to `close` (T_RPAREN or T_END) into a new list; f, when given, checks and
 * canonicalises each word for that field. */
static int parse_words(struct lexer *lx, struct risk_rules *r, const char *name,
		       const struct field_def *f, enum tok_kind close, int *ret_list)
{
	if (r->nlists >= RISK_RULE_MAX_LISTS)
		return fail(lx, "more than %d lists", RISK_RULE_MAX_LISTS);
	struct word_list l;
	memset(&l, 0, sizeof(l));
	snprintf(l.name, sizeof(l.name), "%s", name);
	size_t cap = 0;
	struct tok t;
	int rc;
	for (;;) {
		if ((rc = next_tok(lx, &t)) != 0)
			break;
		if (t.kind != T_WORD) {
			rc = fail(lx, "expected a word in the list");
			break;
		}
		if (f != NULL && (rc = text_value(lx, f, t.text)) != 0)
			break;
		if (l.n >= RISK_RULE_MAX_LIST_ITEMS) {
			rc = fail(lx, "more than %d words in a list", RISK_RULE_MAX_LIST_ITEMS);
			break;
		}
		if (l.n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			void *p = realloc(l.words, ncap * sizeof(*l.words));
			if (p == NULL) {
				rc = fail(lx, "out of memory");
				break;
			}
			l.words = p;
			cap = ncap;
		}
		memcpy(l.words[l.n++], t.text, sizeof(t.text));
		if ((rc = next_tok(lx, &t)) != 0)
			break;
		if (t.kind == close)
			break;
		if (t.kind != T_COMMA) {
			rc = fail(lx, close == T_RPAREN ? "expected ',' or ')' in the list"
							: "expected ',' between words");
			break;
		}
	}
	if (rc != 0) {
		free(l.words);
		return rc;
	}
	r->lists[r->nlists] = l;
	*ret_list = (int)r->nlists;
	r->nlists++;
	return 0;
}

static int parse_cond(struct lexer *lx, struct risk_rules *r, struct cond *c)
{
	struct tok t;
	int rc = next_tok(lx, &t);
	if (rc != 0)
		return rc;
	if (t.kind != T_WORD)
		return fail(lx, "expected a field name");
	c->field = find_field(t.text);
	if (c->field == NULL)
		return fail(lx, "unknown field '%s'", t.text);
	if (is_text(c->field))
		r->slots_read |= 1u << slot_of(c->field->id);
	char fname[RISK_RULE_WORD_MAX];
	snprintf(fname, sizeof(fname), "%s", t.text);

	if ((rc = next_tok(lx, &t)) != 0)
		return rc;
	if (t.kind == T_WORD && strcmp(t.text, "in") == 0) {
		if (!is_text(c->field))
			return fail(lx, "'in' needs a text field, '%s' is numeric", fname);
		c->op = OP_IN;
		if ((rc = next_tok(lx, &t)) != 0)
			return rc;
		if (t.kind == T_LPAREN)
			return parse_words(lx, r, "", c->field, T_RPAREN, &c->list);
		if (t.kind != T_AT)
			return fail(lx, "expected '(' or '@list' after 'in'");
		if ((rc = next_tok(lx, &t)) != 0)
			return rc;
		if (t.kind != T_WORD)
			return fail(lx, "expected a list name after '@'");
		for (size_t i = 0; i < r->nlists; i++) {
			if (r->lists[i].value_list && strcmp(r->lists[i].name, t.text) == 0) {
				r->lists[i].slots |= 1u << slot_of(c->field->id);
				c->list = (int)i;
				return 0;
			}
			if (strcmp(r->lists[i].name, t.text) == 0) {
				/* Named lists are stored raw; re-check words against this field. */
				for (size_t k = 0; k < r->lists[i].n; k++) {
					char w[RISK_RULE_WORD_MAX];
					memcpy(w, r->lists[i].words[k], sizeof(w));
					if ((rc = text_value(lx, c->field, w)) != 0)
						return rc;
				}
				c->list = (int)i;
				return 0;
			}
		}
		/* Not defined in the file: the merchant's Radar value list of that alias
		 * (POST /v1/radar/value_lists), looked up when a payment is scored. */
		if (r->nlists >= RISK_RULE_MAX_LISTS)
			return fail(lx, "more than %d lists", RISK_RULE_MAX_LISTS);
		struct word_list *l = &r->lists[r->nlists];
		memset(l, 0, sizeof(*l));
		snprintf(l->name, sizeof(l->name), "%s", t.text);
		l->value_list = true;
		l->ordinal = (int)r->nvalue_lists;
		l->slots = 1u << slot_of(c->field->id);
		r->value_list_index[r->nvalue_lists++] = (int)r->nlists;
		c->list = (int)r->nlists;
		r->nlists++;
		return 0;
	}
	if (t.kind != T_OP)
		return fail(lx, "expected an operator (> >= < <= == != in) after '%s'", fname);
	c->op = t.op;

	if ((rc = next_tok(lx, &t)) != 0)
		return rc;
	if (t.kind != T_WORD)
		return fail(lx, "expected a value after the operator for '%s'", fname);
	switch (c->field->type) {
	case FT_INT:
		if (parse_i64(t.text, &c->i) != 0)
			return fail(lx, "'%s' is not an integer", t.text);
		return 0;
	case FT_BOOL:
		if (strcmp(t.text, "1") == 0 || strcmp(t.text, "true") == 0)
			c->i = 1;
		else if (strcmp(t.text, "0") == 0 || strcmp(t.text, "false") == 0)
			c->i = 0;
		else
			return fail(lx, "'%s' is not a boolean (0, 1, true, false)", t.text);
		if (c->op != OP_EQ && c->op != OP_NE)
			return fail(lx, "'%s' only supports == and !=", fname);
		return 0;
	case FT_RATE: {
		char *end;
		errno = 0;
		c->d = strtod(t.text, &end);
		if (end == t.text || *end != '\0' || errno != 0 || !(c->d >= 0.0 && c->d <= 1.0))
			return fail(lx, "'%s' is not a rate between 0 and 1", t.text);
		return 0;
	}
	default:
		if (c->op != OP_EQ && c->op != OP_NE)
			return fail(lx, "text field '%s' only supports ==, != and in", fname);
		snprintf(c->word, sizeof(c->word), "%s", t.text);
		return text_value(lx, c->field, c->word);
	}
}

static int parse_line(struct lexer *lx, struct risk_rules *r)
{
	struct tok t;
	int rc = next_tok(lx, &t);
	if (rc != 0)
		return rc;
	if (t.kind == T_END)
		return 0;
	if (t.kind != T_WORD)
		return fail(lx, "expected allow, block, review or list");
	if (strcmp(t.text, "list") == 0) {
		if ((rc = next_tok(lx, &t)) != 0)
			return rc;
		if (t.kind != T_WORD)
			return fail(lx, "expected a list name after 'list'");
		for (size_t i = 0; i < r->nlists; i++)
			if (strcmp(r->lists[i].name, t.text) == 0)
				return fail(lx,
					    r->lists[i].value_list
						? "list '%s' is used above as a value list"
						: "list '%s' is already defined",
					    t.text);
		char name[RISK_RULE_WORD_MAX];
		memcpy(name, t.text, sizeof(name));
		if ((rc = next_tok(lx, &t)) != 0)
			return rc;
		if (t.kind != T_ASSIGN)
			return fail(lx, "expected '=' after the list name");
		int idx;
		return parse_words(lx, r, name, NULL, T_END, &idx);
	}
	enum risk_rule_action action;
	if (strcmp(t.text, "allow") == 0)
		action = RISK_RULE_ALLOW;
	else if (strcmp(t.text, "block") == 0)
		action = RISK_RULE_BLOCK;
	else if (strcmp(t.text, "review") == 0)
		action = RISK_RULE_REVIEW;
	else if (strcmp(t.text, "manual_review") == 0)
		action = RISK_RULE_MANUAL_REVIEW;
	else
		return fail(lx, "unknown action '%s' (allow, block, review, manual_review, list)",
			    t.text);
	if (r->nrules >= RISK_RULES_MAX)
		return fail(lx, "more than %d rules", RISK_RULES_MAX);
	if ((rc = next_tok(lx, &t)) != 0)
		return rc;
	if (t.kind != T_WORD || strcmp(t.text, "if") != 0)
		return fail(lx, "expected 'if' after the action");
	struct rule *ru = &r->rules[r->nrules];
	memset(ru, 0, sizeof(*ru));
	ru->action = action;
	ru->line = lx->line;
	for (;;) {
		if (ru->ncond >= RISK_RULE_MAX_CONDS)
			return fail(lx, "more than %d conditions in a rule", RISK_RULE_MAX_CONDS);
		if ((rc = parse_cond(lx, r, &ru->cond[ru->ncond])) != 0)
			return rc;
		ru->ncond++;
		if ((rc = next_tok(lx, &t)) != 0)
			return rc;
		if (t.kind == T_END)
			break;
		if (t.kind != T_WORD || strcmp(t.text, "and") != 0)
			return fail(lx, "expected 'and' or the end of the line");
	}
	r->nrules++;
	return 0;
}

void risk_rules_free(struct risk_rules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nlists; i++)
		free(r->lists[i].words);
	free(r);
}

int risk_rules_parse(const char *text, size_t len, struct risk_rules **ret, char *err,
		     size_t errlen)
{
	if (len > RISK_RULES_FILE_MAX) {
		snprintf(err, errlen, "rules are larger than %u bytes", RISK_RULES_FILE_MAX);
		return -EINVAL;
	}
	struct risk_rules *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	struct lexer lx = {.err = err, .errlen = errlen};
	size_t off = 0;
	int rc = 0;
	while (off < len && rc == 0) {
		lx.line++;
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		char line[RISK_RULE_LINE_MAX + 1];
		if (n > RISK_RULE_LINE_MAX) {
			rc = fail(&lx, "longer than %d bytes", RISK_RULE_LINE_MAX);
			break;
		}
		memcpy(line, text + off, n);
		line[n] = '\0';
		if (strlen(line) != n) {
			rc = fail(&lx, "contains a NUL byte");
			break;
		}
		lx.p = line;
		rc = parse_line(&lx, r);
		off += n + (nl ? 1 : 0);
	}
	if (rc != 0) {
		risk_rules_free(r);
		return rc;
	}
	*ret = r;
	return 0;
}

int risk_rules_load_file(const char *path, struct risk_rules **ret, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		int e = errno;
		snprintf(err, errlen, "cannot open rules file %s: %s", path, strerror(e));
		return -e;
	}
	char *buf = malloc(RISK_RULES_FILE_MAX + 1);
	if (buf == NULL) {
		fclose(fp);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	size_t n = fread(buf, 1, RISK_RULES_FILE_MAX + 1, fp);
	int rerr = ferror(fp);
	fclose(fp);
	int rc;
	if (rerr) {
		snprintf(err, errlen, "cannot read rules file %s", path);
		rc = -EIO;
	} else if (n > RISK_RULES_FILE_MAX) {
		snprintf(err, errlen, "rules file %s is larger than %u bytes", path,
			 RISK_RULES_FILE_MAX);
		rc = -EINVAL;
	} else {
		char why[256];
		rc = risk_rules_parse(buf, n, ret, why, sizeof(why));
		if (rc != 0)
			snprintf(err, errlen, "%s: %s", path, why);
	}
	free(buf);
	return rc;
}

size_t risk_rules_count(const struct risk_rules *r)
{
	return r ? r->nrules : 0;
}

size_t risk_rules_value_list_count(const struct risk_rules *r)
{
	return r ? r->nvalue_lists : 0;
}

const char *risk_rules_value_list(const struct risk_rules *r, size_t k, uint32_t *ret_slots)
{
	if (r == NULL || k >= r->nvalue_lists)
		return NULL;
	const struct word_list *l = &r->lists[r->value_list_index[k]];
	if (ret_slots)
		*ret_slots = l->slots;
	return l->name;
}

uint32_t risk_rules_slots_read(const struct risk_rules *r)
{
	return r ? r->slots_read : 0;
}

bool risk_rules_uses_value_list(const struct risk_rules *r, const char *alias)
{
	for (size_t k = 0; r != NULL && k < r->nvalue_lists; k++)
		if (strcmp(r->lists[r->value_list_index[k]].name, alias) == 0)
			return true;
	return false;
}

/* ---- evaluation ---- */

static bool cmp_i64(int64_t a, enum op op, int64_t b)
{
	switch (op) {
	case OP_GT:
		return a > b;
	case OP_GE:
		return a >= b;
	case OP_LT:
		return a < b;
	case OP_LE:
		return a <= b;
	case OP_EQ:
		return a == b;
	case OP_NE:
		return a != b;
	case OP_IN:
		break;
	}
	return false;
}

static bool cmp_f64(double a, enum op op, double b)
{
	switch (op) {
	case OP_GT:
		return a > b;
	case OP_GE:
		return a >= b;
	case OP_LT:
		return a < b;
	case OP_LE:
		return a <= b;
	case OP_EQ:
		return a == b;
	case OP_NE:
		return a != b;
	case OP_IN:
		break;
	}
	return false;
}

/* Integer value of a numeric field; false when unknown. */
static bool int_value(const struct risk_rule_input *in, enum field_id id, int64_t *v)
{
	const struct risk_features *f = in->f;
	switch (id) {
	case FLD_AMOUNT:
		*v = f->amount_usd_minor;
		return true;
	case FLD_MCC:
		*v = f->mcc;
		return true;
	case FLD_HOUR:
		*v = f->hour_utc;
		return true;
	case FLD_WEEKDAY:
		*v = f->weekday_utc;
		return true;
	case FLD_IS_USD:
		*v = f->currency_is_usd ? 1 : 0;
		return true;
	case FLD_CARD_COUNT_1H:
		*v = f->card_count_1h;
		return true;
	case FLD_CARD_COUNT_24H:
		*v = f->card_count_24h;
		return true;
	case FLD_CARD_SUM_1H:
		*v = f->card_sum_1h_usd_minor;
		return true;
	case FLD_CARD_SUM_24H:
		*v = f->card_sum_24h_usd_minor;
		return true;
	case FLD_CUST_COUNT_1H:
		*v = f->customer_count_1h;
		return true;
	case FLD_CUST_COUNT_24H:
		*v = f->customer_count_24h;
		return true;
	case FLD_CUST_SUM_1H:
		*v = f->customer_sum_1h_usd_minor;
		return true;
	case FLD_CUST_SUM_24H:
		*v = f->customer_sum_24h_usd_minor;
		return true;
	case FLD_ATTEMPTS_30D:
		*v = f->card_attempts_30d;
		return true;
	case FLD_DECLINES_30D:
		*v = f->card_declines_30d;
		return true;
	case FLD_FIRST_TIME_CARD:
		*v = f->first_time_card ? 1 : 0;
		return true;
	case FLD_IP_COUNT_1H:
		*v = f->ip_count_1h;
		return true;
	case FLD_RISK_SCORE:
		*v = in->risk_score;
		return in->risk_score >= 0 && in->risk_score <= 100;
	default:
		return false;
	}
}

/* Text value of a text field; NULL when unknown. */
static const char *text_of(const struct risk_rule_input *in, enum field_id id)
{
	const struct risk_features *f = in->f;
	switch (id) {
	case FLD_BRAND:
		return f->card_brand == RISK_BRAND_UNKNOWN ? NULL
							   : risk_card_brand_name(f->card_brand);
	case FLD_FUNDING:
		return f->funding == RISK_FUNDING_UNKNOWN ? NULL : risk_funding_name(f->funding);
	case FLD_CARD_COUNTRY:
		return risk_country_code(f->card_country) ? f->card_country : NULL;
	case FLD_BILLING_COUNTRY:
		return risk_country_code(f->billing_country) ? f->billing_country : NULL;
	case FLD_FINGERPRINT:
		return (in->fingerprint && in->fingerprint[0]) ? in->fingerprint : NULL;
	case FLD_IP_ADDRESS:
		return (in->ip_address && in->ip_address[0]) ? in->ip_address : NULL;
	case FLD_CUSTOMER:
		return (in->customer && in->customer[0]) ? in->customer : NULL;
	case FLD_CARD_BIN:
		return (in->card_bin && in->card_bin[0]) ? in->card_bin : NULL;
	case FLD_EMAIL:
		return (in->email && in->email[0]) ? in->email : NULL;
	case FLD_EMAIL_DOMAIN: {
		/* the part after the email's '@' (Stripe's email_domain) */
		const char *at = in->email ? strrchr(in->email, '@') : NULL;
		return at && at != in->email && at[1] ? at + 1 : NULL;
	}
	default:
		return NULL;
	}
}

const char *risk_rule_slot_value(const struct risk_rule_input *in, enum risk_rule_slot s)
{
	static const enum field_id ids[RISK_SLOT_COUNT] = {
	    [RISK_SLOT_FINGERPRINT] = FLD_FINGERPRINT,
	    [RISK_SLOT_CARD_COUNTRY] = FLD_CARD_COUNTRY,
	    [RISK_SLOT_BILLING_COUNTRY] = FLD_BILLING_COUNTRY,
	    [RISK_SLOT_BRAND] = FLD_BRAND,
	    [RISK_SLOT_FUNDING] = FLD_FUNDING,
	    [RISK_SLOT_IP_ADDRESS] = FLD_IP_ADDRESS,
	    [RISK_SLOT_CUSTOMER] = FLD_CUSTOMER,
	    [RISK_SLOT_CARD_BIN] = FLD_CARD_BIN,
	    [RISK_SLOT_EMAIL] = FLD_EMAIL,
	    [RISK_SLOT_EMAIL_DOMAIN] = FLD_EMAIL_DOMAIN,
	};
	if ((unsigned)s >= RISK_SLOT_COUNT)
		return NULL;
	return text_of(in, ids[s]);
}

static bool text_eq(const struct field_def *fd, const char *a, const char *b)
{
	return fd->type == FT_FINGERPRINT || fd->type == FT_CUSTOMER ? strcmp(a, b) == 0
								     : strcasecmp(a, b) == 0;
}

static bool cond_true(const struct risk_rules *r, const struct cond *c,
		      const struct risk_rule_input *in)
{
	if (c->field->type == FT_RATE) {
		uint32_t att = in->f->card_attempts_30d, dec = in->f->card_declines_30d;
		double rate = att == 0 ? 0.0 : (double)(dec > att ? att : dec) / (double)att;
		return cmp_f64(rate, c->op, c->d);
	}
	if (!is_text(c->field)) {
		int64_t v;
		return int_value(in, c->field->id, &v) && cmp_i64(v, c->op, c->i);
	}
	const char *v = text_of(in, c->field->id);
	if (v == NULL)
		return false;
	if (c->op == OP_IN) {
		const struct word_list *l = &r->lists[c->list];
		if (l->value_list)
			return (in->list_hits[l->ordinal] >> slot_of(c->field->id)) & 1u;
		for (size_t i = 0; i < l->n; i++)
			if (text_eq(c->field, v, l->words[i]))
				return true;
		return false;
	}
	bool eq = text_eq(c->field, v, c->word);
	return c->op == OP_EQ ? eq : !eq;
}

void risk_rules_eval(const struct risk_rules *r, const struct risk_rule_input *in,
		     struct risk_rule_match *ret)
{
	struct risk_rule_match m = {RISK_RULE_NONE, -1, 0};
	/* Radar precedence: any allow beats any block, any block beats any review. */
	static const enum risk_rule_action order[] = {RISK_RULE_ALLOW, RISK_RULE_BLOCK,
						      RISK_RULE_REVIEW, RISK_RULE_MANUAL_REVIEW};
	for (size_t k = 0;
	     r != NULL && k < sizeof(order) / sizeof(order[0]) && m.action == RISK_RULE_NONE; k++) {
		for (size_t i = 0; i < r->nrules; i++) {
			const struct rule *ru = &r->rules[i];
			if (ru->action != order[k])
				continue;
			bool all = true;
			for (int j = 0; j < ru->ncond && all; j++)
				all = cond_true(r, &ru->cond[j], in);
			if (all) {
				m.action = ru->action;
				m.rule_index = (int)i;
				m.line = ru->line;
				break;
			}
		}
	}
	*ret = m;
}

const char *risk_rule_action_name(enum risk_rule_action a)
{
	switch (a) {
	case RISK_RULE_ALLOW:
		return "allow";
	case RISK_RULE_BLOCK:
		return "block";
	case RISK_RULE_REVIEW:
		return "review";
	case RISK_RULE_MANUAL_REVIEW:
		return "manual_review";
	case RISK_RULE_NONE:
		break;
	}
	return "none";
}

/* ---- Stripe's default lists ---- */

/* Radar's default allow and block rules, which read each account's default lists (Stripe: "Your
 * default allow and block rules can reference the allow lists and block lists" of card BINs,
 * card fingerprints, card countries, client IP addresses, customer ids, emails and email
 * domains, and of charge descriptions and client IP countries, which Tender's rules have no
 * field for). They apply to every payment whatever the rules file says. */
static const char builtin_text[] = "allow if card_fingerprint in @card_fingerprint_allowlist\n"
				   "allow if card_country in @card_country_allowlist\n"
				   "allow if ip_address in @client_ip_address_allowlist\n"
				   "allow if customer in @customer_id_allowlist\n"
				   "allow if card_bin in @card_bin_allowlist\n"
				   "allow if email in @email_allowlist\n"
				   "allow if email_domain in @email_domain_allowlist\n"
				   "block if card_fingerprint in @card_fingerprint_blocklist\n"
				   "block if card_country in @card_country_blocklist\n"
				   "block if ip_address in @client_ip_address_blocklist\n"
				   "block if customer in @customer_id_blocklist\n"
				   "block if card_bin in @card_bin_blocklist\n"
				   "block if email in @email_blocklist\n"
				   "block if email_domain in @email_domain_blocklist\n";

static struct risk_rules *builtin;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void builtin_parse(void)
{
	char err[200];
	if (risk_rules_parse(builtin_text, sizeof(builtin_text) - 1, &builtin, err, sizeof(err)) !=
	    0)
		builtin = NULL; /* cannot happen: the text is fixed (tested) */
}

const struct risk_rules *risk_rules_builtin(void)
{
	pthread_once(&builtin_once, builtin_parse);
	return builtin;
}

static int rank(enum risk_rule_action a)
{
	switch (a) {
	case RISK_RULE_ALLOW:
		return 0;
	case RISK_RULE_BLOCK:
		return 1;
	case RISK_RULE_REVIEW:
		return 2;
	case RISK_RULE_MANUAL_REVIEW:
		return 3;
	case RISK_RULE_NONE:
		break;
	}
	return 4;
}

void risk_rules_eval_with_builtin(const struct risk_rules *r, const struct risk_rule_input *in,
				  const uint16_t builtin_hits[RISK_RULE_MAX_LISTS],
				  struct risk_rule_match *ret)
{
	struct risk_rule_match file, def;
	risk_rules_eval(r, in, &file);
	bool any = false;
	for (int k = 0; k < RISK_RULE_MAX_LISTS && builtin_hits; k++)
		any = any || builtin_hits[k] != 0;
	if (!any) { /* the default rules have only list conditions */
		*ret = file;
		return;
	}
	struct risk_rule_input bin = *in;
	memcpy(bin.list_hits, builtin_hits, sizeof(bin.list_hits));
	risk_rules_eval(risk_rules_builtin(), &bin, &def);
	if (rank(def.action) < rank(file.action)) {
		/* a default rule: not a line of the rules file */
		def.rule_index = -1;
		def.line = 0;
		*ret = def;
	} else {
		*ret = file;
	}
}
