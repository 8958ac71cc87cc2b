DROP TABLE blocks;
DROP TABLE contacts;
DROP TABLE messages;
DROP TABLE members;
DROP TABLE conversations;
