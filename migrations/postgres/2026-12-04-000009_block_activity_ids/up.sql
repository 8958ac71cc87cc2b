-- The ActivityPub id of the Block a local user last sent for this block,
-- so that an Undo names the Block it undoes (each Block has a fresh id, so
-- blocking again after an unblock is a new activity). NULL: not sent.
ALTER TABLE blocks ADD COLUMN activity_id TEXT;
