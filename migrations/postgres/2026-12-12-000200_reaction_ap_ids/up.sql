-- The ActivityPub id of a reaction received from another server, so that
-- an `Undo` naming only that id can find it; local reactions have none
-- (their activity id is made from the message, user, emoji and time).
ALTER TABLE reactions ADD COLUMN ap_id TEXT;
CREATE INDEX reactions_ap_id ON reactions (ap_id);
