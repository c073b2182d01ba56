-- A connected account its platform rejected (POST /v1/accounts/{id}/reject): the reason
-- (fraud, terms_of_service or other), NULL while it is not rejected. Final: Tender follows an
-- API version without unreject.
ALTER TABLE connected_accounts ADD COLUMN rejected TEXT;
