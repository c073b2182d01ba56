/*
 * Stripe's Search API (GET /v1/<resource>/search?query=…): its query language, and a search
 * result page ({"object":"search_result", data, has_more, next_page, url}).
 *
 * The language: up to 10 clauses joined by AND or by OR (not both), each
 *   [-]field:value   exact match (strings case-insensitive; `null` matches no value)
 *   field~"value"    substring, at least 3 characters, where the field allows it
 *   field>n, <, >=, <=   numbers (amount, created)
 *   metadata["key"]:"value"
 * with values quoted in '…' or "…" (\" and \' escape a quote inside), numbers and null bare.
 *
 * A search walks the merchant's rows newest first through the table's primary key (a scan
 * statement of the resource's own, selecting the id and the searchable columns) and evaluates
 * the query on each row. A page stops at `limit` matches or after SEARCH_SCAN_MAX rows, and
 * next_page continues after the last row it looked at; so a page may hold fewer than `limit`
 * results while has_more is true, and a client pages on (the SDKs' auto-pagination does). An AND
 * query naming the resource's prefilter field exactly (a PaymentIntent's customer) narrows the
 * scan to that index, and its created bounds narrow the id range.
 */
#ifndef TENDER_API_SEARCH_H
#define TENDER_API_SEARCH_H

#include <stdbool.h>

#include "http/req.h"

#define SEARCH_CLAUSES_MAX 10
#define SEARCH_SCAN_MAX 5000

enum search_kind {
	SEARCH_STRING,	 /* text column */
	SEARCH_NUMBER,	 /* integer column */
	SEARCH_BOOL,	 /* integer column, 0 or 1 */
	SEARCH_METADATA, /* JSON object column, searched as metadata["key"] */
};

struct search_field {
	const char *name; /* as written in the query: "email", "amount", "metadata" */
	enum search_kind kind;
	bool substring; /* `~` allowed */
	int col;	/* its column in the scan statement's rows (column 0 is the id) */
	/* NULL: the column is the value. Else the column holds a JSON object (plain, or packed as
	 * events/pack.h packs; a charge's card details) and the value is at this dotted path in it
	 * ("brand", "address.postal_code"): a SEARCH_STRING or SEARCH_NUMBER there. */
	const char *path;
};

/*
 * sql_scan: SELECT id, <columns> FROM t WHERE merchant_id = $1 AND id > $2 AND id < $3
 *           AND ($5 IS NULL OR <prefilter column> = $5) ORDER BY id DESC LIMIT $4
 * ($5 is bound NULL when the resource has no prefilter or the query cannot use it).
 * sql_scan_narrow: the same with `<prefilter column> = $5`, run when $5 is given: the form an
 * index on (merchant_id, <prefilter column>) can answer (list.h, list_narrow).
 */
struct search_spec {
	const char *url;      /* "/v1/customers/search" */
	const char *resource; /* "customers", for error messages */
	const char *id_prefix;
	const struct search_field *fields; /* ends with {NULL} */
	const char *sql_scan;
	const char *sql_scan_narrow;
	const char *prefilter; /* a SEARCH_STRING field matched exactly (case-sensitively) by
				  the scan's $5, or NULL */
	int (*render)(struct req *r, struct db *db, const char *id, struct json *j);
	/* 0: column 0 is the id, and the scan bounds and orders by id. Otherwise column 0 is the
	 * row's list_key (list.h: a resource whose ids the merchant may choose), the scan bounds
	 * and orders by it, next_page is one, and the id is column id_col. */
	int id_col;
};

struct search_clause {
	const struct search_field *field;
	char op; /* ':' '~' '>' '<' 'g' (>=) 'l' (<=) */
	bool negate;
	bool is_null;	   /* the value was the bare word null */
	const char *key;   /* metadata["key"] */
	const char *value; /* unquoted text */
	int64_t number;	   /* SEARCH_NUMBER / SEARCH_BOOL values */
};

struct search_query {
	struct search_clause c[SEARCH_CLAUSES_MAX];
	int n;
	bool any; /* joined by OR */
};

/* The parameters every search route takes: query (required), limit, page. */
extern const struct param_spec search_params[];

/* Parses query against spec's fields into q (strings in r's arena). 0, or -1 with r->err (a
 * 400 on param `query` saying what is wrong). */
int search_parse(struct req *r, const struct search_spec *spec, const char *query,
		 struct search_query *q);

/* A whole search handler body: query, limit, page; reads and renders into r->out. */
int search_respond(struct req *r, const struct search_spec *spec);

#endif
