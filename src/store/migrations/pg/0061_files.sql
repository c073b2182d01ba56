-- PostgreSQL port of migrations/sqlite/0066_files.sql.
-- Stripe's Files API (src/api/files.c): the uploaded bytes themselves live here, so that every
-- node of a PostgreSQL deployment serves them. `type` is what the content was sniffed as (pdf,
-- jpg, png, gif, svg, csv), never the client's claim. expires_at NULL: the purpose's files never
-- expire.
CREATE TABLE files (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  purpose TEXT NOT NULL,
  type TEXT NOT NULL,
  mime TEXT NOT NULL,
  filename TEXT,
  title TEXT,
  size BIGINT NOT NULL,
  expires_at BIGINT,
  content BYTEA NOT NULL,
  PRIMARY KEY (merchant_id, id)
);
CREATE INDEX files_purpose ON files (merchant_id, purpose, id);

-- File links: a public URL for one file. Only the SHA-256 of the link's random token is kept
-- (token_hash, hex); the public URL names the merchant, whose store it reads.
CREATE TABLE file_links (
  merchant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created BIGINT NOT NULL,
  file TEXT NOT NULL,
  expires_at BIGINT,
  metadata TEXT,
  token_hash TEXT NOT NULL,
  PRIMARY KEY (merchant_id, id)
);
CREATE UNIQUE INDEX file_links_token ON file_links (merchant_id, token_hash);
CREATE INDEX file_links_file ON file_links (merchant_id, file, id);
