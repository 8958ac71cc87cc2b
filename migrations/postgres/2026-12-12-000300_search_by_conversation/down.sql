DROP INDEX messages_conversation_gin;
DROP EXTENSION IF EXISTS btree_gin;
