// The signed-in client: one socket, the store, and every action the views
// can take. Applies the snapshot and pushes to the store, catches up after
// a reconnect with message.sync, resends unconfirmed messages under their
// original request ids (so the server stores each once), and fetches the
// users it has to name.

import * as api from "./api.js";
import { Socket, RequestError, newRequestId } from "./socket.js";
import { Store } from "./store.js";

/** @typedef {import("./types.js").Message} Message */
/** @typedef {import("./types.js").User} User */
/** @typedef {import("./types.js").Rights} Rights */
/** @typedef {import("./types.js").Summary} Summary */
/** @typedef {import("./types.js").JoinRequest} JoinRequest */

/**
 * News about joining groups, for the views to announce.
 * @typedef {{kind: "requested", request: JoinRequest} | {kind: "declined", group: string} | {kind: "joined", summary: Summary}} JoinNews
 */

/**
 * @typedef {object} ClientHooks
 * @property {(reason: string) => void} ended the session ended for good, with the server's reason (`account_suspended`, `token_revoked`, …)
 * @property {(token: string) => void} tokenChanged a fresh token replaced the old one (password change, other sessions logged out)
 * @property {(message: Message) => void} notify a new message by someone else
 * @property {(news: JoinNews) => void} joins a join request arrived or was answered
 * @property {(action: string) => void} reportResolved a moderator handled one of this user's reports
 */

export class Client {
  /**
   * @param {string} token
   * @param {ClientHooks} hooks
   */
  constructor(token, hooks) {
    this.token = token;
    this.hooks = hooks;
    this.store = new Store();
    /** @type {Map<string, Promise<User | null>>} */
    this.userLoads = new Map();
    this.socket = new Socket(token, {
      ready: (data, reconnected) => this.onReady(data, reconnected),
      push: (type, data) => this.onPush(type, data),
      state: (state) => this.store.setConnection(state),
      ended: (reason) => hooks.ended(reason),
      refusal: async () => {
        const token = this.token;
        try {
          await api.user(token, "me");
          return null;
        } catch (e) {
          // A fresh token arrived meanwhile (this tab changed the password).
          if (this.token !== token) return null;
          const refused = e instanceof api.ApiError && (e.status === 401 || e.code === "account_suspended");
          return refused ? e.code : null;
        }
      },
    });
  }

  start() {
    this.socket.start();
  }

  stop() {
    this.socket.stop();
  }

  /** Tries to reconnect at once instead of waiting for the next attempt. */
  retryNow() {
    this.socket.retryNow();
  }

  /**
   * @param {import("./types.js").Snapshot} snapshot
   * @param {boolean} reconnected
   */
  async onReady(snapshot, reconnected) {
    const store = this.store;
    store.applySnapshot(snapshot, reconnected);
    for (const s of snapshot.conversations) this.needUsers(s.conversation.members.map((m) => m.user));
    this.needUsers(snapshot.contacts.map((c) => c.user));
    this.needUsers(snapshot.blocks);
    this.settleJoins();
    this.socket
      .request("conversation.join_sent")
      .then((/** @type {import("./types.js").SentJoinRequest[]} */ sent) => {
        store.setSentJoins(sent);
        this.settleJoins();
      })
      .catch(() => {});
    try {
      if (reconnected) await this.catchUp();
      const status = await this.socket.request("status.get");
      store.setPresence(status.contacts);
      if (document.visibilityState === "hidden") this.setAway(true);
      await this.resendOutbox();
      if (reconnected) await this.reloadJoinRequests();
    } catch (e) {
      if (!(e instanceof RequestError && e.code === "disconnected")) console.error(e);
    }
  }

  /** Fetches every message created or changed since the newest one seen. */
  async catchUp() {
    let since = this.store.lastSeen;
    if (!since) {
      // Nothing seen yet to sync from: reload what is on screen instead.
      for (const conversation of [...this.store.older.keys()]) await this.loadHistory(conversation, false);
      return;
    }
    while (since) {
      const page = await this.socket.request("message.sync", { since });
      for (const m of page.messages) this.store.putMessage(m, { live: true });
      if (!page.more || page.messages.length === 0) break;
      since = page.messages[page.messages.length - 1].id;
    }
  }

  async resendOutbox() {
    for (const out of [...this.store.outbox.values()]) {
      await this.deliver(out.id);
    }
  }

