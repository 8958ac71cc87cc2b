// The open conversation: header, history (older pages load as the person
// scrolls up), day separators, the "new messages" line, typing notices and
// the composer (send, reply, edit, game invitations, stickers from their
// picker in ./stickers.js, drafts kept per conversation, files attached by
// the button, by dropping them on the conversation or by pasting). The message list itself is ./history.js,
// the files waiting to be sent ./uploads.js.

import { avatar, h } from "../format.js";
import { RANK } from "../client.js";
import { icon } from "../icons.js";
import { attempt, confirmAction, field, nameOf, openDialog, presenceText, toast } from "./common.js";
import { createHistory } from "./history.js";
import { Drafts } from "../drafts.js";
import { conversationTitle } from "./sidebar.js";
import { reportDialog } from "./reports.js";
import { pickEmoji } from "./reactions.js";
import { connectionNotice } from "./connection.js";
import { mentionAutocomplete } from "../mentions.js";
import { createUploads } from "./uploads.js";
import { pickSticker } from "./stickers.js";
import { describeAttachments } from "./attachments.js";

/** @typedef {import("../client.js").Client} Client */
/** @typedef {import("../types.js").Message} Message */
/** @typedef {import("../types.js").Summary} Summary */

/** The longest message the server takes, in characters (`max_message_chars`, named in the page). */
export const MAX_MESSAGE_CHARS =
  Number(document.querySelector('meta[name="confab-max-message-chars"]')?.getAttribute("content")) || 4000;

/** The counter shows from this many characters on. */
const COUNTER_FROM = MAX_MESSAGE_CHARS - 500;

/**
 * @typedef {object} ChatActions
 * @property {() => void} back
 * @property {(user: string) => void} profile
 * @property {(conversation: string) => void} groupSettings
 */

/**
 * @param {Client} client
 * @param {ChatActions} actions
 */
