ALTER TABLE users DROP COLUMN share_presence_remote;
