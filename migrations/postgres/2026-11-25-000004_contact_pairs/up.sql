-- One invitation or contact per pair, whichever of the two asked.
CREATE UNIQUE INDEX contacts_pair ON contacts (LEAST(requester_id, addressee_id), GREATEST(requester_id, addressee_id));
