-- PostgreSQL port of migrations/sqlite/0082_entitlements.sql.
-- Entitlements (api/entitlements.c, billing/entitlements.c): the merchant's features, the
-- features attached to its products, and each customer's active entitlements (one row per
-- customer and feature, kept equal to what its active or trialing subscriptions' products give,
-- in the same write as every change of those). A feature is never deleted (archived:
-- active = 0); its lookup_key is unique among the merchant's active features. Lists page by id.
CREATE TABLE entitlement_features (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  name TEXT NOT NULL,
  lookup_key TEXT NOT NULL,
  active BIGINT NOT NULL DEFAULT 1,
  metadata TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (merchant_id, id)
);
CREATE UNIQUE INDEX entitlement_features_lookup_key
  ON entitlement_features (merchant_id, lookup_key) WHERE active = 1;
CREATE TABLE product_features (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  product TEXT NOT NULL,
  feature TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);
CREATE UNIQUE INDEX product_features_pair ON product_features (merchant_id, product, feature);
CREATE INDEX product_features_product ON product_features (merchant_id, product, id);
CREATE TABLE active_entitlements (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  customer TEXT NOT NULL,
  feature TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);
CREATE UNIQUE INDEX active_entitlements_pair ON active_entitlements (merchant_id, customer, feature);
CREATE INDEX active_entitlements_customer ON active_entitlements (merchant_id, customer, id);
