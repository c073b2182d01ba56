-- A collect_inputs action's outcomes (api/terminal_readers.c), rendered when the action is set,
-- for the test helper that completes it on a simulated reader: action_collected, its inputs with
-- every value collected; action_skipped, the same with every optional input skipped. NULL for
-- every other action.
ALTER TABLE terminal_readers ADD COLUMN action_collected TEXT;
ALTER TABLE terminal_readers ADD COLUMN action_skipped TEXT;
