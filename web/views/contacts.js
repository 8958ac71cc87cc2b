// Contacts: find local users by name or remote ones by @name@host, invite
// them, answer invitations, and the list of contacts and blocked people.

import { avatar, h } from "../format.js";
import { attempt, nameOf, srOnly } from "./common.js";

/** @typedef {import("../client.js").Client} Client */
/** @typedef {import("../types.js").User} User */

const HANDLE = /^@?[A-Za-z0-9_.-]+@[A-Za-z0-9.-]+(:\d+)?$/;

/**
 * @param {Client} client
 * @param {HTMLElement} pane
 * @param {{profile: (user: string) => void, message: (user: string) => void}} actions
 */
export function createContacts(client, pane, actions) {
  const store = client.store;
  const query = h("input", { attrs: { type: "search", placeholder: "Name or @name@server", "aria-label": "Find people", autocomplete: "off" } });
  const results = h("ul", { class: "people", attrs: { "aria-label": "Search results" } });
  const lists = h("div");
  const status = h("p", { class: "empty-note", attrs: { role: "status" } });
  const form = h("form", { class: "list-tools", attrs: { role: "search" } }, query, h("button", { class: "small", text: "Find", attrs: { type: "submit" } }));
  pane.replaceChildren(form, status, results, lists);
  let searchSeq = 0;
  /** @type {string[]} ids of the last search's results */
  let found = [];

  async function runSearch() {
    const text = query.value.trim();
    const seq = ++searchSeq;
    if (!text) {
      found = [];
      status.textContent = "";
      render();
      return;
    }
    status.textContent = "Searching…";
    /** @type {User[]} */
    let users = [];
    try {
      if (HANDLE.test(text)) {
        const user = await client.loadUser(text.startsWith("@") ? text : `@${text}`);
        users = user ? [user] : [];
      } else {
        users = await client.search(text.replace(/^@/, ""));
      }
    } catch (e) {
      if (seq !== searchSeq) return;
      // Results of an earlier search would look like answers to this one.
      found = [];
      results.replaceChildren();
      status.textContent = e instanceof Error ? e.message : String(e);
      render();
      return;
    }
    if (seq !== searchSeq) return;
    users = users.filter((u) => u.id !== store.me?.id);
    for (const u of users) store.users.set(u.id, u);
    status.textContent = users.length ? "" : "Nobody found.";
    found = users.map((u) => u.id);
    render();
  }

  let timer = /** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined);
  query.addEventListener("input", () => {
    clearTimeout(timer);
    if (!HANDLE.test(query.value.trim())) timer = setTimeout(runSearch, 250);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    runSearch();
  });

  /**
   * A row for a user with the actions their relation allows.
   * @param {string} id
   * @param {boolean} fromSearch
   */
  function person(id, fromSearch) {
    const user = store.users.get(id);
    const name = nameOf(store, id);
    const contact = store.contacts.get(id);
    const blocked = store.blocks.has(id);
    const buttons = h("div", { class: "row-actions" });
    /**
     * @param {string} text
     * @param {string} label
     * @param {() => Promise<unknown>} act
     * @param {string} [cls]
     */
    const button = (text, label, act, cls = "small") =>
      h("button", { class: cls, text, attrs: { type: "button", "aria-label": label }, on: { click: () => attempt(act) } });
    if (blocked) {
      buttons.append(button("Unblock", `Unblock ${name}`, () => client.request("contact.unblock", { user: id })));
    } else if (!contact) {
      buttons.append(button("Invite", `Invite ${name}`, () => client.request("contact.invite", { user: id }), "small primary"));
    } else if (contact.state === "pending_incoming") {
      buttons.append(
        button("Accept", `Accept ${name}`, () => client.request("contact.accept", { user: id }), "small primary"),
        button("Decline", `Decline ${name}`, () => client.request("contact.decline", { user: id })),
      );
    } else if (contact.state === "pending_outgoing") {
      buttons.append(button("Cancel", `Cancel invitation to ${name}`, () => client.request("contact.cancel", { user: id })));
    } else if (contact.state === "accepted") {
      buttons.append(button("Message", `Message ${name}`, async () => actions.message(id), "small primary"));
    }
    const handle = user ? `@${user.name}` : "";
    const relation = contact ? { pending_incoming: "wants to be your contact", pending_outgoing: "invitation sent", accepted: fromSearch ? "contact" : "", none: "" }[contact.state] : "";
    const sub = [fromSearch || !relation ? handle : "", relation].filter(Boolean).join(" · ");
    const open = h(
      "button",
      // Named by its content (which starts with the words below), so the
      // visible name and handle are part of the accessible name.
      { class: "person-open", attrs: { type: "button" }, on: { click: () => actions.profile(id) } },
      srOnly("Profile of "),
      avatar(name, user?.avatar_url, id, "m"),
      h("span", { class: "item-text" }, h("strong", { text: name }), h("small", { text: blocked ? "blocked" : sub })),
    );
    return h("li", { class: "person" }, open, buttons);
  }

  /**
   * @param {string} heading
   * @param {string[]} ids
   */
  function section(heading, ids) {
    if (!ids.length) return null;
    return h("section", { class: "people-section", attrs: { "aria-label": heading } }, h("h3", { text: heading }), h("ul", { class: "people" }, ...ids.map((id) => person(id, false))));
  }

  function render() {
    const all = [...store.contacts.values()];
    // Someone among the search results shows there once, with their state,
    // and not again in the lists below.
    const shown = new Set(found);
    /** @param {string} state */
    const of = (state) => all.filter((c) => c.state === state && !store.blocks.has(c.user) && !shown.has(c.user)).map((c) => c.user);
    const parts = [
      section("Invitations", of("pending_incoming")),
      section("Contacts", of("accepted")),
      section("Invited", of("pending_outgoing")),
      section("Blocked", [...store.blocks].filter((id) => !shown.has(id))),
    ].filter((x) => x !== null);
    const empty = all.length === 0 && store.blocks.size === 0;
    lists.replaceChildren(...(parts.length || !empty ? parts : [h("p", { class: "empty-note", text: "No contacts yet. Search for people above." })]));
    results.replaceChildren(...found.map((id) => person(id, true)));
  }

  render();
  return { render };
}
