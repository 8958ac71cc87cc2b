DROP INDEX contacts_pair;
