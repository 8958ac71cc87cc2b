// Shapes of the objects the server sends (docs/protocol.md, docs/api.md),
// as JSDoc types for `tsc --checkJs`. This module has no code.

/** @typedef {"read" | "write" | "admin" | "owner"} Rights */
/** @typedef {"online" | "away" | "offline"} Status */

/**
 * @typedef {object} User
 * @property {string} id
 * @property {string} name
 * @property {string} display_name
 * @property {string} bio
 * @property {string | null} avatar_url
 * @property {{name: string, url: string}[]} profile_links
 * @property {string} role
 * @property {string | null} [domain]
 */

/**
 * @typedef {object} Member
 * @property {string} user
 * @property {Rights} rights
 * @property {string} joined_at
 */

/**
 * @typedef {object} Conversation
 * @property {string} id
 * @property {"direct" | "group"} kind
 * @property {string | null} name
 * @property {string} topic
 * @property {string | null} avatar_url
 * @property {string | null} creator
 * @property {Member[]} members
 * @property {boolean} read_only
 * @property {string | null} last_message_id
 * @property {string | null} [hosted_by]
 * @property {string} created_at
 * @property {string} updated_at
 */

/**
 * @typedef {object} GameInvite
 * @property {string} game
 * @property {object | null} settings
 * @property {"pending" | "accepted" | "declined" | "expired"} state
 * @property {string | null} invitee
 * @property {string | null} answered_by
 * @property {string} expires_at
 */

/**
 * @typedef {object} Message
 * @property {string} id
 * @property {string} conversation
 * @property {string | null} author
 * @property {"text" | "game_invite" | "sticker" | "system"} kind
 * @property {string} body
 * @property {string | null} reply_to
 * @property {GameInvite | null} game
 * @property {string | null} client_id
 * @property {string} created_at
 * @property {string | null} edited_at
 * @property {boolean} deleted
 * @property {Reaction[]} [reactions] left out when there are none
 * @property {string[]} [mentions] ids of the members it mentions; left out when none
 * @property {Media[]} [attachments] the media it carries, in the order sent; left out when none
 * @property {LinkPreview} [preview] the preview of its first link, once made
 * @property {Sticker} [sticker] a `sticker` message's sticker (not once deleted)
 */

/**
 * A sticker of a pack (`GET /api/v1/sticker-packs`, a `sticker` message).
 * @typedef {object} Sticker
 * @property {string} id
 * @property {string} pack
 * @property {string} shortcode
 * @property {string} [emoji]
 * @property {string} url a signed link to the image
 * @property {string} content_type
 * @property {number | null} width
 * @property {number | null} height
 */

/**
 * A sticker pack with its stickers.
 * @typedef {object} StickerPack
 * @property {string} id
 * @property {string} name
 * @property {string | null} description
 * @property {Sticker[]} stickers
 * @property {string} created_at
 */

/**
 * An uploaded file (`POST /api/v1/media`, and a message's `attachments`).
 * @typedef {object} Media
 * @property {string} id
 * @property {"image" | "video" | "audio" | "file"} kind
 * @property {string} content_type the sniffed type
 * @property {number} size_bytes
 * @property {number | null} [width] images only
 * @property {number | null} [height] images only
 * @property {string | null} [blurhash] images only
 * @property {string} url a signed link to the file
 * @property {string | null} [thumbnail_url] images only (not for remote ones)
 * @property {string | null} [alt_text] in a message's attachments, when given
 */

/**
 * The preview of a message's first link (plain text from the page).
 * @typedef {object} LinkPreview
 * @property {string} url
 * @property {string} [title]
 * @property {string} [description]
 * @property {string} [site_name]
 * @property {{url: string, thumbnail_url?: string}} [image]
 */

/**
 * A pinned message of a group.
 * @typedef {object} Pin
 * @property {Message} message
 * @property {string | null} pinned_by
 * @property {string} pinned_at
 */

/**
 * One emoji's reactions on a message, as this user sees them.
 * @typedef {object} Reaction
 * @property {string} emoji
 * @property {number} count
 * @property {boolean} me
 * @property {string[]} users the first few, oldest first
 */

/**
 * @typedef {object} Summary
 * @property {Conversation} conversation
 * @property {Rights} rights
 * @property {number} unread
 * @property {string | null} last_read
 * @property {boolean} muted
 * @property {Message | null} last_message
 * @property {number} join_requests open requests to join (for admins of a group hosted here)
 */

/**
 * @typedef {object} Contact
 * @property {string} user
 * @property {"pending_outgoing" | "pending_incoming" | "accepted" | "none"} state
 * @property {string} since
 */

/**
 * @typedef {object} Snapshot
 * @property {User} user
 * @property {Status} status
 * @property {Summary[]} conversations
 * @property {Contact[]} contacts
 * @property {string[]} blocks
 */

/**
 * @typedef {object} JoinRequest someone on another server asks to join a group hosted here
 * @property {string} conversation
 * @property {string} user
 * @property {string} requested_at
 */

/**
 * @typedef {object} SentJoinRequest this user's request to join a group on another server, waiting
 * @property {string} group the group's URL
 * @property {string} name the group's name when the request was sent
 * @property {string} requested_at
 */

/** @typedef {{messages: Message[], more: boolean, older?: boolean, newer?: boolean}} MessagePage older/newer: on pages read `around` a message */

/**
 * @typedef {object} Delivery
 * @property {string} recipient
 * @property {string} inbox
 * @property {"queued" | "delivered" | "retrying" | "failed"} state
 */

/** @typedef {"none" | "delete_message" | "block_instance" | "suspend_user"} ReportAction */

/**
 * @typedef {object} Report a report about a user or their messages
 * @property {string} id
 * @property {User | null} reporter the local reporter (null: received from another server)
 * @property {string | null} origin the remote actor that sent it, for a received report
 * @property {User | null} target the reported user
 * @property {string[]} message_ids
 * @property {string} comment
 * @property {boolean} forwarded
 * @property {"open" | "resolved"} state
 * @property {ReportAction | null} action
 * @property {string} created_at
 * @property {string | null} resolved_at
 */

/**
 * @typedef {object} ReportDetail a report with the reported messages, for moderators
 * @property {Report} report
 * @property {Message[]} messages
 * @property {string | null} note
 */

export {};
