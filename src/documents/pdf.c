/*
 * Drawing a document with cairo (see pdf.h for what a document is and its bounds).
 *
 * cairo's PDF surface writes into a struct buf through cairo_pdf_surface_create_for_stream;
 * text is cairo's own ("toy") text API with DejaVu Sans found through fontconfig, which embeds
 * the subset of the font the document uses. No PDF syntax is written here.
 *
 * Layout: A4 portrait in points. The first page carries the header (title, number, dates,
 * status, issuer, customer); every page the table's header and a footer with the document's
 * number and the page's; the lines flow over as many pages as they need (at most
 * PDF_PAGES_MAX - 2, so that the totals and the notes always have room after them), then the
 * totals and the memo and footer. Text that does not fit its column is wrapped (descriptions,
 * notes) or cut with an ellipsis (names, amounts never: the amount columns are wide enough for
 * any int64).
 *
 * Wrapping measures text with cairo_text_extents: a row's break is found by a binary search over
 * the text's character boundaries (log n measures a row, not n), so a document of PDF_LINES_MAX
 * lines of PDF_TEXT_MAX bytes stays cheap.
 */
#include "documents/pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "money/currency.h"

#define PAGE_W 595.28
#define PAGE_H 841.89
#define LEFT 50.0
#define RIGHT 545.28
#define BOTTOM (PAGE_H - 60.0)
#define FONT "DejaVu Sans"

/* the table's columns: description from LEFT to DESC_RIGHT, then right-aligned numbers */
#define DESC_RIGHT 300.0
/* the "Ship to" block, right of "Bill to" */
#define SHIP_LEFT 310.0
#define QTY_RIGHT 345.0
#define UNIT_RIGHT 445.0
#define TOTALS_LEFT 300.0

/* a text cut or wrapped: at most PDF_TEXT_MAX bytes plus an ellipsis and the NUL */
#define TEXT_CAP (PDF_TEXT_MAX + 8)

static void sanitize(const char *in, char out[TEXT_CAP])
{
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	while (*p && o < PDF_TEXT_MAX) {
		unsigned char c = *p;
		size_t n = c < 0x80		? 1
			   : (c & 0xE0) == 0xC0 ? 2
			   : (c & 0xF0) == 0xE0 ? 3
			   : (c & 0xF8) == 0xF0 ? 4
						: 0;
		bool ok = n > 0 && !(n == 2 && c < 0xC2) && !(n == 4 && c > 0xF4);
		for (size_t k = 1; ok && k < n; k++)
			ok = (p[k] & 0xC0) == 0x80;
		/* overlong three-byte forms and UTF-16 surrogates */
		if (ok && n == 3 && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)))
			ok = false;
		if (ok && n == 4 && ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)))
			ok = false;
		if (!ok) {
			out[o++] = '?';
			p++;
			continue;
		}
		if (o + n > PDF_TEXT_MAX)
			break;
		if (n == 1 && (c < 0x20 || c == 0x7F)) {
			out[o++] = ' ';
		} else {
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	out[o] = '\0';
}

int pdf_format_amount(char *out, size_t n, int64_t amount_minor, const char *currency)
{
	const struct currency *cy = currency ? currency_find(currency) : NULL;
	if (n)
		out[0] = '\0';
	if (!cy || n < 8)
		return PDF_ERR_INVALID;
	uint64_t mag =
	    amount_minor < 0 ? (uint64_t)0 - (uint64_t)amount_minor : (uint64_t)amount_minor;
	uint64_t div = 1;
	for (int i = 0; i < cy->exponent; i++)
		div *= 10;
	uint64_t major = mag / div, minor = mag % div;
	/* the major part's digits, thousands separated, written backwards then turned */
	char rev[40];
	size_t k = 0;
	int group = 0;
	do {
		if (group == 3) {
			rev[k++] = ',';
			group = 0;
		}
		rev[k++] = (char)('0' + major % 10);
		major /= 10;
		group++;
	} while (major && k < sizeof(rev) - 2);
	char digits[40];
	for (size_t i = 0; i < k; i++)
		digits[i] = rev[k - 1 - i];
	digits[k] = '\0';
	char code[4] = {0};
	for (int i = 0; i < 3 && cy->code[i]; i++)
		code[i] = (char)(cy->code[i] - ('a' - 'A'));
	int w;
	if (cy->exponent == 0)
		w = snprintf(out, n, "%s%s %s", amount_minor < 0 ? "-" : "", digits, code);
	else
		w = snprintf(out, n, "%s%s.%0*llu %s", amount_minor < 0 ? "-" : "", digits,
			     cy->exponent, (unsigned long long)minor, code);
	if (w < 0 || (size_t)w >= n) {
		out[0] = '\0';
		return PDF_ERR_INVALID;
	}
	return 0;
}

