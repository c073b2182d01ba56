/* Balance settings as Stripe shows them (api/balance_settings.c): the object of an account's
 * payout settings, one day of a schedule as Stripe's newer lists, and the previous_attributes of
 * a change, naming only what moved. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/accounts.h"
#include "core/buf.h"
#include "core/json.h"

static char out[4096];

static const char *render(void (*fn)(struct json *, const struct payout_settings *,
				     const struct payout_settings *),
			  const struct payout_settings *o, const struct payout_settings *n)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1u << 16);
	json_init(&j, &b);
	if (fn)
		fn(&j, o, n);
	else
		balance_settings_render(&j, n);
	cr_assert(!b.failed);
	cr_assert_lt(b.len, sizeof(out));
	memcpy(out, b.data, b.len);
	out[b.len] = '\0';
	buf_release(&b);
	return out;
}

static struct payout_settings weekly_friday(void)
{
	struct payout_settings s = {.payouts_enabled = true, .debit_negative_balances = true};
	s.sched = (struct payout_schedule){PAYOUT_WEEKLY, PAYOUT_DELAY_DAYS, 5, 0};
	s.statement_descriptor = "ACME";
	return s;
}

Test(balance_settings, the_object_shows_one_day_as_a_list)
{
	struct payout_settings s = weekly_friday();
	cr_assert_str_eq(
	    render(NULL, NULL, &s),
	    "{\"object\":\"balance_settings\",\"payments\":{\"debit_negative_balances\":true,"
	    "\"payouts\":{\"automatic_transfer_rules_by_currency\":null,"
	    "\"minimum_balance_by_currency\":null,\"schedule\":{\"interval\":\"weekly\","
	    "\"weekly_payout_days\":[\"friday\"]},\"statement_descriptor\":\"ACME\","
	    "\"status\":\"enabled\"},\"settlement_timing\":{\"delay_days\":2,"
	    "\"start_of_day\":null}}}");
	s.sched = (struct payout_schedule){PAYOUT_MONTHLY, PAYOUT_DELAY_DAYS, -1, 31};
	s.payouts_enabled = false;
	s.statement_descriptor = NULL;
	const char *m = render(NULL, NULL, &s);
	cr_assert(
	    strstr(m, "\"schedule\":{\"interval\":\"monthly\",\"monthly_payout_days\":[31]}"));
	cr_assert(strstr(m, "\"statement_descriptor\":null,\"status\":\"disabled\""));
}

Test(balance_settings, previous_attributes_name_what_moved)
{
	struct payout_settings o = weekly_friday(), n = weekly_friday();
	cr_assert(!payout_settings_differ(&o, &n));
	/* another anchor of an interval that does not use it is no change */
	o.sched.monthly_anchor = 9;
	cr_assert(!payout_settings_differ(&o, &n));
	n.sched = (struct payout_schedule){PAYOUT_DAILY, PAYOUT_DELAY_DAYS, -1, 0};
	n.debit_negative_balances = false;
	cr_assert(payout_settings_differ(&o, &n));
	cr_assert_str_eq(
	    render(balance_settings_render_previous, &o, &n),
	    "{\"payments\":{\"debit_negative_balances\":true,\"payouts\":{\"schedule\":"
	    "{\"interval\":\"weekly\",\"weekly_payout_days\":[\"friday\"]}}}}");
	n = o;
	n.payouts_enabled = false;
	n.statement_descriptor = "OTHER";
	cr_assert_str_eq(render(balance_settings_render_previous, &o, &n),
			 "{\"payments\":{\"payouts\":{\"statement_descriptor\":\"ACME\","
			 "\"status\":\"enabled\"}}}");
}