  /**
   * @param {string} type
   * @param {any} data
   */
  onPush(type, data) {
    const store = this.store;
    switch (type) {
      case "message.created":
        if (data.author) this.needUsers([data.author]);
        if (data.kind === "system") this.needUsers([systemSubject(data.body)]);
        if (store.putMessage(data, { live: true }) && data.author !== store.me?.id) this.hooks.notify(data);
        break;
      case "message.updated":
        // Edits and answers leave reactions as they were (the push does not
        // carry them); a deletion drops them.
        store.putMessage(data.deleted ? data : store.withReactions(data), { live: true });
        break;
      case "conversation.pins":
        store.putPins(data);
        break;
      case "message.preview":
        store.putPreview(data);
        break;
      case "message.reactions":
        this.needUsers(data.reactions.flatMap((/** @type {{users: string[]}} */ r) => r.users));
        store.putReactions(data);
        break;
      case "message.read":
        store.putRead(data);
        break;
      case "conversation.read_by":
        store.putReadReceipt(data);
        break;
      case "conversation.created":
      case "conversation.updated":
        store.putConversation(data);
        this.needUsers(data.members.map((/** @type {{user: string}} */ m) => m.user));
        this.settleJoins();
        break;
      case "conversation.join_requested":
        store.putJoinRequest(data);
        this.loadUser(data.user).then(() => this.hooks.joins({ kind: "requested", request: data }));
        this.refreshJoinCount(data.conversation);
        break;
      case "conversation.join_resolved":
        store.dropJoinRequest(data.conversation, data.user);
        this.refreshJoinCount(data.conversation);
        break;
      case "conversation.join_declined":
        store.putJoin(data.group, "declined");
        this.hooks.joins({ kind: "declined", group: data.group });
        break;
      case "conversation.join_sent":
        if (!store.mirrorOf(data.group)) store.putJoin(data.group, "requested", data.name);
        break;
      case "conversation.join_cancelled":
        store.dropJoin(data.group);
        break;
      case "conversation.deleted":
      case "conversation.removed":
        store.dropConversation(data.conversation);
        break;
      case "contact.updated":
        this.needUsers([data.user]);
        store.putContact(data);
        break;
      case "contact.blocked":
        store.putBlock(data.user, data.blocked);
        break;
      case "status.changed":
        store.putStatus(data.user, data.status);
        break;
      case "typing":
        store.putTyping(data);
        break;
      case "report.resolved":
        this.hooks.reportResolved(data.action);
        break;
    }
  }

  /**
   * Loads unknown users (by id) in the background.
   * @param {(string | null | undefined)[]} ids
   */
  needUsers(ids) {
    for (const id of ids) {
      if (id && !this.store.users.has(id) && !this.userLoads.has(id)) this.loadUser(id);
    }
  }

  /**
   * @param {string} ref an id, name or handle
   * @returns {Promise<User | null>}
   */
  loadUser(ref) {
    const known = this.userLoads.get(ref);
    if (known) return known;
    const load = api
      .user(this.token, ref)
      .then((user) => {
        this.store.putUser(user);
        return user;
      })
      .catch(() => null);
    this.userLoads.set(ref, load);
    return load;
  }

  /**
   * Loads the newest page of a conversation, or the page before the oldest
   * message held.
   * @param {string} conversation
   * @param {boolean} older
   * @param {number} [limit] messages in the page (at most 100)
   */
  async loadHistory(conversation, older, limit = 50) {
    /** @type {{conversation: string, limit: number, before?: string}} */
    const data = { conversation, limit };
    if (older) {
      const first = this.store.sortedMessages(conversation)[0];
      if (first) data.before = first.id;
    }
    const page = await this.socket.request("message.history", data);
    this.needPageUsers(page);
    this.store.putPage(conversation, page, older);
    return page.more;
  }

  /**
   * Loads the page around a message (a search result), which becomes the
   * stretch of history held (see Store.putAround).
   * @param {string} conversation
   * @param {string} message
   * @param {number} [limit]
   */
  async loadAround(conversation, message, limit = 50) {
    const page = await this.socket.request("message.history", { conversation, around: message, limit });
    this.needPageUsers(page);
    this.store.putAround(conversation, page);
  }

  /**
   * Loads the page after the stretch of history held, towards the newest
   * (after a page around a message). Resolves to whether a page was read.
   * @param {string} conversation
   * @param {number} [limit]
   */
  async loadNewer(conversation, limit = 50) {
    const after = this.store.gaps.get(conversation);
    if (!after) return false;
    const page = await this.socket.request("message.history", { conversation, after, limit });
    this.needPageUsers(page);
    this.store.putNewer(conversation, page);
    return true;
  }

  /**
   * Asks for the users a page of history names.
   * @param {import("./types.js").MessagePage} page
   */
  needPageUsers(page) {
    for (const m of page.messages) {
      this.needUsers([m.author]);
      if (m.kind === "system") this.needUsers([systemSubject(m.body)]);
    }
  }