static int format_date(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t < 0 || !gmtime_r(&tt, &tm) || strftime(out, n, "%Y-%m-%d", &tm) == 0) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

static cairo_status_t write_fn(void *closure, const unsigned char *data, unsigned int len)
{
	struct buf *b = closure;
	if (b->len + len > PDF_BYTES_MAX)
		b->failed = true;
	buf_append(b, data, len);
	return b->failed ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

/* ---- text ---- */

static double text_width(cairo_t *cr, const char *s)
{
	cairo_text_extents_t e;
	cairo_text_extents(cr, s, &e);
	return e.x_advance;
}

static void font(cairo_t *cr, bool bold, double size)
{
	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
			       bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
}

static void grey(cairo_t *cr, bool on)
{
	if (on)
		cairo_set_source_rgb(cr, 0.42, 0.45, 0.5);
	else
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.12);
}

static void text_at(cairo_t *cr, double x, double y, const char *s)
{
	cairo_move_to(cr, x, y);
	cairo_show_text(cr, s);
}

static void text_right(cairo_t *cr, double right, double y, const char *s)
{
	text_at(cr, right - text_width(cr, s), y, s);
}

/* Is i the start of a UTF-8 character of s? */
static bool char_start(const char *s, size_t i)
{
	return ((unsigned char)s[i] & 0xC0) != 0x80;
}

/* The longest prefix of s (length n, sanitized) that fits width, at a character boundary; at
 * least one character when s is not empty (a single glyph wider than the column still makes
 * progress). A binary search over the character boundaries: the width grows with the prefix. */
static size_t fit_prefix(cairo_t *cr, const char *s, size_t n, double width)
{
	size_t ends[TEXT_CAP]; /* ends[i]: the length of the prefix of i + 1 characters */
	size_t m = 0;
	for (size_t i = 1; i <= n && m < TEXT_CAP; i++)
		if (i == n || char_start(s, i))
			ends[m++] = i;
	if (m == 0)
		return 0;
	char tmp[TEXT_CAP];
	size_t lo = 0, hi = m; /* ends[lo - 1] fits (lo == 0: nothing tried fits yet) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2; /* 1..m: the prefix of mid characters */
		memcpy(tmp, s, ends[mid - 1]);
		tmp[ends[mid - 1]] = '\0';
		if (text_width(cr, tmp) <= width)
			lo = mid;
		else
			hi = mid - 1;
	}
	return ends[lo ? lo - 1 : 0];
}

/* s cut to width with an ellipsis when it does not fit, into out. */
static void cut(cairo_t *cr, const char *s, double width, char out[TEXT_CAP])
{
	char clean[TEXT_CAP];
	sanitize(s, clean);
	if (text_width(cr, clean) <= width) {
		memcpy(out, clean, strlen(clean) + 1);
		return;
	}
	size_t k = fit_prefix(cr, clean, strlen(clean), width - text_width(cr, "…"));
	memcpy(out, clean, k);
	memcpy(out + k, "…", sizeof("…"));
}

/* s wrapped to width onto at most max_rows rows (the last one cut with an ellipsis when text
 * remains). Returns the number of rows (0 for an empty text). */
static size_t wrap(cairo_t *cr, const char *s, double width, char rows[][TEXT_CAP], size_t max_rows)
{
	char clean[TEXT_CAP];
	sanitize(s, clean);
	const char *p = clean;
	size_t n = strlen(clean), used = 0;
	while (n > 0 && used < max_rows) {
		while (n > 0 && *p == ' ') {
			p++;
			n--;
		}
		if (n == 0)
			break;
		if (used + 1 == max_rows) {
			cut(cr, p, width, rows[used++]);
			break;
		}
		size_t k = fit_prefix(cr, p, n, width);
		if (k < n) {
			/* break after the last space of the prefix, when there is one */
			size_t sp = k;
			while (sp > 0 && p[sp] != ' ' && p[sp - 1] != ' ')
				sp--;
			if (sp > 0)
				k = sp;
		}
		memcpy(rows[used], p, k);
		rows[used][k] = '\0';
		used++;
		p += k;
		n -= k;
	}
	return used;
}

