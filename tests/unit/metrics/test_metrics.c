#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "http/errors.h"
#include "http/router.h"
#include "metrics/metrics.h"

/* The whole exposition, rendered now (the caller frees it with buf_release). */
static const char *render(struct buf *b)
{
	buf_init(b, 8 << 20);
	cr_assert_eq(metrics_render(b), 0);
	return buf_cstr(b);
}

static void has(const char *text, const char *line)
{
	cr_assert_not_null(strstr(text, line), "missing: %s", line);
}

Test(metrics, a_request_counts_by_route_pattern_and_its_time_in_seconds_buckets)
{
	metrics_init();
	const struct route *rt = NULL;
	for (const struct route *r = api_route_tables[0]; r->method; r++)
		if (strcmp(r->method, "POST") == 0) {
			rt = r;
			break;
		}
	cr_assert_not_null(rt);
	metrics_http(rt, "POST", 402, ERR_CARD_DECLINED, true, false, 1500);
	metrics_http(rt, "POST", 200, -1, true, false, 12000000); /* past the last bound */
	metrics_http(rt, "POST", 200, -1, true, true, 300);
	metrics_http(NULL, "PATCH", 404, ERR_NOT_FOUND_ROUTE, false, false, 10);
	struct buf b;
	const char *t = render(&b);
	char line[512];
	snprintf(line, sizeof(line),
		 "tender_http_requests_total{route=\"%s\",method=\"POST\",code=\"402\"} 1\n",
		 rt->pattern);
	has(t, line);
	snprintf(line, sizeof(line),
		 "tender_http_requests_total{route=\"%s\",method=\"POST\",code=\"200\"} 2\n",
		 rt->pattern);
	has(t, line);
	/* cumulative buckets: 300 µs and 1.5 ms at or below 2.5 ms, 12 s only in +Inf */
	snprintf(line, sizeof(line),
		 "tender_http_request_duration_seconds_bucket{route=\"%s\",method=\"POST\",le=\"0."
		 "0005\"} 1\n",
		 rt->pattern);
	has(t, line);
	snprintf(line, sizeof(line),
		 "tender_http_request_duration_seconds_bucket{route=\"%s\",method=\"POST\",le=\"0."
		 "0025\"} 2\n",
		 rt->pattern);
	has(t, line);
	snprintf(line, sizeof(line),
		 "tender_http_request_duration_seconds_bucket{route=\"%s\",method=\"POST\",le="
		 "\"10\"} 2\n",
		 rt->pattern);
	has(t, line);
	snprintf(line, sizeof(line),
		 "tender_http_request_duration_seconds_bucket{route=\"%s\",method=\"POST\",le=\"+"
		 "Inf\"} 3\n",
		 rt->pattern);
	has(t, line);
	snprintf(line, sizeof(line),
		 "tender_http_request_duration_seconds_sum{route=\"%s\",method=\"POST\"} 12.0018\n",
		 rt->pattern);
	has(t, line);
	has(t,
	    "tender_http_requests_total{route=\"(unmatched)\",method=\"other\",code=\"404\"} 1\n");
	has(t, "tender_api_errors_total{error=\"card_declined\",type=\"card_error\",code=\"card_"
	       "declined\"} 1\n");
	has(t, "tender_idempotent_requests_total{result=\"executed\"} 2\n");
	has(t, "tender_idempotent_requests_total{result=\"replayed\"} 1\n");
	has(t, "# TYPE tender_http_request_duration_seconds histogram\n");
	buf_release(&b);
}

Test(metrics, authorizations_declines_and_events_by_label)
{
	metrics_authorization("visa", "approved", NULL);
	metrics_authorization("visa", "approved", "");
	metrics_authorization("amex", "declined", "insufficient_funds");
	metrics_authorization(NULL, NULL, NULL);
	struct metrics_counter *c[3] = {metrics_event_counter("charge.succeeded"),
					metrics_event_counter("we\"ird\\type"),
					metrics_event_counter("")};
	metrics_events_count(c, 3);
	metrics_payment_approved("jpy", 1000);
	metrics_payment_approved("jpy", 250);
	metrics_payment_approved("", 5);
	metrics_payment_approved("usd", -1);
	metrics_fraud_score(7000);   /* 7 µs */
	metrics_fraud_score(150000); /* 150 µs */
	struct buf b;
	const char *t = render(&b);
	has(t, "tender_card_authorizations_total{brand=\"visa\",outcome=\"approved\"} 2\n");
	has(t, "tender_card_authorizations_total{brand=\"amex\",outcome=\"declined\"} 1\n");
	has(t, "tender_card_authorizations_total{brand=\"unknown\",outcome=\"error\"} 1\n");
	has(t, "tender_card_declines_total{decline_code=\"insufficient_funds\"} 1\n");
	has(t, "tender_events_total{type=\"charge.succeeded\"} 1\n");
	has(t, "tender_card_approved_payments_total{currency=\"jpy\"} 2\n");
	has(t, "tender_card_approved_amount_minor_total{currency=\"jpy\"} 1250\n");
	cr_assert_null(strstr(t, "tender_card_approved_payments_total{currency=\"usd\"}"));
	/* label values escape quotes and backslashes */
	has(t, "tender_events_total{type=\"we\\\"ird\\\\type\"} 1\n");
	has(t, "tender_events_total{type=\"other\"} 1\n");
	has(t, "tender_fraud_score_duration_seconds_bucket{le=\"0.00001\"} 1\n");
	has(t, "tender_fraud_score_duration_seconds_bucket{le=\"0.0002\"} 2\n");
	has(t, "tender_fraud_score_duration_seconds_sum 0.000157\n");
	buf_release(&b);
}

Test(metrics, a_full_label_set_counts_what_does_not_fit_as_dropped)
{
	for (int i = 0; i < 300; i++) {
		char code[32];
		snprintf(code, sizeof(code), "code_%d", i);
		metrics_authorization("visa", "declined", code);
	}
	struct buf b;
	const char *t = render(&b);
	/* half the slots are used at most: 256 decline codes, 44 dropped */
	has(t, "tender_card_declines_total{decline_code=\"code_0\"} 1\n");
	has(t, "tender_metrics_labels_dropped_total 44\n");
	has(t, "tender_card_authorizations_total{brand=\"visa\",outcome=\"declined\"} 300\n");
	buf_release(&b);
}

Test(metrics, store_writes_by_result)
{
	metrics_store_write(800, 0);
	metrics_store_write(900, -7);	/* the transaction's own refusal */
	metrics_store_write(100, -101); /* STORE_OVERLOADED */
	metrics_store_write(100, -100); /* STORE_COMMIT_FAILED */
	metrics_store_fsync(250, true);
	metrics_store_fsync(50, false);
	metrics_webhook_attempt(true, 40);
	struct buf b;
	const char *t = render(&b);
	has(t, "tender_store_write_duration_seconds_count{result=\"ok\"} 1\n");
	has(t, "tender_store_write_duration_seconds_count{result=\"refused\"} 1\n");
	has(t, "tender_store_write_duration_seconds_count{result=\"overloaded\"} 1\n");
	has(t, "tender_store_write_duration_seconds_count{result=\"failed\"} 1\n");
	has(t, "tender_store_fsync_duration_seconds_count 2\n");
	has(t, "tender_store_fsync_failures_total 1\n");
	has(t,
	    "tender_webhook_attempt_duration_seconds_bucket{result=\"delivered\",le=\"0.05\"} 1\n");
	has(t, "tender_webhook_attempt_duration_seconds_sum{result=\"delivered\"} 0.04\n");
	buf_release(&b);
}