  /**
   * Sends a text message, with uploaded media if any; it shows as pending
   * until the server confirms it.
   * @param {string} conversation
   * @param {string} body
   * @param {string | null} replyTo
   * @param {import("./types.js").Media[]} [attachments] uploads, each with the alt text to send
   */
  async send(conversation, body, replyTo, attachments = []) {
    const id = newRequestId();
    this.store.outbox.set(id, {
      id,
      conversation,
      body,
      reply_to: replyTo,
      attachments,
      created_at: new Date().toISOString(),
      failed: false,
    });
    this.store.changed(`messages:${conversation}`);
    await this.deliver(id);
  }

  /**
   * Sends a sticker (a message of kind `sticker`); shown once the server
   * confirms it.
   * @param {string} conversation
   * @param {string} sticker its id
   * @param {string | null} replyTo
   */
  async sendSticker(conversation, sticker, replyTo) {
    /** @type {{conversation: string, sticker: string, reply_to?: string}} */
    const data = { conversation, sticker };
    if (replyTo) data.reply_to = replyTo;
    const message = await this.socket.request("message.send", data, newRequestId());
    this.store.putMessage(message, { live: true });
  }

  /** @param {string} id an outbox entry */
  async deliver(id) {
    const out = this.store.outbox.get(id);
    if (!out) return;
    /** @type {{conversation: string, body: string, reply_to?: string, attachments?: (string | {media: string, alt_text: string})[]}} */
    const data = { conversation: out.conversation, body: out.body };
    if (out.reply_to) data.reply_to = out.reply_to;
    if (out.attachments.length) data.attachments = out.attachments.map((a) => (a.alt_text ? { media: a.id, alt_text: a.alt_text } : a.id));
    try {
      const message = await this.socket.request("message.send", data, id);
      this.store.putMessage(message, { live: true });
    } catch (e) {
      // Lost connections are resent after the reconnect; refusals are shown.
      if (e instanceof RequestError && e.code !== "disconnected") {
        out.failed = true;
        this.store.changed(`messages:${out.conversation}`);
        throw e;
      }
    }
  }

  /**
   * Uploads a file for a message to come, reporting the bytes sent.
   * @param {Blob} file
   * @param {{progress: (sent: number, total: number) => void, signal?: AbortSignal}} options
   */
  upload(file, options) {
    return api.uploadMedia(this.token, file, options);
  }

  /** @param {string} id */
  discard(id) {
    const out = this.store.outbox.get(id);
    this.store.outbox.delete(id);
    if (out) this.store.changed(`messages:${out.conversation}`);
  }

  /**
   * Any request; results that are messages or conversations are applied at
   * once (the pushes repeat them).
   * @param {string} type
   * @param {object} [data]
   */
  async request(type, data) {
    const result = await this.socket.request(type, data);
    if (result && typeof result === "object") {
      if (type.startsWith("message.") && result.conversation && result.id) this.store.putMessage(result, {});
      if (type.startsWith("conversation.") && result.members) this.store.putConversation(result);
    }
    return result;
  }

  /**
   * Adds (`on`) or removes the user's reaction `emoji` to `message`.
   * @param {import("./types.js").Message} message
   * @param {string} emoji
   * @param {boolean} on
   */
  async react(message, emoji, on) {
    const result = await this.socket.request(on ? "message.react" : "message.unreact", { message: message.id, emoji });
    this.store.putReactions(result);
  }

  /**
   * Pins (`on`) or unpins a message of a group.
   * @param {string} message
   * @param {boolean} on
   */
  async pin(message, on) {
    this.store.putPins(await this.socket.request(on ? "message.pin" : "message.unpin", { message }));
  }

  /**
   * Loads how far the other members of a conversation have read.
   * @param {string} conversation
   */
  async loadReadBy(conversation) {
    this.store.putReadBy(await this.socket.request("conversation.read_by", { conversation }));
  }

  /**
   * The caller's privacy settings.
   * @returns {Promise<{share_presence_remote: boolean, share_read_receipts: boolean}>}
   */
  settings() {
    return api.settings(this.token);
  }

  /**
   * Changes the caller's privacy settings; read receipts are read again.
   * @param {{share_presence_remote?: boolean, share_read_receipts?: boolean}} change
   */
  async changeSettings(change) {
    const settings = await api.changeSettings(this.token, change);
    for (const conversation of [...this.store.readBy.keys()]) await this.loadReadBy(conversation);
    return settings;
  }

  /**
   * Loads a group's pinned messages.
   * @param {string} conversation
   */
  async loadPins(conversation) {
    this.store.putPins(await this.socket.request("conversation.pins", { conversation }));
  }

  /**
   * Asks a group hosted on another server to let the user in.
   * @param {string} url the group's URL (its invitation link)
   * @returns {Promise<string>} the group's URL as the server names it
   */
  async joinGroup(url) {
    const { group } = await this.socket.request("conversation.join", { group: url });
    if (!this.store.mirrorOf(group)) this.store.putJoin(group, "requested");
    return group;
  }

