"""Drives a running Tender with stripe-python (Debian's python3-stripe), the way a merchant's
Python code talks to Stripe: resources as classes, Python values as parameters, errors as
exceptions, auto-pagination, and a webhook delivered to a local receiver and checked with
stripe.Webhook.construct_event.

Usage: stripe_python.py SECRET_KEY BASE_URL
Prints one JSON object per check ({"name", "ok", "detail"}) and exits 0 only when all passed.
The node test (../python_sdk.test.js) starts the server and reads these lines.
"""
import http.server
import json
import sys
import threading
import time
import uuid

import stripe

stripe.api_key = sys.argv[1]
stripe.api_base = sys.argv[2]
stripe.max_network_retries = 0

results = []


def check(name, cond, detail=""):
    results.append({"name": name, "ok": bool(cond), "detail": "" if cond else repr(detail)})


def raises(name, exc_type, fn, test=lambda e: True):
    try:
        fn()
    except exc_type as e:
        check(name, test(e), (type(e).__name__, getattr(e, "code", None), getattr(e, "http_status", None)))
        return e
    except Exception as e:  # the wrong exception class is a failure, not a crash
        check(name, False, (type(e).__name__, str(e)))
        return None
    check(name, False, "no exception")
    return None


# A webhook receiver on an ephemeral port: keeps each delivery's body and signature header.
deliveries = []
delivered = threading.Condition()


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with delivered:
            deliveries.append((body, self.headers.get("Stripe-Signature")))
            delivered.notify_all()
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


hook = http.server.HTTPServer(("127.0.0.1", 0), Hook)
threading.Thread(target=hook.serve_forever, daemon=True).start()

