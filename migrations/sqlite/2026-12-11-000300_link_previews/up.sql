-- The preview of the first link of a message: what the page says about
-- itself (OpenGraph, Twitter card, <title>, meta description), as plain
-- text, and its image kept as a media item (shared by every message that
-- links the same page while the page is cached). Gone with the message;
-- an image no preview uses any more is swept with the orphaned media.
CREATE TABLE link_previews (
    message_id BLOB PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    title TEXT,
    description TEXT,
    site_name TEXT,
    image_id BLOB REFERENCES media (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX link_previews_image ON link_previews (image_id);
