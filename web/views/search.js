// Message search: a dialog with a query box and the matching messages of
// every conversation one can read (the server's `message.search`), newest
// first, with "More results" for the next page. Matched words are marked
// from the server's UTF-16 ranges, as text nodes (never HTML). Choosing a
// result opens its conversation at that message.

import { h, dayLabel } from "../format.js";
import { nameOf, openDialog } from "./common.js";
import { conversationTitle } from "./sidebar.js";

/** @typedef {import("../client.js").Client} Client */
/** @typedef {import("../types.js").Message} Message */

/**
 * One result of `message.search`.
 * @typedef {object} SearchHit
 * @property {string} conversation
 * @property {Message} message
 * @property {{start: number, end: number}[]} highlights
 */

/** @typedef {{results: SearchHit[], next_cursor: string | null}} SearchPage */

/** Results per page. */
const PAGE = 20;

/**
 * A body with its matched ranges in `<mark>`; the ranges count UTF-16
 * units, as JavaScript strings do.
 * @param {string} body
 * @param {{start: number, end: number}[]} ranges
 */
export function markedBody(body, ranges) {
  /** @type {(Node | string)[]} */
  const parts = [];
  let at = 0;
  for (const { start, end } of ranges) {
    if (start < at || end > body.length || start >= end) continue;
    if (start > at) parts.push(body.slice(at, start));
    parts.push(h("mark", { text: body.slice(start, end) }));
    at = end;
  }
  if (at < body.length) parts.push(body.slice(at));
  return parts;
}

/**
 * Opens the search dialog.
 * @param {Client} client
 * @param {(conversation: string, message: string) => void} open shows a conversation at a message
 */
export function searchDialog(client, open) {
  const store = client.store;
  const query = h("input", { attrs: { type: "search", placeholder: "Words, \"a phrase\", prefix*", "aria-label": "Search messages", autocomplete: "off", maxlength: "256" } });
  const form = h("form", { class: "list-tools", attrs: { role: "search" } }, query, h("button", { class: "small primary", text: "Search", attrs: { type: "submit" } }));
  const status = h("p", { class: "empty-note", attrs: { role: "status", "aria-live": "polite" } });
  const list = h("ul", { class: "search-results", attrs: { "aria-label": "Search results" } });
  const more = h("button", { class: "small", text: "More results", attrs: { type: "button", hidden: "" } });
  const dialog = openDialog("Search messages", [form, status, list, more], { wide: true });
  /** @type {string | null} */
  let cursor = null;
  let text = "";
  let seq = 0;

  /** @param {boolean} next whether to add the next page to the shown one */
  async function run(next) {
    const mine = ++seq;
    if (!next) {
      text = query.value.trim();
      cursor = null;
      list.replaceChildren();
    }
    if (!text) {
      status.textContent = "";
      more.hidden = true;
      return;
    }
    status.textContent = "Searching…";
    /** @type {Record<string, unknown>} */
    const data = { q: text, limit: PAGE };
    if (next && cursor) data.cursor = cursor;
    try {
      const page = /** @type {SearchPage} */ (await client.request("message.search", data));
      if (mine !== seq) return;
      for (const hit of page.results) list.append(resultView(hit));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      status.textContent = list.childElementCount ? "" : "No messages found.";
    } catch (e) {
      if (mine !== seq) return;
      status.textContent = e instanceof Error ? e.message : String(e);
      more.hidden = true;
    }
  }

  /** @param {SearchHit} hit */
  function resultView(hit) {
    const m = hit.message;
    const s = store.summaries.get(hit.conversation);
    const where = s ? conversationTitle(client, s.conversation) : "A conversation";
    const button = h(
      "button",
      { class: "search-hit", attrs: { type: "button", "data-message": m.id } },
      h("span", { class: "search-where" }, h("strong", { text: where }), ` · ${nameOf(store, m.author)} · ${dayLabel(m.created_at)}`),
      h("span", { class: "search-body" }, ...markedBody(m.body, hit.highlights)),
    );
    button.addEventListener("click", () => {
      dialog.close();
      open(hit.conversation, m.id);
    });
    return h("li", {}, button);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(false);
  });
  more.addEventListener("click", () => run(true));
  query.focus();
  return dialog;
}
