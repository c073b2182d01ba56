-- A connected account its platform rejected (POST /v1/accounts/{id}/reject): the reason
-- (fraud_other, terms_of_service, …), NULL while it is not rejected (unreject clears it); and
-- whether the rejection paused its payouts (payouts_action=pause, the default: no payouts, its
-- schedule stops; none: they go on).
ALTER TABLE connected_accounts ADD COLUMN rejected TEXT;
ALTER TABLE connected_accounts ADD COLUMN payouts_paused INTEGER NOT NULL DEFAULT 0;