/* ---- pages ---- */

struct layout {
	cairo_t *cr;
	const struct pdf_doc *d;
	int page;   /* 1-based, the page being drawn */
	double y;   /* the baseline of the next row */
	bool table; /* the lines' table is being drawn: a new page repeats its header */
};

static void page_footer(struct layout *L)
{
	cairo_t *cr = L->cr;
	char s[TEXT_CAP + 64], num[TEXT_CAP];
	font(cr, false, 8);
	grey(cr, true);
	sanitize(L->d->number ? L->d->number : "", num);
	snprintf(s, sizeof(s), "%s%sPage %d", num, num[0] ? " · " : "", L->page);
	text_right(cr, RIGHT, PAGE_H - 30, s);
	grey(cr, false);
}

static void rule(cairo_t *cr, double y)
{
	cairo_set_line_width(cr, 0.6);
	cairo_set_source_rgb(cr, 0.8, 0.82, 0.85);
	cairo_move_to(cr, LEFT, y);
	cairo_line_to(cr, RIGHT, y);
	cairo_stroke(cr);
	grey(cr, false);
}

static void table_header(struct layout *L)
{
	cairo_t *cr = L->cr;
	font(cr, false, 8.5);
	grey(cr, true);
	text_at(cr, LEFT, L->y, "Description");
	text_right(cr, QTY_RIGHT, L->y, "Qty");
	text_right(cr, UNIT_RIGHT, L->y, "Unit price");
	text_right(cr, RIGHT, L->y, "Amount");
	grey(cr, false);
	rule(cr, L->y + 5);
	L->y += 20;
}

/* Room for h more points on this page; else a new page (false when the pages allowed to
 * last_page are used up). */
static bool room(struct layout *L, double h, int last_page)
{
	if (L->y + h <= BOTTOM)
		return true;
	if (L->page >= last_page)
		return false;
	page_footer(L);
	cairo_show_page(L->cr);
	L->page++;
	cairo_t *cr = L->cr;
	char title[TEXT_CAP], num[TEXT_CAP], s[2 * TEXT_CAP + 32];
	sanitize(L->d->title, title);
	sanitize(L->d->number, num);
	font(cr, true, 10);
	snprintf(s, sizeof(s), "%s %s (continued)", title, num);
	text_at(cr, LEFT, 60, s);
	L->y = 90;
	if (L->table)
		table_header(L);
	return true;
}

