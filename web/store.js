// The client's state and the rules that apply server frames to it. Views
// read from here and re-render on "change"; nothing here touches the DOM.
// Messages are kept by id, so a push, a history page and a sync result
// that repeat one another leave one copy. The messages held of a
// conversation are one unbroken stretch of its history, except after a
// page read around an older message (a search result): then a gap follows
// the stretch (`gaps`), until pages of newer messages close it; live
// messages held beyond the gap wait there.

/** @typedef {import("./types.js").User} User */
/** @typedef {import("./types.js").Summary} Summary */
/** @typedef {import("./types.js").Conversation} Conversation */
/** @typedef {import("./types.js").Message} Message */
/** @typedef {import("./types.js").Contact} Contact */
/** @typedef {import("./types.js").Status} Status */
/** @typedef {import("./types.js").Snapshot} Snapshot */
/** @typedef {import("./types.js").Delivery} Delivery */
/** @typedef {import("./types.js").JoinRequest} JoinRequest */
/** @typedef {import("./socket.js").ConnectionState} ConnectionState */

/**
 * @typedef {object} Outgoing a message sent but not yet confirmed
 * @property {string} id the request id (the message's future client_id)
 * @property {string} conversation
 * @property {string} body
 * @property {string | null} reply_to
 * @property {import("./types.js").Media[]} attachments uploads it carries (with their alt text)
 * @property {string} created_at
 * @property {boolean} failed
 */

/** How long a typing notice shows without a newer one, in ms. */
const TYPING_LAPSE_MS = 6000;

/** @param {string | null} a @param {string | null} b */
function maxId(a, b) {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}

export class Store extends EventTarget {
  constructor() {
    super();
    /** @type {User | null} */
    this.me = null;
    /** @type {Status} */
    this.status = "online";
    /** @type {Map<string, Summary>} */
    this.summaries = new Map();
    /** @type {Map<string, Map<string, Message>>} conversation id -> message id -> message */
    this.messages = new Map();
    /** @type {Map<string, Message[]>} conversation id -> its messages sorted by id, kept in step with `messages` */
    this.sorted = new Map();
    /** @type {Map<string, import("./types.js").Pin[]>} group id -> its pinned messages, once loaded */
    this.pins = new Map();
    /** @type {Map<string, Map<string, string>>} conversation id -> user id -> how far they have read (read receipts) */
    this.readBy = new Map();
    /** @type {Map<string, boolean>} whether older history exists, per loaded conversation */
    this.older = new Map();
    /** @type {Map<string, string>} conversation id -> newest message of the unbroken stretch held, when newer ones are missing after it */
    this.gaps = new Map();
    /** @type {Map<string, User>} */
    this.users = new Map();
    /** @type {Map<string, Contact>} */
    this.contacts = new Map();
    /** @type {Set<string>} */
    this.blocks = new Set();
    /** @type {Map<string, Status>} */
    this.presence = new Map();
    /** Whether `presence` is current: false while offline, until `status.get` answers after the reconnect. */
    this.presenceKnown = false;
    /** @type {Map<string, Map<string, number>>} conversation -> user -> lapse time */
    this.typing = new Map();
    /** @type {Map<string, Outgoing>} */
    this.outbox = new Map();
    /** @type {Map<string, Delivery[]>} */
    this.deliveries = new Map();
    /** @type {Map<string, Map<string, JoinRequest>>} group id -> requester id -> open request, for groups whose requests were loaded or pushed */
    this.joinRequests = new Map();
    /** @type {Map<string, {state: "requested" | "declined", name: string}>} group URL -> this user's own request to join it */
    this.joins = new Map();
    /** @type {string | null} */
    this.current = null;
    /** @type {ConnectionState} */
    this.connection = "connecting";
    /** The newest message id this client has seen live; catch-up starts after it. */
    /** @type {string | null} */
    this.lastSeen = null;
  }

  /** @param {string} what */
  changed(what) {
    this.dispatchEvent(new CustomEvent("change", { detail: what }));
  }

