-- One invitation or contact per pair, whichever of the two asked. Rows that
-- an earlier race created in both directions keep the accepted one (or the
-- older one).
DELETE FROM contacts a USING contacts b
WHERE a.requester_id = b.addressee_id AND a.addressee_id = b.requester_id
  AND (a.state > b.state OR (a.state = b.state AND a.created_at > b.created_at)
       OR (a.state = b.state AND a.created_at = b.created_at AND a.requester_id > b.requester_id));
CREATE UNIQUE INDEX contacts_pair ON contacts (LEAST(requester_id, addressee_id), GREATEST(requester_id, addressee_id));
