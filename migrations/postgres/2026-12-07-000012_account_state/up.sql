-- Account state checked on every token: a suspension (a suspended user
-- cannot log in and their tokens are refused) and the token generation,
-- carried by every token Confab issues (`gen`) and raised by a password
-- change or "log out other sessions", which makes older tokens invalid.
ALTER TABLE users ADD COLUMN suspended_at TIMESTAMP;
ALTER TABLE users ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0;