static void header(struct layout *L)
{
	cairo_t *cr = L->cr;
	const struct pdf_doc *d = L->d;
	char s[TEXT_CAP];
	/* the issuer, top right */
	double ry = 62;
	font(cr, true, 11);
	cut(cr, d->issuer.name, 230, s);
	text_right(cr, RIGHT, ry, s);
	font(cr, false, 9);
	grey(cr, true);
	if (d->issuer.email && d->issuer.email[0]) {
		ry += 13;
		cut(cr, d->issuer.email, 230, s);
		text_right(cr, RIGHT, ry, s);
	}
	for (size_t i = 0; i < PDF_ADDRESS_MAX && d->issuer.address[i]; i++) {
		ry += 13;
		cut(cr, d->issuer.address[i], 230, s);
		text_right(cr, RIGHT, ry, s);
	}
	grey(cr, false);
	/* the title, top left */
	font(cr, true, 22);
	cut(cr, d->title, 250, s);
	text_at(cr, LEFT, 68, s);
	/* number, dates, status */
	double y = 100;
	struct {
		char label[TEXT_CAP];
		char value[TEXT_CAP];
	} kv[PDF_DATES_MAX + 2];
	size_t n = 0;
	if (d->number && d->number[0]) {
		char title[TEXT_CAP];
		sanitize(d->title, title);
		snprintf(kv[n].label, sizeof(kv[n].label), "%.80s number", title);
		sanitize(d->number, kv[n].value);
		n++;
	}
	for (size_t i = 0; i < d->n_dates && i < PDF_DATES_MAX; i++) {
		sanitize(d->dates[i].label, kv[n].label);
		if (d->dates[i].text)
			sanitize(d->dates[i].text, kv[n].value);
		else
			format_date(d->dates[i].t, kv[n].value, sizeof(kv[n].value));
		n++;
	}
	if (d->status && d->status[0]) {
		snprintf(kv[n].label, sizeof(kv[n].label), "Status");
		sanitize(d->status, kv[n].value);
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		char label[TEXT_CAP], value[TEXT_CAP];
		font(cr, false, 9.5);
		grey(cr, true);
		cut(cr, kv[i].label, 115, label);
		text_at(cr, LEFT, y, label);
		grey(cr, false);
		font(cr, i == 0 && d->number && d->number[0], 9.5);
		cut(cr, kv[i].value, 200, value);
		text_at(cr, LEFT + 120, y, value);
		y += 14;
	}
	if (ry + 14 > y)
		y = ry + 14;
	/* the customer */
	y += 14;
	font(cr, true, 9.5);
	text_at(cr, LEFT, y, "Bill to");
	font(cr, false, 9.5);
	const char *rows[2 + PDF_ADDRESS_MAX];
	size_t nr = 0;
	if (d->customer.name && d->customer.name[0])
		rows[nr++] = d->customer.name;
	for (size_t i = 0; i < PDF_ADDRESS_MAX && d->customer.address[i]; i++)
		rows[nr++] = d->customer.address[i];
	if (d->customer.email && d->customer.email[0])
		rows[nr++] = d->customer.email;
	double by = y;
	bool ship = d->ship_to.name && d->ship_to.name[0];
	for (size_t i = 0; i < nr; i++) {
		y += 13;
		cut(cr, rows[i], ship ? 240 : 300, s);
		text_at(cr, LEFT, y, s);
	}
	/* where the goods go (an invoice's shipping_details), beside whom it is billed to */
	if (ship) {
		double sy = by;
		font(cr, true, 9.5);
		text_at(cr, SHIP_LEFT, sy, "Ship to");
		font(cr, false, 9.5);
		sy += 13;
		cut(cr, d->ship_to.name, 240, s);
		text_at(cr, SHIP_LEFT, sy, s);
		for (size_t i = 0; i < PDF_ADDRESS_MAX && d->ship_to.address[i]; i++) {
			sy += 13;
			cut(cr, d->ship_to.address[i], 240, s);
			text_at(cr, SHIP_LEFT, sy, s);
		}
		if (sy > y)
			y = sy;
	}
	L->y = y + 34;
}

static void line_row(struct layout *L, const struct pdf_line *l, char rows[][TEXT_CAP], size_t nr)
{
	cairo_t *cr = L->cr;
	const char *cur = L->d->currency;
	char amt[64];
	font(cr, false, 9.5);
	for (size_t i = 0; i < nr; i++)
		text_at(cr, LEFT, L->y + 13.0 * (double)i, rows[i]);
	if (l->has_quantity) {
		char q[32];
		if (l->quantity_text)
			snprintf(q, sizeof(q), "%s", l->quantity_text);
		else
			snprintf(q, sizeof(q), "%lld", (long long)l->quantity);
		text_right(cr, QTY_RIGHT, L->y, q);
	}
	if (l->has_unit_amount && pdf_format_amount(amt, sizeof(amt), l->unit_amount, cur) == 0)
		text_right(cr, UNIT_RIGHT, L->y, amt);
	if (pdf_format_amount(amt, sizeof(amt), l->amount, cur) == 0)
		text_right(cr, RIGHT, L->y, amt);
	L->y += 13.0 * (double)(nr ? nr : 1) + 7;
}

