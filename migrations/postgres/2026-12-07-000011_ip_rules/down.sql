DROP TABLE ip_rules;
UPDATE users SET role = 'user' WHERE role = 'moderator';
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('user', 'admin'));
