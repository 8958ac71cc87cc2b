// The open conversation's message list, built to stay fast with long
// histories. Only a window of consecutive messages (at most MAX_ROWS) is
// in the document, whatever the store holds. Rows are keyed by message id
// and patched in place: a row is redrawn only when its message or what it
// shows around it (day line, "new messages" line, run, rights, delivery)
// changed. The window grows at the edge the person scrolls towards (from
// the store, else with a page from the server) and shrinks at the far
// edge; the message at the top of the viewport keeps its place on screen
// when rows come or go above it. Rows keep their natural height: nothing
// is estimated, so attachments and formatting fit (image thumbnails take
// their final size before they load, ./attachments.js).
//
// A conversation with unread messages opens at the first unread one, with
// a "jump to latest" button; messages are marked read as they are seen
// (./seen.js), the marker following the newest message seen. A message
// that is not held (a search result far back) is loaded with the page
// around it; the window then holds the store's stretch (Store.stretch) and
// grows downwards with pages from the server until the newest message,
// after which live messages append as usual.

import { h, dayLabel, sameDayKey } from "../format.js";
import { icon } from "../icons.js";
import { attempt } from "./common.js";
import { messageView, outgoingView } from "./messages.js";
import { SeenTracker } from "./seen.js";

/** @typedef {import("../client.js").Client} Client */
/** @typedef {import("../types.js").Message} Message */
/** @typedef {import("../types.js").Summary} Summary */
/** @typedef {import("./messages.js").MessageActions} MessageActions */

/** Most message rows in the document at once. */
const MAX_ROWS = 150;
/** Rows added at an edge when the viewport comes near it. */
const STEP = 50;
/** Rows shown when a conversation opens at its newest message. */
const OPEN_ROWS = 80;
/** How close (px) the viewport may come to an edge of the window before it grows. */
const EDGE_PX = 800;
/** Messages by one author within this many ms are drawn as one run. */
const RUN_MS = 5 * 60 * 1000;
/** Page size when loading history back to the read marker. */
const UNREAD_PAGE = 100;
/** Pages loaded at most to reach the first unread message (beyond, the list opens at the oldest loaded). */
const UNREAD_PAGES = 20;

/**
 * What a row shows; the row is redrawn when any of it changes.
 * @typedef {object} Shape
 * @property {Message} message the stored object (replaced on every change)
 * @property {boolean} day a day line goes before it
 * @property {boolean} fresh the "new messages" line goes before it
 * @property {boolean} continued drawn as part of the previous message's run
 * @property {string} rights the viewer's rights and the conversation's state
 * @property {string} delivery delivery state of one's own message
 * @property {Message | undefined} quoted the message it replies to, if held
 * @property {number} epoch bumped when users' names or pictures change
 * @property {string} seenBy the other members whose read marker is this message
 */

/** @typedef {{el: HTMLElement, shape: Shape}} Row */

/**
 * Index of the first message whose id is not less than `id`.
 * @param {readonly Message[]} all sorted by id
 * @param {string} id
 */