email = "py-%s@example.com" % uuid.uuid4().hex[:10]
try:
    we = stripe.WebhookEndpoint.create(
        url="http://127.0.0.1:%d/hook" % hook.server_address[1],
        enabled_events=["payment_intent.succeeded"],
    )
    check("webhook endpoint has its secret", we.secret.startswith("whsec_"), we.secret[:6])

    c = stripe.Customer.create(email=email, name="Py", metadata={"plan": "gold"})
    check("customer create", c.id.startswith("cus_") and c.metadata["plan"] == "gold", c)
    check("customer retrieve", stripe.Customer.retrieve(c.id).email == email)
    check("customer modify", stripe.Customer.modify(c.id, name="Py Two").name == "Py Two")
    c = stripe.Customer.modify(c.id, metadata={"plan": ""})
    check("metadata key unset with ''", "plan" not in c.metadata, c.metadata)

    pm = stripe.PaymentMethod.create(
        type="card", card={"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    )
    check("payment method create", pm.card.last4 == "4242" and pm.card.brand == "visa", pm.card)
    stripe.PaymentMethod.attach(pm.id, customer=c.id)

    # Python's True is sent as "True" by this SDK: Stripe accepts booleans in any case.
    key = "py-" + uuid.uuid4().hex
    pi = stripe.PaymentIntent.create(
        amount=2000, currency="usd", customer=c.id, payment_method=pm.id, confirm=True,
        automatic_payment_methods={"enabled": True, "allow_redirects": "never"},
        expand=["latest_charge"], idempotency_key=key,
    )
    check("confirm with confirm=True succeeds", pi.status == "succeeded", pi.status)
    check("expand[0]=latest_charge gives a Charge", isinstance(pi.latest_charge, stripe.Charge),
          type(pi.latest_charge).__name__)
    again = stripe.PaymentIntent.create(
        amount=2000, currency="usd", customer=c.id, payment_method=pm.id, confirm=True,
        automatic_payment_methods={"enabled": True, "allow_redirects": "never"},
        expand=["latest_charge"], idempotency_key=key,
    )
    check("idempotent retry returns the same payment", again.id == pi.id, (again.id, pi.id))
    check("no second charge", len(stripe.Charge.list(payment_intent=pi.id).data) == 1)
    raises("same key, other parameters: IdempotencyError", stripe.error.IdempotencyError,
           lambda: stripe.PaymentIntent.create(amount=2001, currency="usd", customer=c.id,
                                               payment_method=pm.id, confirm=True, idempotency_key=key))

    m = stripe.PaymentIntent.create(amount=3000, currency="usd", payment_method="pm_card_visa",
                                    confirm=True, capture_method="manual")
    check("manual capture waits", m.status == "requires_capture", m.status)
    m = stripe.PaymentIntent.capture(m.id, amount_to_capture=2500)
    check("partial capture", m.status == "succeeded" and m.amount_received == 2500, (m.status, m.amount_received))
    r = stripe.Refund.create(payment_intent=m.id, amount=1000)
    check("partial refund", r.status == "succeeded" and r.amount == 1000, r)
    ch = stripe.Charge.retrieve(m.latest_charge)
    # the 500 the partial capture released counts as refunded, as on Stripe
    check("charge shows the refund", ch.amount_refunded == 1500 and ch.refunded is False, ch.amount_refunded)

    e = raises("decline: CardError 402 card_declined", stripe.error.CardError,
               lambda: stripe.PaymentIntent.create(amount=2000, currency="usd", confirm=True,
                                                   payment_method="pm_card_chargeDeclined"),
               lambda e: e.http_status == 402 and e.code == "card_declined")
    check("the decline carries its PaymentIntent",
          e is not None and e.error.payment_intent is not None and e.error.payment_intent.id.startswith("pi_"))
    raises("bad amount: InvalidRequestError on param amount", stripe.error.InvalidRequestError,
           lambda: stripe.PaymentIntent.create(amount=-5, currency="usd"),
           lambda e: e.http_status == 400 and e.param == "amount")
    raises("unknown id: 404 resource_missing", stripe.error.InvalidRequestError,
           lambda: stripe.PaymentIntent.retrieve("pi_doesnotexist"),
           lambda e: e.http_status == 404 and e.code == "resource_missing")
    raises("wrong key: AuthenticationError", stripe.error.AuthenticationError,
           lambda: stripe.Customer.list(api_key="sk_test_wrong"))

    tag = uuid.uuid4().hex[:8]
    for i in range(7):
        stripe.Customer.create(email="page-%s-%d@example.com" % (tag, i))
    seen = [x.id for x in stripe.Customer.list(limit=3).auto_paging_iter()]
    check("auto_paging_iter walks every page once", len(seen) == len(set(seen)) and len(seen) >= 8, len(seen))
    lst = stripe.PaymentIntent.list(limit=2, customer=c.id)
    check("list filtered by customer", [p.id for p in lst.data] == [pi.id], [p.id for p in lst.data])
    lst = stripe.Charge.list(limit=1, customer=c.id, expand=["data.customer"])
    check("expand data.customer in a list", isinstance(lst.data[0].customer, stripe.Customer),
          type(lst.data[0].customer).__name__)
    s = stripe.Customer.search(query='email:"%s"' % email)
    check("search", [x.id for x in s.data] == [c.id], [x.id for x in s.data])

    si = stripe.SetupIntent.create(customer=c.id, payment_method="pm_card_visa", confirm=True, usage="off_session")
    check("SetupIntent confirmed", si.status == "succeeded", si.status)
    t = stripe.PaymentIntent.create(amount=2000, currency="usd", confirm=True, return_url="https://example.com/r",
                                    payment_method="pm_card_threeDSecure2Required")
    check("3-D Secure asks for action", t.status == "requires_action" and t.next_action.type == "redirect_to_url",
          t.status)

    prod = stripe.Product.create(name="Gold")
    price = stripe.Price.create(product=prod.id, unit_amount=999, currency="usd", recurring={"interval": "month"})
    cu = stripe.Customer.create()
    card = stripe.PaymentMethod.attach("pm_card_visa", customer=cu.id)
    stripe.Customer.modify(cu.id, invoice_settings={"default_payment_method": card.id})
    sub = stripe.Subscription.create(customer=cu.id, items=[{"price": price.id}], expand=["latest_invoice"])
    check("subscription active and its invoice paid", sub.status == "active" and sub.latest_invoice.status == "paid",
          (sub.status, sub.latest_invoice.status))
    check("subscription cancel", stripe.Subscription.delete(sub.id).status == "canceled")

    cs = stripe.checkout.Session.create(
        mode="payment", success_url="https://example.com/s",
        line_items=[{"price_data": {"currency": "usd", "unit_amount": 1500, "product_data": {"name": "T"}},
                     "quantity": 2}],
    )
    check("checkout session", cs.amount_total == 3000 and cs.url.startswith("http"), cs.amount_total)
    tok = stripe.Token.create(card={"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"})
    ch = stripe.Charge.create(amount=1000, currency="usd", source=tok.id)
    check("legacy charge with a token", ch.paid and ch.status == "succeeded", ch.status)

    bal = stripe.Balance.retrieve()
    check("balance", bal.object == "balance" and any(b.currency == "usd" for b in bal.pending), bal)
    check("balance transactions", len(stripe.BalanceTransaction.list(limit=3).data) == 3)
    evs = stripe.Event.list(limit=5, type="payment_intent.succeeded")
    check("events filtered by type", evs.data and all(x.type == "payment_intent.succeeded" for x in evs.data))
    check("customer delete", stripe.Customer.delete(cu.id).deleted is True)
    # arrays as stripe-python encodes them (types[0]=…&types[1]=…)
    evs = stripe.Event.list(limit=20, types=["payment_intent.succeeded", "charge.refunded"])
    check("events filtered by types[]", evs.data and {x.type for x in evs.data} <= {"payment_intent.succeeded", "charge.refunded"}
          and "charge.refunded" in {x.type for x in evs.data}, [x.type for x in evs.data])
    rates = stripe.ExchangeRate.list()
    usd = stripe.ExchangeRate.retrieve("usd")
    check("exchange rates", any(x.id == "usd" for x in rates.data) and usd.rates["eur"] > 0, usd.id)
    # a credit note on a paid one-off invoice: half refunded, half credited to the balance
    cn_cus = stripe.Customer.create(email="cn@example.com", payment_method="pm_card_visa",
                                    invoice_settings={"default_payment_method": "pm_card_visa"})
    stripe.InvoiceItem.create(customer=cn_cus.id, amount=4000, currency="usd", description="Py item")
    inv = stripe.Invoice.create(customer=cn_cus.id, pending_invoice_items_behavior="include")
    inv = stripe.Invoice.pay(stripe.Invoice.finalize_invoice(inv.id).id)
    cn = stripe.CreditNote.create(invoice=inv.id, amount=1000, refund_amount=500, credit_amount=500,
                                  reason="order_change")
    check("credit note on a paid invoice", cn.type == "post_payment" and cn.amount == 1000 and cn.refund
          and stripe.Customer.retrieve(cn_cus.id).balance == -500, (cn.type, cn.amount, cn.refund))

    # the legacy Plans API, as older Python billing code still calls it
    plan = stripe.Plan.create(id="py-gold-%s" % uuid.uuid4().hex[:8], amount=1500, currency="usd",
                              interval="month", product={"name": "Py Gold"}, trial_period_days=7)
    check("plan create with an id of our own", plan.object == "plan" and plan.amount == 1500
          and plan.trial_period_days == 7 and stripe.Price.retrieve(plan.id).recurring.interval == "month", plan.id)
    check("plan list by product", [x.id for x in stripe.Plan.list(product=plan.product).data] == [plan.id])
    check("plan delete", stripe.Plan.delete(plan.id).deleted is True)
    # a top-up, settled by the scheduler a moment later
    tu = stripe.Topup.create(amount=2500, currency="usd", description="Py funding", source="btok_us_verified")
    deadline = time.time() + 20
    while time.time() < deadline and tu.status == "pending":
        time.sleep(0.3)
        tu = stripe.Topup.retrieve(tu.id)
    check("top-up succeeds", tu.status == "succeeded" and tu.balance_transaction, tu.status)
    # search by a charge's card details and invoices by status
    found = stripe.Charge.search(query="payment_method_details.card.brand:'visa' AND amount:%d" % pi.amount)
    check("charge search by card brand", any(c.payment_intent == pi.id for c in found.data), len(found.data))
    found = stripe.Invoice.search(query="customer:'%s' AND status:'paid'" % cn_cus.id)
    check("invoice search", [x.id for x in found.data] == [inv.id], [x.id for x in found.data])
    # a tax rate on a one-off invoice: 8.25 % exclusive, kept exact
    txr = stripe.TaxRate.create(display_name="Sales tax", percentage=8.25, inclusive=False, country="US")
    tcus = stripe.Customer.create(payment_method="pm_card_visa", invoice_settings={"default_payment_method": "pm_card_visa"})
    tinv = stripe.Invoice.create(customer=tcus.id, default_tax_rates=[txr.id])
    stripe.InvoiceItem.create(customer=tcus.id, invoice=tinv.id, amount=10000, currency="usd")
    tinv = stripe.Invoice.finalize_invoice(tinv.id)
    check("tax rate on an invoice", txr.percentage == 8.25 and tinv.total == 10825 and tinv.amount_due == 10825,
          (txr.percentage, tinv.total))
    # a shipping rate
    shr = stripe.ShippingRate.create(display_name="Ground", type="fixed_amount",
                                     fixed_amount={"amount": 500, "currency": "usd"})
    check("shipping rate", shr.fixed_amount.amount == 500 and stripe.ShippingRate.retrieve(shr.id).active, shr.id)
    # an ephemeral key for a customer, as a mobile backend makes one
    ek = stripe.EphemeralKey.create(customer=tcus.id, stripe_version="2024-06-20")
    check("ephemeral key", ek.secret.startswith("ek_test_") and ek.associated_objects[0].id == tcus.id, ek.id)
    # a balance report, computed by the scheduler and downloadable as CSV
    run = stripe.reporting.ReportRun.create(report_type="balance.summary.1")
    deadline = time.time() + 30
    while time.time() < deadline and run.status == "pending":
        time.sleep(0.5)
        run = stripe.reporting.ReportRun.retrieve(run.id)
    check("report run", run.status == "succeeded" and run.result and run.result.purpose == "finance_report_run",
          run.status)
    # the Sources API: a card source attached by Customer.create(source=…) and charged
    src = stripe.Source.create(type="card", token="tok_visa")
    scus = stripe.Customer.create(source=src.id)
    sch = stripe.Charge.create(amount=1100, currency="usd", customer=scus.id)
    check("card source attached and charged", src.status == "chargeable" and scus.default_source == src.id
          and sch.status == "succeeded" and sch.source.id == src.id, (src.status, scus.default_source))
    # Terminal: a simulated reader pays a PaymentIntent with a presented card
    loc = stripe.terminal.Location.create(display_name="Py shop", address={
        "line1": "1 Main St", "city": "San Francisco", "state": "CA", "postal_code": "94111", "country": "US"})
    rdr = stripe.terminal.Reader.create(registration_code="simulated-wpe", location=loc.id)
    tpi = stripe.PaymentIntent.create(amount=1300, currency="usd", payment_method_types=["card_present"])
    stripe.terminal.Reader.process_payment_intent(rdr.id, payment_intent=tpi.id)
    rdr = stripe.terminal.Reader.TestHelpers.present_payment_method(rdr.id)
    tpi = stripe.PaymentIntent.retrieve(tpi.id)
    check("terminal reader payment", rdr.action.status == "succeeded" and tpi.status == "succeeded",
          (rdr.action.status, tpi.status))
    # Identity: a session made, listed and canceled
    vs = stripe.identity.VerificationSession.create(type="document", metadata={"user": "py"})
    vs_list = stripe.identity.VerificationSession.list(limit=5)
    vs = stripe.identity.VerificationSession.cancel(vs.id)
    check("identity session", vs.status == "canceled" and any(x.id == vs.id for x in vs_list.data)
          and vs.metadata["user"] == "py", vs.status)
    # Financial Connections: a session for a customer
    fcs = stripe.financial_connections.Session.create(
        account_holder={"type": "customer", "customer": scus.id}, permissions=["payment_method", "balances"])
    check("financial connections session", fcs.id.startswith("fcsess_") and fcs.client_secret
          and list(fcs.permissions) == ["payment_method", "balances"], fcs.id)
    # The webhook for the first payment, verified as a Python merchant verifies it.
    deadline = time.time() + 20
    event = None
    with delivered:
        while time.time() < deadline and event is None:
            for body, sig in deliveries:
                ev = stripe.Webhook.construct_event(body.decode("utf-8"), sig, we.secret)
                if ev.data.object.id == pi.id:
                    event = ev
            if event is None:
                delivered.wait(0.5)
    check("webhook delivered, signature verified", event is not None and event.type == "payment_intent.succeeded",
          len(deliveries))
    if deliveries:
        body, sig = deliveries[0]
        raises("a tampered webhook fails verification", stripe.error.SignatureVerificationError,
               lambda: stripe.Webhook.construct_event(body.decode("utf-8").replace("usd", "eur"), sig, we.secret))
except Exception as e:  # an unexpected failure is reported as one more failed check
    check("unexpected exception", False, (type(e).__name__, str(e)))
finally:
    hook.shutdown()

for r in results:
    print(json.dumps(r))
sys.exit(0 if all(r["ok"] for r in results) else 1)
