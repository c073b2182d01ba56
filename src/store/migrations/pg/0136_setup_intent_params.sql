-- PostgreSQL port of migrations/sqlite/0141_setup_intent_params.sql.
-- SetupIntents' flow_directions, attach_to_self, on_behalf_of and single_use (api/setup_intents.c),
-- NULL where the request gave none: flow_directions as a JSON array of "inbound" / "outbound";
-- attach_to_self 0 or 1; on_behalf_of a connected account of the merchant; single_use the
-- {"amount", "currency"} a bank debit's setup makes a single-use mandate for, instead of a
-- multi-use one, and single_use_mandate that mandate once made.
ALTER TABLE setup_intents ADD COLUMN flow_directions TEXT;
ALTER TABLE setup_intents ADD COLUMN attach_to_self BIGINT;
ALTER TABLE setup_intents ADD COLUMN on_behalf_of TEXT;
ALTER TABLE setup_intents ADD COLUMN single_use TEXT;
ALTER TABLE setup_intents ADD COLUMN single_use_mandate TEXT;
