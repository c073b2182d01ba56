/* Treasury's movements (ledger_treasury.h), through ledger_post() like every movement. */
#include "ledger/ledger_treasury.h"

static int in_range(int64_t v)
{
	return v >= -LEDGER_AMOUNT_MAX && v <= LEDGER_AMOUNT_MAX;
}

static int add_checked(int64_t a, int64_t b, int64_t *ret)
{
	int64_t s;
	if (__builtin_add_overflow(a, b, &s) || !in_range(s))
		return LEDGER_ERR_OVERFLOW;
	*ret = s;
	return 0;
}

int ledger_treasury_add(struct treasury_impact *acc, const struct treasury_impact *add)
{
	struct treasury_impact t;
	if (add_checked(acc->cash, add->cash, &t.cash) != 0 ||
	    add_checked(acc->inbound_pending, add->inbound_pending, &t.inbound_pending) != 0 ||
	    add_checked(acc->outbound_pending, add->outbound_pending, &t.outbound_pending) != 0)
		return LEDGER_ERR_OVERFLOW;
	*acc = t;
	return 0;
}

int ledger_treasury_entries(const struct treasury_impact *impact, const char *currency,
			    struct ledger_entry out[4], size_t *ret_n)
{
	const struct {
		const char *account;
		int64_t v;
	} parts[] = {
	    {LEDGER_ACCT_TREASURY_CASH, impact->cash},
	    {LEDGER_ACCT_TREASURY_INBOUND_PENDING, impact->inbound_pending},
	    {LEDGER_ACCT_TREASURY_OUTBOUND_PENDING, impact->outbound_pending},
	};
	size_t n = 0;
	int64_t edge = 0;
	*ret_n = 0;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (!in_range(parts[i].v) || add_checked(edge, parts[i].v, &edge) != 0)
			return LEDGER_ERR_OVERFLOW;
		if (parts[i].v == 0)
			continue;
		/* a raised balance is a credit of its bucket */
		out[n++] = (struct ledger_entry){parts[i].account, currency, -parts[i].v};
	}
	/* what crossed the account's edge came from (or went to) the networks */
	if (edge != 0)
		out[n++] = (struct ledger_entry){LEDGER_ACCT_TREASURY_NETWORK, currency, edge};
	if (n < 2)
		return LEDGER_ERR_INVALID;
	*ret_n = n;
	return 0;
}

int ledger_treasury_post(struct db *db, const char *merchant_id, const char *trxn_id,
			 const struct treasury_impact *impact, const char *currency, int64_t now)
{
	struct ledger_entry e[4];
	size_t n = 0;
	int rc = ledger_treasury_entries(impact, currency, e, &n);
	if (rc != 0)
		return rc;
	char jtx[ID_MAX];
	return ledger_post(db, merchant_id, "treasury", trxn_id, e, n, now, jtx);
}