static int draw(struct layout *L)
{
	cairo_t *cr = L->cr;
	const struct pdf_doc *d = L->d;
	header(L);
	L->table = true;
	table_header(L);
	size_t shown = d->n_lines < PDF_LINES_MAX ? d->n_lines : PDF_LINES_MAX;
	size_t i = 0;
	for (; i < shown; i++) {
		char rows[PDF_WRAP_MAX][TEXT_CAP];
		font(cr, false, 9.5);
		size_t nr =
		    wrap(cr, d->lines[i].description, DESC_RIGHT - LEFT, rows, PDF_WRAP_MAX);
		if (!room(L, 13.0 * (double)(nr ? nr : 1) + 7, PDF_PAGES_MAX - 2))
			break;
		line_row(L, &d->lines[i], rows, nr);
	}
	if (i < d->n_lines && room(L, 20, PDF_PAGES_MAX - 1)) {
		char s[64];
		font(cr, false, 9.5);
		grey(cr, true);
		snprintf(s, sizeof(s), "… %zu more lines", d->n_lines - i);
		text_at(cr, LEFT, L->y, s);
		grey(cr, false);
		L->y += 20;
	}
	L->table = false;
	/* the totals */
	if (room(L, 10, PDF_PAGES_MAX))
		rule(cr, L->y - 10);
	L->y += 6;
	for (size_t t = 0; t < d->n_totals && t < PDF_TOTALS_MAX; t++) {
		const struct pdf_total *row = &d->totals[t];
		char label[TEXT_CAP], amt[64];
		if (!room(L, 16, PDF_PAGES_MAX))
			break;
		font(cr, row->strong, 9.5);
		/* the label takes what the amount leaves of the column */
		if (pdf_format_amount(amt, sizeof(amt), row->amount, d->currency) != 0)
			amt[0] = '\0';
		cut(cr, row->label, RIGHT - TOTALS_LEFT - text_width(cr, amt) - 12, label);
		text_at(cr, TOTALS_LEFT, L->y, label);
		text_right(cr, RIGHT, L->y, amt);
		L->y += 16;
	}
	/* memo, footer */
	const char *notes[2] = {d->memo, d->footer};
	for (size_t k = 0; k < 2; k++) {
		if (!notes[k] || !notes[k][0])
			continue;
		char rows[PDF_NOTE_ROWS_MAX][TEXT_CAP];
		font(cr, false, 9);
		size_t nr = wrap(cr, notes[k], RIGHT - LEFT, rows, PDF_NOTE_ROWS_MAX);
		L->y += 14;
		for (size_t r = 0; r < nr; r++) {
			if (!room(L, 13, PDF_PAGES_MAX))
				break;
			grey(cr, k == 1);
			text_at(cr, LEFT, L->y, rows[r]);
			L->y += 13;
		}
		grey(cr, false);
	}
	page_footer(L);
	return 0;
}

int pdf_render(const struct pdf_doc *d, struct buf *ret)
{
	if (!d || !d->title || !d->currency || !currency_find(d->currency) ||
	    (d->n_lines && !d->lines) || d->n_dates > PDF_DATES_MAX || d->n_totals > PDF_TOTALS_MAX)
		return PDF_ERR_INVALID;
	struct buf out;
	buf_init(&out, PDF_BYTES_MAX);
	cairo_surface_t *surface =
	    cairo_pdf_surface_create_for_stream(write_fn, &out, PAGE_W, PAGE_H);
	char title[2 * TEXT_CAP + 4], t[TEXT_CAP], num[TEXT_CAP];
	sanitize(d->title, t);
	sanitize(d->number, num);
	snprintf(title, sizeof(title), "%s%s%s", t, num[0] ? " " : "", num);
	/* the document's own date (cairo's form: YYYY-MM-DDThh:mm:ss with a zone) */
	char date[32] = "";
	time_t tt = (time_t)d->date;
	struct tm tm;
	if (d->date > 0 && gmtime_r(&tt, &tm))
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Tender");
	if (date[0]) {
		cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, date);
		cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, date);
	}
	cairo_t *cr = cairo_create(surface);
	struct layout L = {.cr = cr, .d = d, .page = 1, .y = 0, .table = false};
	grey(cr, false);
	draw(&L);
	cairo_status_t st = cairo_status(cr);
	cairo_destroy(cr);
	cairo_surface_finish(surface);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(surface);
	cairo_surface_destroy(surface);
	int rc = 0;
	if (st != CAIRO_STATUS_SUCCESS || out.failed)
		rc = PDF_ERR_RENDER;
	else
		buf_append(ret, out.data, out.len);
	buf_release(&out);
	if (rc == 0 && ret->failed)
		rc = PDF_ERR_RENDER;
	return rc;
}

void pdf_caches_release(void)
{
	cairo_debug_reset_static_data();
	FcFini();
}
