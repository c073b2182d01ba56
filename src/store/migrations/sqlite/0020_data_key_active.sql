-- The vault looks up its shard's active data key on every card it stores ("state = 'active'
-- ORDER BY created DESC, id DESC LIMIT 1"). Without an index SQLite scanned the table and sorted
-- it in a temporary b-tree, which costs the creation of that b-tree (~28 K instructions, a fifth
-- of the writer's work for a tokenization, issue 10) however few keys there are. With this
-- index it reads one entry, walking it backwards.
CREATE INDEX vault_data_keys_active ON vault_data_keys (state, created, id);
