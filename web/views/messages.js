// One message as the chat view draws it: a bubble (own or other's) with
// author, reply quote, text (its Markdown subset and tone indicators, see
// ../markdown.js), attachments (./attachments.js) and state; a game
// invitation card; a sticker without a bubble (./stickers.js);
// or a line for a system message. Text goes in as text nodes only.

import { avatar, h, timeLabel } from "../format.js";
import { messageBody, plain } from "../markdown.js";
import { markMentions } from "../mentions.js";
import { nameOf } from "./common.js";
import { RANK } from "../client.js";
import { icon } from "../icons.js";
import { reactionBar } from "./reactions.js";
import { attachmentList, describeAttachments } from "./attachments.js";
import { guardLinks, previewCard } from "./preview.js";
import { stickerImage } from "./stickers.js";

/** @typedef {import("../client.js").Client} Client */
/** @typedef {import("../types.js").Message} Message */
/** @typedef {import("../types.js").Summary} Summary */
/** @typedef {import("../store.js").Outgoing} Outgoing */

/**
 * @typedef {object} MessageActions
 * @property {(m: Message) => void} reply
 * @property {(m: Message) => void} edit
 * @property {(m: Message) => void} remove
 * @property {(id: string) => void} jump
 * @property {(m: Message, answer: "accept" | "decline") => void} answer
 * @property {(id: string) => void} retry
 * @property {(id: string) => void} discard
 * @property {(user: string) => void} profile
 * @property {(m: Message) => void} report
 * @property {(m: Message, emoji: string, on: boolean) => void} react
 * @property {(m: Message) => void} pickReaction
 * @property {(m: Message) => void} pin
 */

/**
 * A system message as a sentence.
 * @param {import("../store.js").Store} store
 * @param {Message} message
 */
export function describeSystem(store, message) {
  const who = message.author === store.me?.id ? "You" : nameOf(store, message.author);
  let change;
  try {
    change = JSON.parse(message.body);
  } catch {
    return "The group changed";
  }
  const subject = change.user === store.me?.id ? "you" : nameOf(store, change.user);
  switch (change.action) {
    case "renamed":
      return `${who} renamed the group to “${change.name}”`;
    case "member_added":
      return `${who} added ${subject}`;
    case "member_removed":
      return `${who} removed ${subject}`;
    case "member_left":
      return `${subject === "you" ? "You" : subject} left the group`;
    case "rights_changed":
      return `${who} changed ${subject === "you" ? "your" : `${subject}’s`} rights to ${change.rights}`;
    case "owner_changed":
      return `${who} made ${subject} the owner`;
    case "message_pinned":
      return `${who} pinned a message`;
    case "message_unpinned":
      return `${who} unpinned a message`;
    default:
      return "The group changed";
  }
}

/**
 * @param {Client} client
 * @param {Summary} summary
 * @param {Message} message
 * @param {{continued: boolean, actions: MessageActions}} options
 */