function lowerBound(all, id) {
  let lo = 0;
  let hi = all.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (all[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Moves the focus that was on `old` (in a row drawn again) to its twin in
 * the new row `row`: the same image, or the control of the same name.
 * @param {Element} old
 * @param {HTMLElement} row
 */
function focusSame(old, row) {
  const media = old.getAttribute("data-media");
  const label = old.getAttribute("aria-label");
  const selector = media
    ? `[data-media="${CSS.escape(media)}"]`
    : label
      ? `${old.tagName.toLowerCase()}[aria-label="${CSS.escape(label)}"]`
      : null;
  const twin = selector ? row.querySelector(selector) : null;
  if (twin instanceof HTMLElement) twin.focus();
}

/**
 * @param {Client} client
 * @param {{actions: () => MessageActions}} options
 */
export function createHistory(client, options) {
  const store = client.store;
  /** @type {string | null} */
  let shown = null;
  /** False while a conversation is being opened: changes wait for it. */
  let ready = false;
  /** The read marker when the conversation was opened: the "new" line goes after it. */
  /** @type {string | null} */
  let markerAtOpen = null;
  /** @type {Map<string, Row>} */
  const rows = new Map();
  /** Ids in the window, oldest first. */
  /** @type {string[]} */
  let ids = [];
  /** Whether the window reaches the newest message held. */
  let atEnd = true;
  /** Whether the view follows the newest message (window at the end, scrolled to the bottom). */
  let pinned = true;
  let loadingOlder = false;
  let loadingNewer = false;
  let epoch = 0;
  /** @type {Set<string>} */
  const pendingDeliveries = new Set();

  const note = h("p", { class: "history-note" });
  const rowsBox = h("div", { class: "message-rows" });
  const pendingBox = h("div", { class: "message-rows pending-rows" });
  const list = h("div", { class: "messages", attrs: { role: "log", "aria-label": "Messages", tabindex: "0" } }, note, rowsBox, pendingBox);
  const jumpButton = h(
    "button",
    { class: "jump-latest", attrs: { type: "button", "aria-label": "Jump to latest", title: "Jump to latest" }, on: { click: () => jumpToLatest() } },
    icon("down"),
    h("span", { class: "jump-count" }),
  );
  jumpButton.hidden = true;
  const root = h("div", { class: "history" }, list, jumpButton);

  const seen = new SeenTracker(client, list, summary);

  function summary() {
    return shown ? store.summaries.get(shown) || null : null;
  }

  /**
   * The messages the window may show: the unbroken stretch held.
   * @param {Summary} s
   */
  function messagesOf(s) {
    return store.stretch(s.conversation.id);
  }

  /**
   * Whether the window reaching `end` of `messagesOf(s)` reaches the newest message.
   * @param {Summary} s
   * @param {number} end
   */
  function reachesEnd(s, end) {
    return end >= messagesOf(s).length && !store.gaps.has(s.conversation.id);
  }

  // ----- opening -----

  /**
   * Shows a conversation: at its first unread message when it has unread
   * messages, else at its newest.
   * @param {string | null} id
   */
  async function open(id) {
    clear();
    shown = id;
    ready = false;
    if (!id) return;
    // Opened anew after reading far back: show the newest again.
    if (store.gaps.has(id)) store.dropHistory(id);
    const s = summary();
    const unread = !!s && s.unread > 0;
    // Never read anything: every message is after the marker.
    markerAtOpen = s ? s.last_read || (unread ? "" : null) : null;
    if (!store.older.has(id)) await attempt(() => client.loadHistory(id, false));
    attempt(() => client.loadReadBy(id));
    if (shown !== id) return;
    if (unread && markerAtOpen !== null) await loadBackTo(id, markerAtOpen);
    if (shown !== id) return;
    ready = true;
    const now = summary();
    if (!now) return;
    const all = messagesOf(now);
    const first = unread ? firstFresh(all) : -1;
    if (first >= 0) {
      const start = Math.max(0, first - 10);
      pinned = false;
      apply(now, start, Math.min(all.length, start + MAX_ROWS), false);
      const row = rows.get(all[first].id);
      if (row) list.scrollTop += row.el.getBoundingClientRect().top - list.getBoundingClientRect().top - 12;
      pinned = atEnd && nearBottom();
    } else {
      pinned = true;
      apply(now, Math.max(0, all.length - OPEN_ROWS), all.length, false);
    }
    await fillViewport();
    showJump();
  }

  /**
   * Loads older pages until the message after `marker` is held.
   * @param {string} id
   * @param {string} marker
   */
  async function loadBackTo(id, marker) {
    for (let i = 0; i < UNREAD_PAGES && shown === id && store.older.get(id); i++) {
      const first = store.sortedMessages(id)[0];
      if (first && first.id <= marker) return;
      if (!(await attempt(() => client.loadHistory(id, true, UNREAD_PAGE)))) return;
    }
  }

  /** Grows the window upwards until the list scrolls or nothing older is left. */
  async function fillViewport() {
    const id = shown;
    while (id && id === shown && list.scrollHeight <= list.clientHeight + 40) {
      if (!(await growUp())) break;
    }
  }

  function clear() {
    seen.reset();
    rows.clear();
    ids = [];
    rowsBox.replaceChildren();
    pendingBox.replaceChildren();
    note.textContent = "";
    atEnd = true;
    pinned = true;
    jumpButton.hidden = true;
  }

  // ----- the window -----

  /**
   * Brings the window up to date with the store after a change.
   * @param {string} what the store's change
   */
  function update(what) {
    const s = summary();
    if (!s || !ready) return;
    if (what.startsWith("messages:") && what !== `messages:${s.conversation.id}`) return;
    if (what === "users" || what === "all") epoch += 1;
    const all = messagesOf(s);
    if (ids.length === 0) {
      pinned = true;
      apply(s, Math.max(0, all.length - OPEN_ROWS), all.length, false);
      return;
    }
    const start = lowerBound(all, ids[0]);
    let end = atEnd ? all.length : lowerBound(all, /** @type {string} */ (ids.at(-1))) + 1;
    end = Math.min(end, all.length);
    if (end - start > MAX_ROWS) {
      // Following the newest: drop the oldest rows. Reading further up:
      // keep the place and leave the newest beyond the window.
      if (pinned) return apply(s, end - MAX_ROWS, end, false);
      end = start + MAX_ROWS;
    }
    apply(s, start, end, !pinned);
  }

  /**
   * Makes the document hold the rows of `all[start..end)`, adding,
   * patching, moving and removing rows as needed, then restores the
   * scroll position: at the bottom when pinned, else the row at the top of
   * the viewport stays where it was on screen.
   * @param {Summary} s
   * @param {number} start
   * @param {number} end
   * @param {boolean} keepPlace
   * @param {{id: string, top: number} | null} [noted] where the top message was before an earlier step of this change
   */
  function apply(s, start, end, keepPlace, noted = null) {
    const all = messagesOf(s);
    const anchor = noted || (keepPlace ? topRow() : null);
    const fresh = firstFresh(all);
    /** @type {Set<string>} */
    const wanted = new Set();
    for (let i = start; i < end; i++) wanted.add(all[i].id);
    for (const [id, row] of rows) {
      if (!wanted.has(id)) {
        seen.forget(row.el);
        row.el.remove();
        rows.delete(id);
      }
    }
    /** @type {Element | null} */
    let previous = null;
    for (let i = start; i < end; i++) {
      const m = all[i];
      const shape = shapeOf(s, m, i > 0 ? all[i - 1] : null, i === fresh);
      let row = rows.get(m.id);
      if (!row || !sameShape(row.shape, shape)) {
        const el = drawRow(s, shape);
        if (row) {
          seen.forget(row.el);
          const active = row.el.contains(document.activeElement) ? document.activeElement : null;
          row.el.replaceWith(el);
          if (active) focusSame(active, el);
        }
        row = { el, shape };
        rows.set(m.id, row);
        seen.watch(el);
      }
      const next = previous ? previous.nextElementSibling : rowsBox.firstElementChild;
      if (row.el !== next) rowsBox.insertBefore(row.el, next);
      previous = row.el;
    }
    ids = all.slice(start, end).map((m) => m.id);
    atEnd = reachesEnd(s, end);
    drawEdges(s, start === 0);
    if (pinned) list.scrollTop = list.scrollHeight;
    else if (anchor) keep(anchor);
    loadDeliveries(s, all);
    showJump();
  }

  /**
   * The history note above the window and the unconfirmed messages below it.
   * @param {Summary} s
   * @param {boolean} atStart
   */
  function drawEdges(s, atStart) {
    const id = s.conversation.id;
    note.hidden = !atStart;
    note.textContent = store.older.get(id) ? "Scroll up for older messages" : "This is the beginning of the conversation.";
    const pending = [];
    if (atEnd) {
      for (const out of store.outbox.values()) if (out.conversation === id) pending.push(outgoingView(out, options.actions()));
    }
    if (pending.length || pendingBox.childElementCount) pendingBox.replaceChildren(...pending);
  }

  /**
   * @param {Summary} s
   * @param {Message} m
   * @param {Message | null} before the message before it in the whole history held
   * @param {boolean} fresh
   * @returns {Shape}
   */
  function shapeOf(s, m, before, fresh) {
    const day = !before || sameDayKey(before.created_at) !== sameDayKey(m.created_at);
    const continued =
      !day &&
      !!before &&
      before.kind !== "system" &&
      m.kind !== "system" &&
      before.author === m.author &&
      Date.parse(m.created_at) - Date.parse(before.created_at) < RUN_MS;
    const c = s.conversation;
    return {
      message: m,
      day,
      fresh,
      continued,
      rights: `${s.rights}/${c.read_only}`,
      delivery: m.author === store.me?.id ? deliveryKey(m.id) : "",
      quoted: m.reply_to ? store.messages.get(c.id)?.get(m.reply_to) : undefined,
      epoch,
      seenBy: store.readersAt(c.id, m.id).join(","),
    };
  }

  /** @param {string} id */
  function deliveryKey(id) {
    const list = store.deliveries.get(id);
    return list ? list.map((d) => d.state).join(",") : "";
  }

  /**
   * "Seen by" initials under the last message each of `users` has read.
   * @param {string[]} users
   */
  function seenByView(users) {
    const names = users.map((u) => {
      const user = store.users.get(u);
      return user ? user.display_name || user.name : "someone";
    });
    const label = `Seen by ${names.join(", ")}`;
    return h(
      "div",
      { class: "seen-by", attrs: { "aria-label": label, title: label } },
      ...names.map((n) => h("span", { class: "seen-by-initial", text: n.slice(0, 1).toUpperCase(), attrs: { "aria-hidden": "true" } })),
    );
  }

  /** @param {Shape} a @param {Shape} b */
  function sameShape(a, b) {
    return (
      a.message === b.message &&
      a.day === b.day &&
      a.fresh === b.fresh &&
      a.continued === b.continued &&
      a.rights === b.rights &&
      a.delivery === b.delivery &&
      a.quoted === b.quoted &&
      a.epoch === b.epoch &&
      a.seenBy === b.seenBy
    );
  }

  /**
   * @param {Summary} s
   * @param {Shape} shape
   */
  function drawRow(s, shape) {
    const m = shape.message;
    const row = h("div", { class: "message-row", attrs: { "data-row": m.id } });
    if (shape.day) row.append(h("div", { class: "day-separator", attrs: { role: "separator" } }, h("span", { text: dayLabel(m.created_at) })));
    if (shape.fresh) row.append(h("div", { class: "new-line", attrs: { role: "separator" } }, h("span", { text: "New messages" })));
    row.append(messageView(client, s, m, { continued: shape.continued, actions: options.actions() }));
    if (shape.seenBy) row.append(seenByView(shape.seenBy.split(",")));
    return row;
  }

  /**
   * Index of the first message after the read marker at open written by
   * someone else (the "new messages" line goes before it), or -1.
   * @param {readonly Message[]} all
   */
  function firstFresh(all) {
    if (markerAtOpen === null) return -1;
    const me = store.me?.id;
    for (let i = lowerBound(all, markerAtOpen); i < all.length; i++) {
      const m = all[i];
      if (m.id > markerAtOpen && m.author !== me && m.kind !== "system") return i;
    }
    return -1;
  }

  // ----- scrolling -----

  /**
   * The message element of a row (its last child: the day and "new" lines
   * before it come and go as rows are added above).
   * @param {string} id
   */
  function messageEl(id) {
    return rows.get(id)?.el.lastElementChild || null;
  }

  /** The first message whose bottom is below the list's top edge, and where it is. */
  function topRow() {
    const top = list.getBoundingClientRect().top;
    for (const id of ids) {
      const el = messageEl(id);
      if (!el) continue;
      const rect = el.getBoundingClientRect();
      if (rect.bottom > top) return { id, top: rect.top };
    }
    return null;
  }

  /**
   * Scrolls so that the message `anchor` names is where it was on screen.
   * @param {{id: string, top: number}} anchor
   */
  function keep(anchor) {
    const el = messageEl(anchor.id);
    if (!el) return;
    const shift = el.getBoundingClientRect().top - anchor.top;
    if (shift) list.scrollTop += shift;
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  /**
   * Adds rows above the window: from the store, else a page from the
   * server. Resolves to whether rows were added.
   */
  async function growUp() {
    const s = summary();
    if (!s || !ready || ids.length === 0) return false;
    const id = s.conversation.id;
    let all = messagesOf(s);
    let start = lowerBound(all, ids[0]);
    /** @type {{id: string, top: number} | null} */
    let noted = null;
    if (start === 0) {
      if (loadingOlder || !store.older.get(id)) return false;
      // The page's arrival first redraws the edges (the history note goes),
      // which cannot be made up for while the list is scrolled to the very
      // top: the place is kept against where the top message was now.
      noted = topRow();
      loadingOlder = true;
      try {
        await client.loadHistory(id, true);
      } catch {
        return false;
      } finally {
        loadingOlder = false;
      }
      const now = summary();
      if (shown !== id || !now || ids.length === 0) return false;
      all = messagesOf(now);
      start = lowerBound(all, ids[0]);
      if (start === 0) {
        drawEdges(now, true);
        return false;
      }
    }
    const from = Math.max(0, start - STEP);
    const end = lowerBound(all, /** @type {string} */ (ids.at(-1))) + 1;
    apply(s, from, Math.min(end, from + MAX_ROWS), true, noted);
    return true;
  }

  /**
   * Adds rows below the window: from the store, else (after a gap) a page
   * of newer messages from the server.
   */
  async function growDown() {
    const s = summary();
    if (!s || !ready || ids.length === 0 || atEnd) return;
    const id = s.conversation.id;
    let all = messagesOf(s);
    if (lowerBound(all, /** @type {string} */ (ids.at(-1))) + 1 >= all.length) {
      if (loadingNewer) return;
      loadingNewer = true;
      try {
        await client.loadNewer(id);
      } catch {
        return;
      } finally {
        loadingNewer = false;
      }
      const now = summary();
      if (shown !== id || !now || ids.length === 0) return;
      all = messagesOf(now);
    }
    const start = lowerBound(all, ids[0]);
    const end = Math.min(all.length, lowerBound(all, /** @type {string} */ (ids.at(-1))) + 1 + STEP);
    apply(s, Math.max(start, end - MAX_ROWS), end, true);
  }

  list.addEventListener("scroll", () => {
    if (!ready) return;
    pinned = atEnd && nearBottom();
    if (list.scrollTop < EDGE_PX) growUp();
    else if (!atEnd && list.scrollHeight - list.scrollTop - list.clientHeight < EDGE_PX) growDown();
    showJump();
  });

  /** Shows the "jump to latest" button when the newest messages are out of sight. */
  function showJump() {
    const s = summary();
    const away = !atEnd || list.scrollHeight - list.scrollTop - list.clientHeight > list.clientHeight / 2;
    jumpButton.hidden = !s || !away;
    const count = s && s.unread > 0 ? String(s.unread) : "";
    const label = count ? `Jump to latest, ${count} unread` : "Jump to latest";
    const badge = /** @type {HTMLElement} */ (jumpButton.lastElementChild);
    if (badge.textContent !== count) badge.textContent = count;
    if (jumpButton.getAttribute("aria-label") !== label) jumpButton.setAttribute("aria-label", label);
  }

  /** Shows the newest messages, scrolled to the bottom. */
  async function jumpToLatest() {
    let s = summary();
    if (!s) return;
    const id = s.conversation.id;
    if (store.gaps.has(id)) {
      // Far back after a search: load the newest page again.
      ready = false;
      store.dropHistory(id);
      await attempt(() => client.loadHistory(id, false));
      if (shown !== id) return;
      ready = true;
      s = summary();
      if (shown !== id || !s) return;
    }
    const all = messagesOf(s);
    pinned = true;
    if (atEnd) list.scrollTop = list.scrollHeight;
    else apply(s, Math.max(0, all.length - OPEN_ROWS), all.length, false);
    showJump();
  }

  /**
   * Scrolls to a message and highlights it; a message not in the stretch
   * held is loaded with the page around it.
   * @param {string} id
   */
  async function jump(id) {
    const conversation = shown;
    if (!conversation) return;
    if (!store.stretch(conversation).some((m) => m.id === id)) {
      ready = false;
      await attempt(() => client.loadAround(conversation, id));
      if (shown !== conversation) return;
      ready = true;
    }
    const s = summary();
    if (conversation !== shown || !s) return;
    if (!rows.has(id)) {
      const all = messagesOf(s);
      const index = lowerBound(all, id);
      if (all[index]?.id !== id) return;
      const start = Math.max(0, index - STEP);
      pinned = false;
      apply(s, start, Math.min(all.length, start + MAX_ROWS), false);
    }
    const target = rows.get(id)?.el.querySelector(`[data-id="${CSS.escape(id)}"]`);
    if (!(target instanceof HTMLElement)) return;
    target.scrollIntoView({ block: "center" });
    target.classList.add("highlight");
    target.focus({ preventScroll: true });
    setTimeout(() => target.classList.remove("highlight"), 2000);
  }

  /** Scrolls to the newest message (after sending one). */
  function toBottom() {
    jumpToLatest();
  }

  /**
   * Asks for the delivery state of one's latest messages to remote members.
   * @param {Summary} s
   * @param {readonly Message[]} all
   */
  function loadDeliveries(s, all) {
    const remote = s.conversation.members.some((m) => store.users.get(m.user)?.domain);
    if (!remote) return;
    const me = store.me?.id;
    /** @type {Message[]} */
    const own = [];
    for (let i = all.length - 1; i >= 0 && own.length < 5; i--) if (all[i].author === me && !all[i].deleted) own.push(all[i]);
    for (const m of own) {
      const known = store.deliveries.get(m.id);
      if (!known || known.some((d) => d.state === "queued" || d.state === "retrying")) {
        if (!pendingDeliveries.has(m.id)) {
          pendingDeliveries.add(m.id);
          setTimeout(() => client.loadDeliveries(m.id).finally(() => pendingDeliveries.delete(m.id)), known ? 5000 : 0);
        }
      }
    }
  }

  return {
    root,
    open,
    update,
    jump,
    toBottom,
    get rowCount() {
      return rows.size;
    },
  };
}
