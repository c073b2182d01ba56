-- A transfer's destination payment (py_…) is a Charge on the connected account (GET
-- /v1/charges/py_… with Stripe-Account, a transfer's expand[]=destination_payment), rendered
-- from the transfer row and the account's balance transaction rather than stored twice: this
-- finds the transfer from the payment's id in one index read instead of a scan of every
-- transfer the account received. Only transfers pay the insert, not other payments.
CREATE INDEX transfers_destination_payment ON transfers (merchant_id, destination_payment);
