// Pieces the views share: names of users, modal dialogs, confirmations
// and short notices.

import { h } from "../format.js";
import { icon } from "../icons.js";

/** @typedef {import("../store.js").Store} Store */

/**
 * The name to show for a user id.
 * @param {Store} store
 * @param {string | null | undefined} id
 */
export function nameOf(store, id) {
  if (!id) return "Deleted account";
  const user = store.users.get(id);
  if (!user) return "…";
  return user.display_name || user.name;
}

/**
 * Text for screen readers only (a prefix or a separator the eye does not need).
 * @param {string} text
 */
export function srOnly(text) {
  return h("span", { class: "visually-hidden", text });
}

/**
 * A presence in words; `unknown` while offline.
 * @param {string} status
 */
export function presenceText(status) {
  return status === "unknown" ? "presence unknown while offline" : status;
}

/**
 * A modal dialog; Esc and the close button dismiss it.
 * @param {string} title
 * @param {(Node | string)[]} content
 * @param {{wide?: boolean}} [options]
 */
export function openDialog(title, content, options = {}) {
  const heading = h("h2", { text: title });
  heading.id = `dialog-title-${Math.random().toString(36).slice(2)}`;
  const close = h("button", { class: "icon-button", attrs: { type: "button", "aria-label": "Close" } }, icon("close"));
  const dialog = h(
    "dialog",
    { class: options.wide ? "sheet wide" : "sheet", attrs: { "aria-labelledby": heading.id } },
    h("header", { class: "sheet-head" }, heading, close),
    h("div", { class: "sheet-body" }, ...content),
  );
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/**
 * Asks to confirm a destructive action.
 * @param {string} question
 * @param {string} action the confirming button's text
 * @returns {Promise<boolean>}
 */
export function confirmAction(question, action) {
  return new Promise((resolve) => {
    let answer = false;
    const yes = h("button", { class: "danger", text: action, attrs: { type: "button" } });
    const no = h("button", { text: "Cancel", attrs: { type: "button" } });
    const dialog = openDialog(question, [h("div", { class: "actions" }, no, yes)]);
    yes.addEventListener("click", () => {
      answer = true;
      dialog.close();
    });
    no.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => resolve(answer));
    yes.focus();
  });
}

/**
 * A short notice at the bottom of the screen (errors of actions).
 * @param {string} text
 */
export function toast(text) {
  let region = document.getElementById("toasts");
  if (!region) {
    region = h("div", { class: "toasts", attrs: { role: "status", "aria-live": "polite" } });
    region.id = "toasts";
    document.body.append(region);
  }
  const note = h("div", { class: "toast", text });
  region.append(note);
  setTimeout(() => note.remove(), 5000);
}

/**
 * Runs an action and shows its error, if any.
 * @param {() => Promise<unknown>} action
 */
export async function attempt(action) {
  try {
    await action();
    return true;
  } catch (e) {
    toast(e instanceof Error ? e.message : String(e));
    return false;
  }
}

/**
 * A labelled form field.
 * @param {string} label
 * @param {HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement} control
 */
export function field(label, control) {
  if (!control.id) control.id = `f-${Math.random().toString(36).slice(2)}`;
  return h("div", { class: "field" }, h("label", { text: label, attrs: { for: control.id } }), control);
}
