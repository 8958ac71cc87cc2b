-- One invitation or contact per pair, whichever of the two asked.
CREATE UNIQUE INDEX contacts_pair ON contacts (min(requester_id, addressee_id), max(requester_id, addressee_id));
