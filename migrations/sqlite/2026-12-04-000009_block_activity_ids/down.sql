ALTER TABLE blocks DROP COLUMN activity_id;