export function createChat(client, actions) {
  const store = client.store;
  /** @type {string | null} */
  let shown = null;
  const drafts = new Drafts();
  /** @type {{mode: "reply" | "edit", message: Message} | null} */
  let context = null;
  let draftBeforeEdit = "";
  let typingSentAt = 0;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let typingStop = null;

  const back = h("button", { class: "icon-button back", attrs: { type: "button", "aria-label": "Back to conversations" }, on: { click: actions.back } }, icon("back"));
  const headAvatar = h("span", { class: "avatar-wrap" });
  const title = h("h2", { class: "chat-title" });
  const subtitle = h("p", { class: "chat-subtitle" });
  const headTools = h("div", { class: "head-tools" });
  const history = createHistory(client, { actions: () => messageActions });
  const typing = h("p", { class: "typing", attrs: { "aria-live": "polite" } });
  const contextBar = h("div", { class: "composer-context", attrs: { "aria-live": "polite" } });
  // No maxlength: text pasted beyond the limit stays whole, and the counter says how much is over.
  const input = h("textarea", { attrs: { rows: "1", placeholder: "Write a message…", "aria-label": "Message", "aria-describedby": "composer-counter" } });
  const counter = h("p", { class: "counter", attrs: { id: "composer-counter", hidden: true } });
  const send = h("button", { class: "primary send", text: "Send", attrs: { type: "submit", "aria-label": "Send" } });
  const gameButton = h("button", { class: "icon-button", attrs: { type: "button", "aria-label": "Invite to a game", title: "Invite to a game" } }, icon("game"));
  const stickerButton = h("button", { class: "icon-button", attrs: { type: "button", "aria-label": "Stickers", title: "Stickers", "aria-haspopup": "dialog" } }, icon("sticker"));
  const uploads = createUploads(client, () => renderCounter());
  const form = h("form", { class: "composer-row" }, gameButton, stickerButton, uploads.button, uploads.picker, input, send);
  const mentions = mentionAutocomplete(input, () => {
    const s = summary();
    if (!s) return [];
    return s.conversation.members.flatMap((m) => (m.user === store.me?.id ? [] : store.users.get(m.user) || []));
  });
  const note = h("p", { class: "readonly-note", attrs: { role: "note" } });
  const composer = h("footer", { class: "composer" }, contextBar, note, mentions.root, uploads.root, form, counter);
  const connection = connectionNotice(client, "in-chat");
  const emptyState = h("div", { class: "chat-empty" }, h("p", { text: "Pick a conversation, or find people under Contacts." }));
  const body = h("div", { class: "chat-body" }, h("header", { class: "chat-head" }, back, headAvatar, h("div", { class: "chat-heading" }, title, subtitle), headTools), connection.root, history.root, typing, composer, uploads.dropHint);
  const root = h("main", { class: "chat", attrs: { "aria-label": "Chat" } }, emptyState, body);

  function summary() {
    return shown ? store.summaries.get(shown) || null : null;
  }

  /** @param {string | null} id */
  async function open(id) {
    if (shown !== id) {
      // The others stop seeing "… is typing" here at once, not when it lapses.
      stopTyping();
      cancelContext();
      keepDraft();
      input.value = id && store.me ? drafts.load(store.me.id, id) : "";
      mentions.close();
      uploads.show(id);
    }
    shown = id;
    // The list empties at once (before the first await), so it does not draw the old chat again.
    const opening = history.open(id);
    render("all");
    resizeInput();
    await opening;
    if (id === shown && id && matchMedia("(min-width: 761px)").matches) input.focus();
  }

  /** Stores the composer's text as the draft of the conversation shown. */
  function keepDraft() {
    if (!shown || !store.me || (context && context.mode === "edit")) return;
    drafts.save(store.me.id, shown, input.value);
    drafts.flush();
  }

  // On touch screens and phones a message's actions show when its bubble is
  // tapped or long-pressed (the stylesheet hides them otherwise).
  const compact = matchMedia("(hover: none), (max-width: 760px)");
  /** The message whose actions show (kept across redraws of the list). */
  /** @type {string | null} */
  let actionsShown = null;
  /** @param {Event} event */
  function showActions(event) {
    const target = /** @type {Element} */ (event.target);
    if (!compact.matches || target.closest("a, button, input, select, textarea")) return false;
    const row = target.closest(".msg");
    const open = row && target.closest(".bubble") && !row.classList.contains("show-actions") ? row : null;
    actionsShown = open?.getAttribute("data-id") || null;
    markActions();
    return !!open;
  }
  function markActions() {
    for (const row of history.root.querySelectorAll(".msg")) row.classList.toggle("show-actions", !!actionsShown && row.getAttribute("data-id") === actionsShown);
  }
  history.root.addEventListener("click", showActions);
  history.root.addEventListener("contextmenu", (event) => {
    if (showActions(event)) event.preventDefault();
  });

  /** @param {string} what */
  function render(what) {
    const s = summary();
    emptyState.hidden = !!s;
    body.hidden = !s;
    if (!s) return;
    if (what === "all" || what === "connection") connection.render();
    if (what === "all" || what === "conversations" || what === "users" || what === "presence" || what === "contacts" || what === "connection") renderHead(s);
    if (what === "all" || what.startsWith("messages:") || what === "users" || what === "deliveries" || what === "conversations") {
      history.update(what);
      if (actionsShown) markActions();
    }
    if (what === "all" || what.startsWith("typing:") || what === "users" || what === "connection") renderTyping(s);
    if (what === "all" || what === "conversations" || what === "contacts") renderComposer(s);
  }

  /** @param {Summary} s */
  function renderHead(s) {
    const c = s.conversation;
    const name = conversationTitle(client, c);
    const peer = store.peer(c);
    const peerUser = peer ? store.users.get(peer) : null;
    title.textContent = name;
    const pic = avatar(name, peerUser ? peerUser.avatar_url : c.avatar_url, peer || c.id, "m");
    headAvatar.replaceChildren(pic);
    headTools.replaceChildren();
    headTools.append(
      h("button", {
        class: "icon-button",
        attrs: { type: "button", "aria-label": s.muted ? "Unmute notifications" : "Mute notifications", title: s.muted ? "Unmute" : "Mute", "aria-pressed": String(s.muted) },
        on: { click: () => toggleMute(s) },
      }, icon(s.muted ? "bellOff" : "bell")),
    );
    if (peer) {
      const status = store.presenceOf(peer);
      headAvatar.append(h("span", { class: `presence ${status}` }));
      subtitle.textContent = store.blocks.has(peer) ? "Blocked" : peerUser?.domain ? `@${peerUser.name} · ${presenceText(status)}` : presenceText(status);
      const blocked = store.blocks.has(peer);
      headTools.append(
        headButton("user", "Profile", `Profile of ${name}`, () => actions.profile(peer)),
        headButton(
          "block",
          blocked ? "Unblock" : "Block",
          `${blocked ? "Unblock" : "Block"} ${name}`,
          async () => {
            if (blocked || (await confirmAction(`Block ${name}?`, "Block"))) {
              await attempt(() => client.request(blocked ? "contact.unblock" : "contact.block", { user: peer }));
            }
          },
          // Labelled on phones too: a bare icon beside Profile is too easy to hit.
          "labelled",
        ),
      );
    } else {
      const count = c.members.length;
      subtitle.textContent = [c.topic, `${count} member${count === 1 ? "" : "s"}`].filter(Boolean).join(" · ");
      headTools.append(headButton("settings", "Group settings", "Group settings", () => actions.groupSettings(c.id)));
    }
  }

  /**
   * A header button: icon and text on wide screens, the icon alone on
   * phones unless `extra` has `labelled`.
   * @param {import("../icons.js").IconName} name
   * @param {string} text
   * @param {string} label
   * @param {() => unknown} act
   * @param {string} [extra] more classes
   */
  function headButton(name, text, label, act, extra = "") {
    return h("button", { class: `small head-button ${extra}`.trim(), attrs: { type: "button", "aria-label": label, title: label }, on: { click: act } }, icon(name), h("span", { text }));
  }

  /**
   * Mutes or unmutes notifications of a conversation. The server does not
   * push mutes, so the summary is updated here.
   * @param {Summary} s
   */
  async function toggleMute(s) {
    const muted = !s.muted;
    if (await attempt(() => client.request("conversation.mute", { conversation: s.conversation.id, muted }))) {
      s.muted = muted;
      store.changed("conversations");
    }
  }

  /** @param {Summary} s */
  /** @type {ReturnType<typeof setTimeout> | null} */
  let typingLapse = null;

  /** @param {Summary} s */
  function renderTyping(s) {
    const names = store.typists(s.conversation.id).map((u) => nameOf(store, u));
    typing.textContent =
      names.length === 0 ? "" : names.length === 1 ? `${names[0]} is typing…` : `${names.slice(0, -1).join(", ")} and ${names.at(-1)} are typing…`;
    // Drawn again when the first notice lapses (no typing.stop came).
    if (typingLapse) clearTimeout(typingLapse);
    const next = store.nextTypingLapse(s.conversation.id);
    typingLapse = next === null ? null : setTimeout(() => render(`typing:${s.conversation.id}`), Math.max(0, next - Date.now()) + 50);
  }

  /** @param {Summary} s */
  function renderComposer(s) {
    const c = s.conversation;
    let reason = "";
    if (c.read_only) {
      const peer = store.peer(c);
      reason = peer && store.blocks.has(peer) ? "You blocked this person. Unblock them to write again." : "This conversation is read-only: you are no longer contacts, or you were blocked.";
    } else if (RANK[s.rights] < RANK.write) {
      reason = "You can read this group but not write in it.";
    }
    note.textContent = reason;
    note.hidden = !reason;
    input.disabled = !!reason;
    renderCounter();
    gameButton.disabled = !!reason;
    stickerButton.disabled = !!reason;
    uploads.button.disabled = !!reason;
    if (reason) {
      cancelContext();
      uploads.clear();
    }
  }

  /** @type {import("./messages.js").MessageActions} */
  const messageActions = {
    reply(m) {
      setContext({ mode: "reply", message: m });
    },
    edit(m) {
      if (!context || context.mode !== "edit") draftBeforeEdit = input.value;
      setContext({ mode: "edit", message: m });
      input.value = m.body;
      resizeInput();
    },
    async remove(m) {
      if (await confirmAction("Delete this message?", "Delete")) {
        await attempt(() => client.request("message.delete", { message: m.id }));
      }
    },
    jump: (id) => history.jump(id),
    answer(m, answer) {
      attempt(() => client.request("message.game_answer", { message: m.id, answer }));
    },
    retry(id) {
      const out = store.outbox.get(id);
      if (out) out.failed = false;
      attempt(() => client.deliver(id));
    },
    discard(id) {
      client.discard(id);
    },
    profile(user) {
      actions.profile(user);
    },
    report(m) {
      if (m.author) reportDialog(client, { user: m.author, message: m.id });
    },
    react(m, emoji, on) {
      attempt(() => client.react(m, emoji, on));
    },
    pin(m) {
      attempt(() => client.pin(m.id, true)).then((ok) => ok && toast("Message pinned"));
    },
    async pickReaction(m) {
      const emoji = await pickEmoji();
      if (emoji) attempt(() => client.react(m, emoji, true));
    },
  };

  /** @param {{mode: "reply" | "edit", message: Message} | null} next */
  function setContext(next) {
    context = next;
    contextBar.replaceChildren();
    if (next) {
      const label = next.mode === "reply" ? `Replying to ${nameOf(store, next.message.author)}` : "Editing your message";
      const text = next.message.kind === "game_invite" ? "Game invitation" : next.message.body || describeAttachments(next.message.attachments);
      contextBar.append(
        h("div", { class: "context-text" }, h("strong", { text: label }), h("span", { text: text.length > 120 ? `${text.slice(0, 120)}…` : text })),
        h("button", { class: "icon-button small", attrs: { type: "button", "aria-label": next.mode === "reply" ? "Cancel reply" : "Cancel editing" }, on: { click: cancelContext } }, icon("close")),
      );
      input.focus();
    }
    contextBar.hidden = !next;
    send.textContent = next && next.mode === "edit" ? "Save" : "Send";
    send.setAttribute("aria-label", next && next.mode === "edit" ? "Save edit" : "Send");
  }

  function cancelContext() {
    if (context && context.mode === "edit") {
      input.value = draftBeforeEdit;
      resizeInput();
    }
    context = null;
    setContext(null);
  }

  /** Fits the box to its text (at most 180 px); a hidden box keeps its natural height. */
  function resizeInput() {
    renderCounter();
    input.style.height = "auto";
    if (input.scrollHeight === 0) return;
    input.style.height = `${Math.min(input.scrollHeight, 180)}px`;
  }

  /** Shows how many characters are left near the limit, and how many are over it. */
  function renderCounter() {
    const length = [...input.value].length;
    const over = length > MAX_MESSAGE_CHARS;
    counter.hidden = length < COUNTER_FROM;
    counter.classList.toggle("over", over);
    counter.textContent = over
      ? `${(length - MAX_MESSAGE_CHARS).toLocaleString()} characters too long (${length.toLocaleString()} / ${MAX_MESSAGE_CHARS.toLocaleString()})`
      : `${length.toLocaleString()} / ${MAX_MESSAGE_CHARS.toLocaleString()}`;
    // Send waits for running uploads.
    send.disabled = over || input.disabled || uploads.busy();
  }

  // Files come by the button, pasted into the box or dropped on the conversation.
  uploads.accept(input, body, () => !input.disabled && !!summary());

  input.addEventListener("input", () => {
    resizeInput();
    const s = summary();
    if (s && store.me && !(context && context.mode === "edit")) drafts.save(store.me.id, s.conversation.id, input.value);
    if (!input.value.trim()) {
      stopTyping();
      return;
    }
    if (!s || (context && context.mode === "edit")) return;
    const now = Date.now();
    if (now - typingSentAt > 3000) {
      typingSentAt = now;
      client.request("typing.start", { conversation: s.conversation.id }).catch(() => {});
    }
    if (typingStop) clearTimeout(typingStop);
    typingStop = setTimeout(stopTyping, 4000);
  });

  function stopTyping() {
    if (typingStop) clearTimeout(typingStop);
    typingStop = null;
    const s = summary();
    if (s && typingSentAt) client.request("typing.stop", { conversation: s.conversation.id }).catch(() => {});
    typingSentAt = 0;
  }
  // Leaving the page or hiding it ends typing as well.
  window.addEventListener("pagehide", stopTyping);
  document.addEventListener("visibilitychange", () => document.visibilityState === "hidden" && stopTyping());

  input.addEventListener("keydown", (event) => {
    if (mentions.handles(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape" && context) {
      event.preventDefault();
      cancelContext();
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const s = summary();
    const text = input.value;
    const editing = !!context && context.mode === "edit";
    const media = editing ? [] : uploads.ready();
    if (!s || (!text.trim() && media.length === 0) || [...text].length > MAX_MESSAGE_CHARS || (!editing && uploads.busy())) return;
    const current = context;
    stopTyping();
    if (current && current.mode === "edit") {
      if (text === current.message.body) {
        cancelContext();
        return;
      }
      const ok = await attempt(() => client.request("message.edit", { message: current.message.id, body: text }));
      if (ok) {
        input.value = draftBeforeEdit;
        context = null;
        setContext(null);
        resizeInput();
      }
      return;
    }
    input.value = "";
    uploads.clear();
    if (store.me) drafts.clear(store.me.id, s.conversation.id);
    resizeInput();
    setContext(null);
    history.toBottom();
    // With attachments, blank text is no text.
    const sent = text.trim() ? text : "";
    await attempt(() => client.send(s.conversation.id, sent, current ? current.message.id : null, media));
  });

  gameButton.addEventListener("click", () => {
    const s = summary();
    if (s) gameDialog(client, s);
  });

  stickerButton.addEventListener("click", async () => {
    const s = summary();
    if (!s) return;
    /** @type {{sticker: import("../types.js").Sticker | null}} */
    const picked = { sticker: null };
    await attempt(async () => {
      picked.sticker = await pickSticker(client);
    });
    const sticker = picked.sticker;
    // Not into another conversation opened meanwhile.
    if (!sticker || summary()?.conversation.id !== s.conversation.id) return;
    const replyTo = context && context.mode === "reply" ? context.message.id : null;
    if (replyTo) setContext(null);
    history.toBottom();
    const id = sticker.id;
    await attempt(() => client.sendSticker(s.conversation.id, id, replyTo));
  });

  setContext(null);
  render("all");
  /**
   * Opens a conversation at a message (a search result), highlighted.
   * @param {string} id
   * @param {string} message
   */
  async function openAt(id, message) {
    await open(id);
    if (shown === id) await history.jump(message);
  }

  return { root, open, openAt, render, get shown() { return shown; } };
}

/**
 * Sends a game invitation to one member or anyone in the conversation.
 * @param {Client} client
 * @param {Summary} s
 */
function gameDialog(client, s) {
  const store = client.store;
  const game = h("input", { attrs: { value: "chess", required: true, maxlength: "64" } });
  const invitee = h("select");
  invitee.append(h("option", { text: "Anyone in the conversation", attrs: { value: "" } }));
  for (const m of s.conversation.members) {
    if (m.user !== store.me?.id) invitee.append(h("option", { text: nameOf(store, m.user), attrs: { value: m.user } }));
  }
  if (s.conversation.kind === "direct") invitee.selectedIndex = 1;
  const submit = h("button", { class: "primary", text: "Send invitation", attrs: { type: "submit" } });
  const form = h("form", {}, field("Game", game), field("Who may answer", invitee), h("div", { class: "actions" }, submit));
  const dialog = openDialog("Invite to a game", [form]);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    /** @type {{conversation: string, game: string, invitee?: string}} */
    const data = { conversation: s.conversation.id, game: game.value.trim() };
    if (invitee.value) data.invitee = invitee.value;
    if (await attempt(() => client.request("message.game_invite", data))) dialog.close();
  });
  game.focus();
}