  /**
   * Reads again how many requests to join the group wait (the server's
   * count, so repeated or missed pushes cannot skew it).
   * @param {string} conversation
   */
  refreshJoinCount(conversation) {
    this.socket
      .request("conversation.get", { conversation })
      .then((/** @type {import("./types.js").Summary} */ s) => this.store.setJoinCount(conversation, s.join_requests))
      .catch(() => {});
  }

  /**
   * Withdraws the user's waiting request to join the group at `group`.
   * @param {string} group the group's URL
   */
  async cancelJoin(group) {
    await this.socket.request("conversation.join_cancel", { group });
    this.store.dropJoin(group);
  }

  /** Announces the groups that arrived since the user asked to join them. */
  settleJoins() {
    for (const [group, join] of this.store.joins) {
      const summary = this.store.mirrorOf(group);
      if (!summary) continue;
      this.store.dropJoin(group);
      if (join.state === "requested") this.hooks.joins({ kind: "joined", summary });
    }
  }

  /** Loads again the join requests the store holds (pushes may have been missed). */
  async reloadJoinRequests() {
    for (const conversation of [...this.store.joinRequests.keys()]) {
      await this.loadJoinRequests(conversation).catch((e) => {
        if (e instanceof RequestError && e.code === "disconnected") throw e;
        this.store.joinRequests.delete(conversation);
      });
    }
  }

  /**
   * Loads the open requests to join a group hosted here (admins only).
   * @param {string} conversation
   */
  async loadJoinRequests(conversation) {
    /** @type {JoinRequest[]} */
    const requests = await this.socket.request("conversation.join_requests", { conversation });
    this.needUsers(requests.map((r) => r.user));
    this.store.setJoinRequests(conversation, requests);
  }

  /**
   * Lets a requester into a group hosted here.
   * @param {string} conversation
   * @param {string} user
   * @param {Rights} rights
   */
  async approveJoin(conversation, user, rights) {
    await this.request("conversation.join_approve", { conversation, user, rights });
    this.store.dropJoinRequest(conversation, user);
  }

  /**
   * @param {string} conversation
   * @param {string} user
   */
  async declineJoin(conversation, user) {
    await this.request("conversation.join_decline", { conversation, user });
    this.store.dropJoinRequest(conversation, user);
  }

  /**
   * The URL of a group, which works as its invitation link: the host's for
   * a group hosted elsewhere, else the group's public id as this server
   * publishes it.
   * @param {string} conversation
   * @returns {Promise<string>}
   */
  async groupUrl(conversation) {
    const hostedBy = this.store.summaries.get(conversation)?.conversation.hosted_by;
    return hostedBy || api.groupUrl(conversation);
  }

  /**
   * @param {string} conversation
   * @param {string} message
   */
  markRead(conversation, message) {
    return this.request("message.read", { conversation, message });
  }

  /** @param {boolean} away */
  setAway(away) {
    return this.socket.request("status.set", { status: away ? "away" : "online" }).catch(() => {});
  }

  /** @param {string} message */
  async loadDeliveries(message) {
    try {
      this.store.deliveries.set(message, await api.deliveries(this.token, message));
      this.store.changed("deliveries");
    } catch {
      // Delivery state is a hint; a failure to read it leaves it unknown.
    }
  }

  /**
   * Changes one's password; the server ends every other session and this
   * one continues with the fresh token.
   * @param {string} oldPassword
   * @param {string} newPassword
   */
  async changePassword(oldPassword, newPassword) {
    this.useToken((await api.changePassword(this.token, oldPassword, newPassword)).access_token);
  }

  /** Logs out every other session; this one continues with a fresh token. */
  async revokeSessions() {
    this.useToken((await api.revokeSessions(this.token)).access_token);
  }

  /**
   * Switches to a fresh token: the socket reconnects with it when the
   * server closes the session that used the old one.
   * @param {string} token
   */
  useToken(token) {
    this.token = token;
    this.socket.token = token;
    this.hooks.tokenChanged(token);
  }

  /**
   * @param {Partial<Pick<User, "display_name" | "bio" | "avatar_url" | "profile_links">>} fields
   */
  async updateProfile(fields) {
    const user = await api.updateProfile(this.token, fields);
    this.store.putUser(user);
    return user;
  }

  /** @param {string} prefix */
  search(prefix) {
    return api.search(this.token, prefix);
  }
}

/**
 * The user a system message is about, if any.
 * @param {string} body
 * @returns {string | null}
 */
export function systemSubject(body) {
  try {
    const change = JSON.parse(body);
    return typeof change.user === "string" ? change.user : null;
  } catch {
    return null;
  }
}

/** @type {Record<Rights, number>} */
export const RANK = { read: 0, write: 1, admin: 2, owner: 3 };
