-- Customer portal deep links (api/billing_portal.c): a session's flow (flow_data as the session
-- renders it, JSON; NULL for a session that opens the portal's home page), and flow_done, set
-- in the write that completes the flow (the card made the default, the subscription canceled),
-- after which the session's page is the home page.
ALTER TABLE billing_portal_sessions ADD COLUMN flow TEXT;
ALTER TABLE billing_portal_sessions ADD COLUMN flow_done INTEGER NOT NULL DEFAULT 0;
