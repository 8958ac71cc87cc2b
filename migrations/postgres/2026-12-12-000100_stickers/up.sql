-- Sticker packs that admins make, and their stickers: a shortcode, an
-- optional emoji and an image kept as a media item of no user. Neither is
-- ever deleted, only marked: messages already sent keep showing a removed
-- sticker, and its media is never swept as an orphan.
CREATE TABLE sticker_packs (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);

CREATE TABLE stickers (
    id UUID PRIMARY KEY,
    pack_id UUID NOT NULL REFERENCES sticker_packs (id),
    shortcode TEXT NOT NULL,
    emoji TEXT,
    media_id UUID NOT NULL REFERENCES media (id),
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
-- A shortcode names one sticker of a pack at a time.
CREATE UNIQUE INDEX stickers_pack_shortcode ON stickers (pack_id, shortcode)
    WHERE deleted_at IS NULL;
CREATE INDEX stickers_media ON stickers (media_id);

-- Messages get the kind `sticker` and the sticker they show.
ALTER TABLE messages DROP CONSTRAINT messages_kind_check;
ALTER TABLE messages ADD CONSTRAINT messages_kind_check
    CHECK (kind IN ('text', 'game_invite', 'sticker', 'system'));
ALTER TABLE messages ADD COLUMN sticker_id UUID REFERENCES stickers (id);
