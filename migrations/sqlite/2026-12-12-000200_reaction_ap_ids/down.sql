DROP INDEX reactions_ap_id;
ALTER TABLE reactions DROP COLUMN ap_id;