  /**
   * @param {Snapshot} snapshot
   * @param {boolean} reconnected on a reconnect, `lastSeen` waits for the sync
   */
  applySnapshot(snapshot, reconnected) {
    this.me = snapshot.user;
    this.users.set(snapshot.user.id, snapshot.user);
    this.status = snapshot.status;
    this.summaries = new Map(snapshot.conversations.map((s) => [s.conversation.id, s]));
    this.contacts = new Map(snapshot.contacts.map((c) => [c.user, c]));
    this.blocks = new Set(snapshot.blocks);
    for (const id of this.messages.keys()) {
      if (!this.summaries.has(id)) this.forget(id);
    }
    if (!reconnected) {
      for (const s of snapshot.conversations) {
        if (s.last_message) this.lastSeen = maxId(this.lastSeen, s.last_message.id);
      }
    }
    if (this.current && !this.summaries.has(this.current)) this.current = null;
    this.changed("all");
  }

  /** @param {string} conversation */
  forget(conversation) {
    this.dropHistory(conversation);
    this.typing.delete(conversation);
  }

  /**
   * Drops the messages held of a conversation (to load its newest again).
   * @param {string} conversation
   */
  dropHistory(conversation) {
    this.messages.delete(conversation);
    this.sorted.delete(conversation);
    this.older.delete(conversation);
    this.gaps.delete(conversation);
  }

  /** @param {string} conversation */
  messagesOf(conversation) {
    let map = this.messages.get(conversation);
    if (!map) {
      map = new Map();
      this.messages.set(conversation, map);
    }
    return map;
  }

  /**
   * Messages of a conversation, oldest first. The array is shared and
   * kept up to date by the store: callers must not change it.
   * @param {string} conversation
   * @returns {readonly Message[]}
   */
  sortedMessages(conversation) {
    let sorted = this.sorted.get(conversation);
    if (!sorted) {
      sorted = [...(this.messages.get(conversation)?.values() || [])].sort((a, b) => (a.id < b.id ? -1 : 1));
      this.sorted.set(conversation, sorted);
    }
    return sorted;
  }

  /**
   * The unbroken stretch of a conversation's history held, oldest first:
   * `sortedMessages`, less what lies beyond a gap. Shared while there is
   * no gap; callers must not change it.
   * @param {string} conversation
   * @returns {readonly Message[]}
   */
  stretch(conversation) {
    const all = this.sortedMessages(conversation);
    const gap = this.gaps.get(conversation);
    if (!gap) return all;
    let end = all.length;
    while (end > 0 && all[end - 1].id > gap) end--;
    return all.slice(0, end);
  }

