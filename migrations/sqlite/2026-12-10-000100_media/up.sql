-- Uploaded and received media. A local upload has an uploader and a
-- storage key (the object in the media store); a remote attachment has a
-- remote_url instead. Images also have their dimensions, a blurhash and a
-- thumbnail (stored under the key + ".thumb").
CREATE TABLE media (
    id BLOB PRIMARY KEY,
    uploader_id BLOB REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    width INTEGER,
    height INTEGER,
    blurhash TEXT,
    has_thumbnail BOOLEAN NOT NULL,
    storage_key TEXT,
    remote_url TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX media_uploader ON media (uploader_id);
CREATE INDEX media_created ON media (created_at);

-- Which message carries which media, in order, with alt text. A media item
-- is in at most one message (the primary key); gone with the message.
CREATE TABLE message_attachments (
    media_id BLOB PRIMARY KEY REFERENCES media (id) ON DELETE CASCADE,
    message_id BLOB NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    alt_text TEXT
);
CREATE INDEX message_attachments_message ON message_attachments (message_id, position);