export function messageView(client, summary, message, options) {
  const store = client.store;
  if (message.kind === "system") {
    return h("div", { class: "system-line", attrs: { "data-id": message.id } }, h("span", { text: describeSystem(store, message) }));
  }
  const own = message.author === store.me?.id;
  const group = summary.conversation.kind === "group";
  const { actions } = options;
  const bubble = h("div", { class: "bubble" });
  if (!own && group && !options.continued) {
    bubble.append(h("button", { class: "author", text: nameOf(store, message.author), attrs: { type: "button" }, on: { click: () => message.author && actions.profile(message.author) } }));
  }
  if (message.reply_to && !message.deleted) bubble.append(quote(client, message.conversation, message.reply_to, actions));
  if (message.deleted) {
    bubble.append(h("p", { class: "body deleted", text: "This message was deleted." }));
  } else if (message.kind === "game_invite" && message.game) {
    bubble.append(gameCard(client, summary, message, actions));
  } else if (message.kind === "sticker" && message.sticker) {
    // A sticker stands alone: a larger image, no bubble around it.
    bubble.classList.add("sticker-bubble");
    bubble.append(stickerImage(message.sticker));
  } else {
    // A message of attachments alone has no text to draw.
    if (message.body || !message.attachments?.length) {
      const body = h("div", { class: "body" }, messageBody(message.body));
      const mentioned = (message.mentions || []).flatMap((id) => store.users.get(id) || []);
      markMentions(body, mentioned, store.me?.id, (id) => actions.profile(id));
      guardLinks(body);
      bubble.append(body);
    }
    const attachments = attachmentList(message.attachments);
    if (attachments) bubble.append(attachments);
    const card = message.preview ? previewCard(message.preview) : null;
    if (card) bubble.append(card);
  }
  const meta = h("div", { class: "meta" }, h("time", { text: timeLabel(message.created_at), attrs: { datetime: message.created_at } }));
  if (message.edited_at && !message.deleted) meta.append(h("span", { text: "edited" }));
  if (own && !message.deleted) {
    const delivery = deliveryLabel(client, summary, message);
    if (delivery) meta.append(h("span", { class: "delivery", text: delivery }));
  }
  bubble.append(meta);
  // Readers may react too; not in a read-only conversation.
  const canReact = !message.deleted && !summary.conversation.read_only;
  const bar = message.deleted ? null : reactionBar(store, message, canReact, (emoji, on) => actions.react(message, emoji, on));
  if (bar) bubble.append(bar);

  const tools = h("div", { class: "msg-actions" });
  const canWrite = !summary.conversation.read_only && RANK[summary.rights] >= RANK.write;
  if (!message.deleted) {
    if (canReact) tools.append(tool("smile", "Add reaction", () => actions.pickReaction(message)));
    if (canWrite) tools.append(tool("reply", "Reply", () => actions.reply(message)));
    if (own && message.kind === "text" && canWrite) tools.append(tool("edit", "Edit message", () => actions.edit(message)));
    if (own || (group && RANK[summary.rights] >= RANK.admin)) tools.append(tool("trash", "Delete message", () => actions.remove(message)));
    if (!own && message.author) tools.append(tool("flag", "Report message", () => actions.report(message)));
    // Pins are kept by the group's host: only groups hosted here take them.
    if (group && !summary.conversation.hosted_by && RANK[summary.rights] >= RANK.admin) tools.append(tool("pin", "Pin message", () => actions.pin(message)));
  }
  const row = h(
    "article",
    { class: `msg ${own ? "own" : "other"}${options.continued ? " continued" : ""}`, attrs: { "data-id": message.id, tabindex: "-1" } },
    own ? null : options.continued ? h("span", { class: "avatar-space" }) : avatarOf(client, message.author),
    bubble,
    tools.childElementCount ? tools : null,
  );
  return row;
}

/**
 * @param {Client} client
 * @param {string | null} user
 */
function avatarOf(client, user) {
  const u = user ? client.store.users.get(user) : null;
  return avatar(u ? u.display_name || u.name : "?", u ? u.avatar_url : null, user || "deleted", "s");
}

/**
 * @param {import("../icons.js").IconName} name
 * @param {string} label
 * @param {() => void} act
 */
function tool(name, label, act) {
  return h("button", { class: "icon-button small", attrs: { type: "button", "aria-label": label, title: label }, on: { click: act } }, icon(name));
}

/**
 * The quoted original of a reply; clicking it jumps there.
 * @param {Client} client
 * @param {string} conversation
 * @param {string} id
 * @param {MessageActions} actions
 */