  /**
   * Puts one message into the sorted list of its conversation, if that
   * list was built: in place, without sorting again (a push is nearly
   * always the newest, so this is usually an append).
   * @param {Message} message
   */
  placeSorted(message) {
    const sorted = this.sorted.get(message.conversation);
    if (!sorted) return;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].id < message.id) lo = mid + 1;
      else hi = mid;
    }
    if (sorted[lo]?.id === message.id) sorted[lo] = message;
    else sorted.splice(lo, 0, message);
  }

  /**
   * Stores a message from a push, a reply, a history page or a sync.
   * @param {Message} message
   * @param {{live?: boolean}} [how] live: a push or sync result (moves `lastSeen`)
   */
  putMessage(message, how = {}) {
    const map = this.messagesOf(message.conversation);
    const isNew = !map.has(message.id);
    map.set(message.id, message);
    this.placeSorted(message);
    if (message.client_id) this.outbox.delete(message.client_id);
    if (how.live) this.lastSeen = maxId(this.lastSeen, message.id);
    const summary = this.summaries.get(message.conversation);
    if (summary) {
      const last = summary.last_message;
      // Only a message newer than the newest the summary knows can add to
      // its unread count: older ones are already counted by the server's
      // snapshot, which a push or a sync result may repeat.
      const newest = !last || message.id > last.id;
      if (!last || last.id <= message.id) {
        summary.last_message = message;
        summary.conversation.last_message_id = message.id;
      }
      const byOther = message.author !== this.me?.id;
      const afterMarker = !summary.last_read || message.id > summary.last_read;
      if (how.live && isNew && newest && byOther && afterMarker && !message.deleted) {
        summary.unread += 1;
      }
      if (message.author) this.typing.get(message.conversation)?.delete(message.author);
    }
    this.changed(`messages:${message.conversation}`);
    return isNew;
  }

  /**
   * The other members' read markers (a `conversation.read_by` reply).
   * @param {{conversation: string, readers: {user: string, message: string}[]}} list
   */
  putReadBy(list) {
    this.readBy.set(list.conversation, new Map(list.readers.map((r) => [r.user, r.message])));
    this.changed(`messages:${list.conversation}`);
  }

  /**
   * One member's read marker moved (a `conversation.read_by` push).
   * @param {{conversation: string, user: string, message: string}} receipt
   */
  putReadReceipt(receipt) {
    const map = this.readBy.get(receipt.conversation) || new Map();
    map.set(receipt.user, receipt.message);
    this.readBy.set(receipt.conversation, map);
    this.changed(`messages:${receipt.conversation}`);
  }

  /**
   * The users whose read marker is `message`, sorted.
   * @param {string} conversation
   * @param {string} message
   */
  readersAt(conversation, message) {
    const map = this.readBy.get(conversation);
    return map ? [...map].filter(([, m]) => m === message).map(([u]) => u).sort() : [];
  }

  /**
   * A group's pinned messages (a `conversation.pins` push or a reply).
   * @param {{conversation: string, pins: import("./types.js").Pin[]}} list
   */
  putPins(list) {
    this.pins.set(list.conversation, list.pins);
    this.changed("pins");
  }

  /**
   * `message` with the reactions of the copy held, if any (for pushes that
   * do not carry them).
   * @param {Message} message
   * @returns {Message}
   */
  withReactions(message) {
    const held = this.messages.get(message.conversation)?.get(message.id);
    const kept = { ...message };
    if (held?.reactions) kept.reactions = held.reactions;
    // An edit keeps the preview of the original link.
    if (held?.preview) kept.preview = held.preview;
    return kept;
  }

  /**
   * A message's link preview is ready (a `message.preview` push).
   * @param {{message: string, conversation: string, preview: import("./types.js").LinkPreview}} change
   */
  putPreview(change) {
    const map = this.messages.get(change.conversation);
    const held = map?.get(change.message);
    if (!map || !held) return;
    const message = { ...held, preview: change.preview };
    map.set(change.message, message);
    this.placeSorted(message);
    this.changed(`messages:${change.conversation}`);
  }

  /**
   * A message's new reactions (a `message.reactions` push or the result
   * of reacting): the held copy is replaced, so only its row is redrawn.
   * @param {{message: string, conversation: string, reactions: import("./types.js").Reaction[]}} change
   */
  putReactions(change) {
    const map = this.messages.get(change.conversation);
    const held = map?.get(change.message);
    if (!map || !held) return;
    const message = { ...held, reactions: change.reactions };
    map.set(change.message, message);
    this.placeSorted(message);
    const summary = this.summaries.get(change.conversation);
    if (summary?.last_message?.id === change.message) summary.last_message = message;
    this.changed(`messages:${change.conversation}`);
  }

  /**
   * @param {string} conversation
   * @param {import("./types.js").MessagePage} page
   * @param {boolean} older whether the page was asked for with `before`
   */
  putPage(conversation, page, older) {
    const map = this.messagesOf(conversation);
    for (const m of page.messages) map.set(m.id, m);
    this.sorted.delete(conversation);
    if (older || !this.older.has(conversation)) this.older.set(conversation, page.more);
    this.changed(`messages:${conversation}`);
  }

  /**
   * A page read around a message not in the stretch held. A page that
   * reaches the stretch joins it. Otherwise it becomes the stretch:
   * messages held older than it are dropped (what lies between is
   * unknown), newer ones stay beyond the gap that follows it, if newer
   * messages exist.
   * @param {string} conversation
   * @param {import("./types.js").MessagePage} page
   */
  putAround(conversation, page) {
    const first = page.messages[0]?.id;
    const last = page.messages.at(-1)?.id;
    if (!first || !last) return;
    const stretch = this.stretch(conversation);
    const start = stretch[0]?.id;
    const end = stretch.at(-1)?.id;
    const map = this.messagesOf(conversation);
    const gap = this.gaps.get(conversation);
    if (start && end && start <= last && first <= end) {
      if (first < start) this.older.set(conversation, !!page.older);
      if (gap && last > gap) {
        if (page.newer) this.gaps.set(conversation, last);
        else this.gaps.delete(conversation);
      }
    } else {
      for (const id of [...map.keys()]) if (id < first) map.delete(id);
      this.older.set(conversation, !!page.older);
      if (page.newer) this.gaps.set(conversation, last);
      else this.gaps.delete(conversation);
    }
    for (const m of page.messages) map.set(m.id, m);
    this.sorted.delete(conversation);
    this.changed(`messages:${conversation}`);
  }

  /**
   * A page read `after` the gap: the stretch grows, and the gap closes
   * when no newer messages are left.
   * @param {string} conversation
   * @param {import("./types.js").MessagePage} page
   */
  putNewer(conversation, page) {
    const map = this.messagesOf(conversation);
    for (const m of page.messages) map.set(m.id, m);
    this.sorted.delete(conversation);
    const last = page.messages.at(-1)?.id;
    if (!page.more) this.gaps.delete(conversation);
    else if (last) this.gaps.set(conversation, last);
    this.changed(`messages:${conversation}`);
  }

  /** @param {Conversation} conversation */
  putConversation(conversation) {
    const summary = this.summaries.get(conversation.id);
    const me = this.me?.id;
    const rights = conversation.members.find((m) => m.user === me)?.rights || "read";
    if (summary) {
      // Keep our own view of the newest message (it may leave out blocked authors).
      const lastId = summary.conversation.last_message_id;
      summary.conversation = { ...conversation, last_message_id: lastId };
      summary.rights = rights;
    } else {
      this.summaries.set(conversation.id, {
        conversation,
        rights,
        unread: 0,
        last_read: null,
        muted: false,
        last_message: null,
        join_requests: 0,
      });
    }
    this.changed("conversations");
  }

  /**
   * How many requests to join a group wait for its admins.
   * @param {string} conversation
   * @param {number} count
   */
  setJoinCount(conversation, count) {
    const summary = this.summaries.get(conversation);
    if (!summary || summary.join_requests === count) return;
    summary.join_requests = count;
    this.changed("conversations");
  }

  /** @param {string} conversation */
  dropConversation(conversation) {
    this.summaries.delete(conversation);
    this.forget(conversation);
    this.joinRequests.delete(conversation);
    this.pins.delete(conversation);
    if (this.current === conversation) this.current = null;
    this.changed("all");
  }

  /** @param {{conversation: string, message: string, unread: number}} read */
  putRead(read) {
    const summary = this.summaries.get(read.conversation);
    if (!summary) return;
    summary.last_read = maxId(summary.last_read, read.message);
    summary.unread = read.unread;
    this.changed("conversations");
  }

  /**
   * Replaces the open requests to join a group.
   * @param {string} conversation
   * @param {JoinRequest[]} requests
   */
  setJoinRequests(conversation, requests) {
    this.joinRequests.set(conversation, new Map(requests.map((r) => [r.user, r])));
    this.changed("join-requests");
  }

  /** @param {JoinRequest} request */
  putJoinRequest(request) {
    let map = this.joinRequests.get(request.conversation);
    if (!map) {
      map = new Map();
      this.joinRequests.set(request.conversation, map);
    }
    map.set(request.user, request);
    this.changed("join-requests");
  }

  /** @param {string} conversation @param {string} user */
  dropJoinRequest(conversation, user) {
    if (this.joinRequests.get(conversation)?.delete(user)) this.changed("join-requests");
  }

  /**
   * Open requests to join a group, oldest first.
   * @param {string} conversation
   */
  joinRequestsOf(conversation) {
    return [...(this.joinRequests.get(conversation)?.values() || [])].sort((a, b) => (a.requested_at < b.requested_at ? -1 : 1));
  }

  /**
   * Notes what became of this user's request to join the group at `group`.
   * @param {string} group the group's URL
   * @param {"requested" | "declined"} state
   * @param {string} [name] the group's name, when known
   */
  putJoin(group, state, name) {
    this.joins.set(group, { state, name: name || this.joins.get(group)?.name || "" });
    this.changed("joins");
  }

  /**
   * Replaces the waiting requests with the server's list (notices of
   * declined requests stay until dismissed).
   * @param {import("./types.js").SentJoinRequest[]} sent
   */
  setSentJoins(sent) {
    for (const [group, join] of this.joins) if (join.state === "requested") this.joins.delete(group);
    for (const r of sent) this.joins.set(r.group, { state: "requested", name: r.name });
    this.changed("joins");
  }

  /** @param {string} group */
  dropJoin(group) {
    if (this.joins.delete(group)) this.changed("joins");
  }

  /**
   * The conversation mirroring the group at URL `group`, if the user is in it.
   * @param {string} group
   */
  mirrorOf(group) {
    for (const s of this.summaries.values()) if (s.conversation.hosted_by === group) return s;
    return null;
  }

  /** @param {Contact} contact */
  putContact(contact) {
    if (contact.state === "none") this.contacts.delete(contact.user);
    else this.contacts.set(contact.user, contact);
    this.changed("contacts");
  }

  /** @param {string} user @param {boolean} blocked */
  putBlock(user, blocked) {
    if (blocked) this.blocks.add(user);
    else this.blocks.delete(user);
    this.changed("contacts");
  }

  /**
   * Follows the connection. While offline nobody's presence or typing can
   * be known (no push arrives, not even the end of a typing notice).
   * @param {ConnectionState} state
   */
  setConnection(state) {
    this.connection = state;
    if (state !== "online") {
      this.presenceKnown = false;
      this.typing.clear();
    }
    this.changed("connection");
  }

  /**
   * Replaces the contacts' presence with the answer of `status.get`.
   * @param {{user: string, status: Status}[]} contacts
   */
  setPresence(contacts) {
    this.presence = new Map(contacts.map((c) => [c.user, c.status]));
    this.presenceKnown = true;
    this.changed("presence");
  }

  /**
   * A user's presence as the client may show it: `unknown` while offline
   * (or until it was asked again after a reconnect), `offline` for a
   * blocked user.
   * @param {string} user
   * @returns {Status | "offline" | "unknown"}
   */
  presenceOf(user) {
    if (this.blocks.has(user)) return "offline";
    if (this.connection !== "online" || !this.presenceKnown) return "unknown";
    return this.presence.get(user) || "offline";
  }

  /** @param {string} user @param {Status} status */
  putStatus(user, status) {
    this.presence.set(user, status);
    this.changed("presence");
  }

  /** @param {{conversation: string, user: string, typing: boolean}} notice */
  putTyping(notice) {
    let map = this.typing.get(notice.conversation);
    if (!map) {
      map = new Map();
      this.typing.set(notice.conversation, map);
    }
    if (notice.typing) map.set(notice.user, Date.now() + TYPING_LAPSE_MS);
    else map.delete(notice.user);
    this.changed(`typing:${notice.conversation}`);
  }

  /**
   * Users typing in a conversation now.
   * @param {string} conversation
   */
  typists(conversation) {
    const now = Date.now();
    return [...(this.typing.get(conversation) || [])].filter(([, until]) => until > now).map(([user]) => user);
  }

  /**
   * When the first typing notice of a conversation lapses, if any shows.
   * @param {string} conversation
   * @returns {number | null} a time in ms since the epoch
   */
  nextTypingLapse(conversation) {
    const now = Date.now();
    const times = [...(this.typing.get(conversation)?.values() || [])].filter((until) => until > now);
    return times.length ? Math.min(...times) : null;
  }

  /** @param {User} user */
  putUser(user) {
    this.users.set(user.id, user);
    if (this.me && user.id === this.me.id) this.me = user;
    this.changed("users");
  }

  /** Conversations by activity, most recent first. */
  sortedSummaries() {
    /** @param {Summary} s */
    const activity = (s) => {
      const last = s.last_message ? s.last_message.created_at : "";
      return last > s.conversation.updated_at ? last : s.conversation.updated_at;
    };
    return [...this.summaries.values()].sort((a, b) => (activity(a) < activity(b) ? 1 : -1));
  }

  /** The other user of a direct conversation. */
  /** @param {Conversation} conversation */
  peer(conversation) {
    if (conversation.kind !== "direct") return null;
    return conversation.members.find((m) => m.user !== this.me?.id)?.user || null;
  }

  totalUnread() {
    let n = 0;
    for (const s of this.summaries.values()) if (!s.muted) n += s.unread;
    return n;
  }
}
