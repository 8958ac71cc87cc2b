// Mentions in the web client: the `@name` of each member a message
// mentions (its `mentions`, from the server) becomes a link that opens
// their profile, marked when it is the reader; and the composer's `@`
// autocomplete over the conversation's members (arrow keys, Enter or Tab
// to pick, Escape to close).

import { h } from "./format.js";

/** @typedef {import("./types.js").User} User */

/**
 * The handles `user` can be written with, lowercased: their name (a
 * remote user's already ends in `@host`), and a local user's
 * `name@this-host`.
 * @param {User} user
 * @returns {string[]}
 */
export function handlesOf(user) {
  const name = user.name.toLowerCase();
  return user.domain ? [name] : [name, `${name}@${location.host.toLowerCase()}`];
}

/** How a user is written in a message: `@name` (remote users' names carry their host). */
export function handleText(/** @type {User} */ user) {
  return `@${user.name}`;
}

const MENTION = /(^|[^\w@/.-])@([A-Za-z0-9_.-]+(?:@[A-Za-z0-9.:-]*[A-Za-z0-9])?)/g;

/**
 * Turns the `@handle`s of `mentioned` users in `root`'s text (outside code
 * and links) into links.
 * @param {Node} root
 * @param {User[]} mentioned
 * @param {string | undefined} me the reader's id
 * @param {(id: string) => void} open
 */
export function markMentions(root, mentioned, me, open) {
  if (!mentioned.length) return;
  /** @type {Map<string, User>} */
  const byHandle = new Map();
  for (const user of mentioned) for (const handle of handlesOf(user)) byHandle.set(handle, user);
  /** @type {Text[]} */
  const texts = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.parentElement?.closest("code, pre, a")) texts.push(/** @type {Text} */ (n));
  }
  for (const text of texts) {
    const value = text.data;
    /** @type {(Node | string)[]} */
    const parts = [];
    let last = 0;
    for (const m of value.matchAll(MENTION)) {
      const written = m[2].replace(/[.\-:]+$/, "");
      const user = byHandle.get(written.toLowerCase()) || byHandle.get(written.split("@")[0].toLowerCase());
      if (!user) continue;
      const start = (m.index ?? 0) + m[1].length;
      const shown = byHandle.get(written.toLowerCase()) ? written : written.split("@")[0];
      parts.push(value.slice(last, start));
      const link = h("a", {
        class: user.id === me ? "mention me" : "mention",
        text: `@${shown}`,
        attrs: { href: "#", title: user.display_name || user.name, "data-user": user.id },
        on: { click: (event) => { event.preventDefault(); open(user.id); } },
      });
      parts.push(link);
      last = start + 1 + shown.length;
    }
    if (!parts.length) continue;
    parts.push(value.slice(last));
    text.replaceWith(...parts.filter((p) => p !== ""));
  }
}

/**
 * The `@` being typed just before the caret: where it starts and what
 * follows it; null when the caret is not in one.
 * @param {string} text
 * @param {number} caret
 * @returns {{start: number, query: string} | null}
 */
export function typedMention(text, caret) {
  const m = /(^|[^\w@/.-])@([A-Za-z0-9_.-]*)$/.exec(text.slice(0, caret));
  return m ? { start: caret - m[2].length - 1, query: m[2].toLowerCase() } : null;
}

/** Suggestions shown at most. */
const SHOWN_MAX = 8;

/**
 * Adds the `@` autocomplete to the composer `input`.
 * @param {HTMLTextAreaElement} input
 * @param {() => User[]} members the conversation's members, but the writer
 * @returns {{root: HTMLElement, close: () => void, handles: (event: KeyboardEvent) => boolean}}
 */
export function mentionAutocomplete(input, members) {
  const list = h("ul", { class: "mention-list", attrs: { role: "listbox", id: "mention-list", "aria-label": "Mention someone", hidden: true } });
  /** @type {User[]} */
  let shown = [];
  let active = 0;
  /** @type {{start: number, query: string} | null} */
  let typed = null;

  function close() {
    shown = [];
    typed = null;
    list.hidden = true;
    list.replaceChildren();
    input.removeAttribute("aria-activedescendant");
  }

  function draw() {
    list.replaceChildren(
      ...shown.map((user, i) =>
        h(
          "li",
          {
            class: i === active ? "active" : "",
            attrs: { role: "option", id: `mention-option-${i}`, "aria-selected": String(i === active) },
            // mousedown, not click: the textarea keeps the focus.
            on: { mousedown: (event) => { event.preventDefault(); pick(user); } },
          },
          h("strong", { text: user.display_name || user.name }),
          " ",
          h("span", { class: "muted", text: handleText(user) }),
        ),
      ),
    );
    list.hidden = shown.length === 0;
    if (shown.length) input.setAttribute("aria-activedescendant", `mention-option-${active}`);
    else input.removeAttribute("aria-activedescendant");
  }

  function update() {
    typed = typedMention(input.value, input.selectionStart ?? input.value.length);
    if (!typed) return close();
    const query = typed.query;
    shown = members()
      .filter((u) => u.name.toLowerCase().startsWith(query) || (u.display_name || "").toLowerCase().split(/\s+/).some((w) => w.startsWith(query)))
      .slice(0, SHOWN_MAX);
    active = 0;
    draw();
  }

  /** @param {User} user */
  function pick(user) {
    if (!typed) return;
    const caret = input.selectionStart ?? input.value.length;
    const inserted = `${handleText(user)} `;
    input.value = input.value.slice(0, typed.start) + inserted + input.value.slice(caret);
    const at = typed.start + inserted.length;
    input.setSelectionRange(at, at);
    close();
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  input.setAttribute("aria-controls", "mention-list");
  // aria-expanded is not allowed on a textarea (its role is textbox, not
  // combobox); the open list is announced through aria-activedescendant.
  input.setAttribute("aria-autocomplete", "list");
  input.addEventListener("input", update);
  input.addEventListener("blur", close);

  /**
   * Handles the keys the list takes while it is open; true when taken.
   * @param {KeyboardEvent} event
   */
  function handles(event) {
    if (list.hidden || !shown.length || event.isComposing) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      active = (active + (event.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
      draw();
    } else if (event.key === "Enter" || event.key === "Tab") {
      pick(shown[active]);
    } else if (event.key === "Escape") {
      close();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  return { root: list, close, handles };
}