function quote(client, conversation, id, actions) {
  const original = client.store.messages.get(conversation)?.get(id);
  const who = original ? nameOf(client.store, original.author) : "";
  const text = !original
    ? "Earlier message"
    : original.deleted
      ? "Deleted message"
      : original.kind === "game_invite"
        ? "Game invitation"
        : plain(original.body) || describeAttachments(original.attachments);
  return h(
    "button",
    { class: "quote", attrs: { type: "button", title: "Jump to the message this replies to" }, on: { click: () => actions.jump(id) } },
    h("span", { class: "visually-hidden", text: "Jump to the message this replies to: " }),
    who ? h("strong", {}, who, h("span", { class: "visually-hidden", text: ": " })) : null,
    h("span", { text: text.length > 140 ? `${text.slice(0, 140)}…` : text }),
  );
}

/**
 * @param {Client} client
 * @param {Summary} summary
 * @param {Message} message
 * @param {MessageActions} actions
 */
function gameCard(client, summary, message, actions) {
  const store = client.store;
  const game = /** @type {import("../types.js").GameInvite} */ (message.game);
  const expired = game.state === "pending" && new Date(game.expires_at) < new Date();
  const state = expired ? "expired" : game.state;
  const me = store.me?.id;
  const invitee = game.invitee ? nameOf(store, game.invitee) : "anyone here";
  const mayAnswer =
    state === "pending" &&
    message.author !== me &&
    (game.invitee === null || game.invitee === me) &&
    !summary.conversation.read_only &&
    RANK[summary.rights] >= RANK.write;
  const stateText = {
    pending: "Waiting for an answer",
    accepted: `Accepted by ${nameOf(store, game.answered_by)}`,
    declined: `Declined by ${nameOf(store, game.answered_by)}`,
    expired: "Expired",
  }[state];
  const card = h(
    "div",
    { class: `game-card ${state}`, attrs: { role: "group", "aria-label": `Game invitation: ${game.game}` } },
    h("div", { class: "game-title" }, h("span", { class: "game-icon", text: "♞", attrs: { "aria-hidden": "true" } }), h("strong", { text: game.game })),
    h("p", { text: `${message.author === me ? "You invite" : `${nameOf(store, message.author)} invites`} ${game.invitee === me ? "you" : invitee} to play.` }),
    h("p", { class: "game-state", text: stateText }),
  );
  if (mayAnswer) {
    card.append(
      h(
        "div",
        { class: "actions" },
        h("button", { class: "primary small", text: "Accept", attrs: { type: "button" }, on: { click: () => actions.answer(message, "accept") } }),
        h("button", { class: "small", text: "Decline", attrs: { type: "button" }, on: { click: () => actions.answer(message, "decline") } }),
      ),
    );
  }
  return card;
}

/**
 * Delivery state of one's own message to remote members, if it has any.
 * @param {Client} client
 * @param {Summary} summary
 * @param {Message} message
 */
function deliveryLabel(client, summary, message) {
  const store = client.store;
  const remote = summary.conversation.members.some((m) => store.users.get(m.user)?.domain);
  if (!remote) return "";
  const list = store.deliveries.get(message.id);
  if (!list) return "";
  if (list.length === 0) return "";
  if (list.every((d) => d.state === "delivered")) return "✓ delivered";
  if (list.some((d) => d.state === "failed")) return "⚠ not delivered";
  return "… delivering";
}

/**
 * A message not yet confirmed by the server.
 * @param {Outgoing} out
 * @param {MessageActions} actions
 */
export function outgoingView(out, actions) {
  const meta = h("div", { class: "meta" }, h("span", { text: out.failed ? "Not sent" : "Sending…" }));
  if (out.failed) {
    meta.append(
      h("button", { class: "link-button", text: "Retry", attrs: { type: "button" }, on: { click: () => actions.retry(out.id) } }),
      h("button", { class: "link-button", text: "Discard", attrs: { type: "button" }, on: { click: () => actions.discard(out.id) } }),
    );
  }
  const body = out.body || out.attachments.length === 0 ? h("div", { class: "body" }, messageBody(out.body)) : null;
  return h("article", { class: `msg own pending${out.failed ? " failed" : ""}` }, h("div", { class: "bubble" }, body, attachmentList(out.attachments), meta));
}
