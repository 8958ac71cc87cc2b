-- The members a message mentions: a JSON array of user ids (NULL: none).
ALTER TABLE messages ADD COLUMN mentions TEXT;
