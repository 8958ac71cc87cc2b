DROP TABLE instance_settings;
DROP TABLE users;
