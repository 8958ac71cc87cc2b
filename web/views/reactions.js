// Reactions to a message: the bar under its bubble (one chip per emoji
// with its count, pressed when the user is among those who reacted; a
// click toggles the user's own reaction) and the emoji picker, a dialog
// with a bounded set of common emoji and a field to type any one emoji.

import { h } from "../format.js";
import { nameOf, openDialog, field } from "./common.js";

/** @typedef {import("../types.js").Message} Message */
/** @typedef {import("../store.js").Store} Store */

/** What the picker offers at once; any other emoji can be typed. */
export const COMMON_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀", "🔥", "✅", "👎", "🤔"];

/**
 * The chips of a message's reactions, or null when it has none.
 * @param {Store} store
 * @param {Message} message
 * @param {boolean} canReact
 * @param {(emoji: string, on: boolean) => void} toggle
 */
export function reactionBar(store, message, canReact, toggle) {
  const list = message.reactions || [];
  if (!list.length) return null;
  return h(
    "div",
    { class: "reactions", attrs: { role: "group", "aria-label": "Reactions" } },
    ...list.map((r) => {
      const names = r.users.map((u) => (u === store.me?.id ? "you" : nameOf(store, u)));
      const more = r.count > names.length ? ` and ${r.count - names.length} more` : "";
      return h(
        "button",
        {
          class: `reaction${r.me ? " mine" : ""}`,
          attrs: {
            type: "button",
            "aria-pressed": String(r.me),
            "aria-label": `${r.emoji} ${r.count}${r.me ? ", including you" : ""}`,
            title: `${names.join(", ")}${more}`,
            "data-emoji": r.emoji,
            disabled: !canReact,
          },
          on: { click: () => toggle(r.emoji, !r.me) },
        },
        h("span", { class: "emoji", text: r.emoji, attrs: { "aria-hidden": "true" } }),
        h("span", { class: "count", text: String(r.count), attrs: { "aria-hidden": "true" } }),
      );
    }),
  );
}

/**
 * Asks for one emoji; resolves to it, or null when dismissed.
 * @returns {Promise<string | null>}
 */
export function pickEmoji() {
  return new Promise((resolve) => {
    /** @type {string | null} */
    let chosen = null;
    const typed = h("input", { attrs: { type: "text", maxlength: "16", autocomplete: "off", placeholder: "Type an emoji" } });
    const grid = h(
      "div",
      { class: "emoji-grid", attrs: { role: "group", "aria-label": "Common emoji" } },
      ...COMMON_EMOJI.map((emoji) =>
        h("button", { class: "emoji-choice", text: emoji, attrs: { type: "button", "aria-label": `React with ${emoji}` }, on: { click: () => choose(emoji) } }),
      ),
    );
    const form = h(
      "form",
      { class: "emoji-typed" },
      field("Or type one emoji", /** @type {HTMLInputElement} */ (typed)),
      h("div", { class: "actions" }, h("button", { class: "primary", text: "React", attrs: { type: "submit" } })),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = /** @type {HTMLInputElement} */ (typed).value.trim();
      if (value) choose(value);
    });
    const dialog = openDialog("Add a reaction", [grid, form]);
    dialog.classList.add("emoji-picker");
    dialog.addEventListener("close", () => resolve(chosen));
    /** @type {HTMLElement | null} */ (grid.firstElementChild)?.focus();

    /** @param {string} emoji */
    function choose(emoji) {
      chosen = emoji;
      dialog.close();
    }
  });
}
