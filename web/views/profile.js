// Profiles: one's own (display name, bio, avatar URL, links) to edit, and
// other people's to read, with the contact and block actions.

import { avatar, h, link, linkify, present, safeUrl } from "../format.js";
import { attempt, confirmAction, field, nameOf, openDialog, presenceText } from "./common.js";
import { reportDialog } from "./reports.js";

/** @typedef {import("../client.js").Client} Client */

/**
 * @param {Client} client
 * @param {() => void} logout
 */
export function ownProfileDialog(client, logout) {
  const me = client.store.me;
  if (!me) return;
  const displayName = h("input", { attrs: { value: me.display_name, maxlength: "64", autocomplete: "nickname" } });
  const bio = h("textarea", { attrs: { rows: "3", maxlength: "1000" } });
  bio.value = me.bio;
  const avatarUrl = h("input", { attrs: { type: "url", value: me.avatar_url || "", placeholder: "https://…", inputmode: "url" } });
  const links = h("div", { class: "link-rows" });
  const error = h("p", { class: "form-error", attrs: { role: "alert" } });

  /** @param {{name: string, url: string}} value */
  function linkRow(value) {
    const n = links.childElementCount + 1;
    const name = h("input", { attrs: { value: value.name, maxlength: "32", "aria-label": `Link ${n} name`, placeholder: "Name" } });
    const url = h("input", { attrs: { type: "url", value: value.url, "aria-label": `Link ${n} URL`, placeholder: "https://…" } });
    const row = h("div", { class: "link-row" }, name, url, h("button", { class: "icon-button small", text: "✕", attrs: { type: "button", "aria-label": `Remove link ${n}` }, on: { click: () => row.remove() } }));
    links.append(row);
  }
  for (const l of me.profile_links) linkRow(l);
  const addLink = h("button", { class: "small", text: "Add link", attrs: { type: "button" }, on: { click: () => links.childElementCount < 8 && linkRow({ name: "", url: "" }) } });
  const save = h("button", { class: "primary", text: "Save profile", attrs: { type: "submit" } });
  const form = h(
    "form",
    { class: "profile-form" },
    h("div", { class: "profile-card" }, avatar(me.display_name || me.name, me.avatar_url, me.id, "l"), h("div", {}, h("strong", { text: me.display_name || me.name }), h("p", { class: "muted", text: `@${me.name}` }))),
    field("Display name", displayName),
    field("Bio", bio),
    field("Avatar URL", avatarUrl),
    h("fieldset", {}, h("legend", { text: "Profile links" }), links, addLink),
    error,
    h("div", { class: "actions" }, h("button", { class: "danger-outline", text: "Log out", attrs: { type: "button" }, on: { click: logout } }), save),
  );
  const dialog = openDialog("Your profile", [form, privacySection(client), securitySection(client)]);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const profileLinks = [...links.children].map((row) => {
      const [name, url] = row.querySelectorAll("input");
      return { name: name.value.trim(), url: url.value.trim() };
    }).filter((l) => l.name || l.url);
    try {
      await client.updateProfile({
        display_name: displayName.value.trim(),
        bio: bio.value,
        avatar_url: avatarUrl.value.trim() || null,
        profile_links: profileLinks,
      });
      dialog.close();
    } catch (e) {
      error.textContent = e instanceof Error ? e.message : String(e);
    }
  });
}

/**
 * The privacy toggles of the account settings: read receipts (off, the
 * others do not see how far one has read, nor one theirs).
 * @param {Client} client
 */
function privacySection(client) {
  const receipts = h("input", { attrs: { type: "checkbox", disabled: true } });
  const status = h("p", { class: "muted", attrs: { role: "status" } });
  const form = h(
    "form",
    { class: "profile-form", attrs: { "aria-label": "Privacy" } },
    h("h3", { text: "Privacy" }),
    h("label", { class: "check" }, receipts, " Share read receipts"),
    h("p", { class: "muted", text: "Off: other members do not see how far you have read, and you do not see theirs." }),
    status,
  );
  attempt(async () => {
    receipts.checked = (await client.settings()).share_read_receipts;
    receipts.disabled = false;
  });
  receipts.addEventListener("change", () =>
    attempt(async () => {
      receipts.disabled = true;
      try {
        receipts.checked = (await client.changeSettings({ share_read_receipts: receipts.checked })).share_read_receipts;
        status.textContent = receipts.checked ? "Read receipts are shared." : "Read receipts are off.";
      } finally {
        receipts.disabled = false;
      }
    }),
  );
  return form;
}

/**
 * Changing one's password and logging out one's other sessions. Both give
 * this session a fresh token; every other session ends.
 * @param {Client} client
 */
function securitySection(client) {
  const current = h("input", { attrs: { type: "password", autocomplete: "current-password", required: true } });
  const fresh = h("input", { attrs: { type: "password", autocomplete: "new-password", required: true, minlength: "8", maxlength: "1024" } });
  const status = h("p", { class: "form-error", attrs: { role: "alert" } });
  const change = h("button", { class: "primary", text: "Change password", attrs: { type: "submit" } });
  const others = h("button", { class: "danger-outline", text: "Log out other sessions", attrs: { type: "button" } });
  const form = h(
    "form",
    { class: "profile-form", attrs: { "aria-label": "Password and sessions" } },
    h("h3", { text: "Password and sessions" }),
    field("Current password", current),
    field("New password", fresh),
    status,
    h("div", { class: "actions" }, others, change),
  );
  /** @param {() => Promise<void>} act @param {string} done */
  async function run(act, done) {
    status.textContent = "";
    change.disabled = others.disabled = true;
    try {
      await act();
      status.className = "muted";
      status.textContent = done;
    } catch (e) {
      status.className = "form-error";
      const wrong = e instanceof Error && "code" in e && e.code === "wrong_password";
      status.textContent = wrong ? "The current password is wrong." : e instanceof Error ? e.message : String(e);
    } finally {
      change.disabled = others.disabled = false;
    }
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(async () => {
      await client.changePassword(current.value, fresh.value);
      current.value = fresh.value = "";
    }, "Password changed. Your other sessions were logged out.");
  });
  others.addEventListener("click", async () => {
    if (!(await confirmAction("Log out all your other sessions?", "Log out others"))) return;
    run(() => client.revokeSessions(), "Your other sessions were logged out.");
  });
  return form;
}

/**
 * Someone else's profile, local or remote.
 * @param {Client} client
 * @param {string} id
 * @param {(user: string) => void} message opens the direct conversation
 */
export async function userProfileDialog(client, id, message) {
  const store = client.store;
  const user = store.users.get(id) || (await client.loadUser(id));
  if (!user) return;
  const body = h("div", { class: "profile-view" });
  const dialog = openDialog(user.display_name || user.name, [body]);
  const render = () => {
    const fresh = store.users.get(id) || user;
    const name = nameOf(store, id);
    const contact = store.contacts.get(id);
    const blocked = store.blocks.has(id);
    const status = store.presenceOf(id);
    const actions = h("div", { class: "actions" });
    /**
     * @param {string} text
     * @param {() => Promise<unknown>} act
     * @param {string} [cls]
     */
    const button = (text, act, cls = "") => h("button", { class: cls, text, attrs: { type: "button" }, on: { click: () => attempt(act) } });
    /**
     * The same, asking first.
     * @param {string} text
     * @param {string} question
     * @param {() => Promise<unknown>} act
     * @param {string} [cls]
     */
    const confirmed = (text, question, act, cls = "") => h("button", { class: cls, text, attrs: { type: "button" }, on: { click: async () => (await confirmAction(question, text)) && attempt(act) } });
    if (contact?.state === "accepted" && !blocked) {
      actions.append(button("Message", async () => { dialog.close(); message(id); }, "primary"), confirmed("Remove contact", `Remove ${name} from your contacts?`, () => client.request("contact.remove", { user: id })));
    } else if (contact?.state === "pending_incoming" && !blocked) {
      actions.append(button("Accept invitation", () => client.request("contact.accept", { user: id }), "primary"), button("Decline", () => client.request("contact.decline", { user: id })));
    } else if (contact?.state === "pending_outgoing" && !blocked) {
      actions.append(button("Cancel invitation", () => client.request("contact.cancel", { user: id })));
    } else if (!blocked) {
      actions.append(button("Invite as contact", () => client.request("contact.invite", { user: id }), "primary"));
    }
    actions.append(blocked ? button("Unblock", () => client.request("contact.unblock", { user: id })) : confirmed("Block", `Block ${name}?`, () => client.request("contact.block", { user: id }), "danger-outline"));
    actions.append(h("button", { class: "danger-outline", text: "Report", attrs: { type: "button" }, on: { click: () => reportDialog(client, { user: id }) } }));
    const linkList = h("ul", { class: "profile-links" });
    for (const l of fresh.profile_links) {
      const href = safeUrl(l.url);
      linkList.append(h("li", {}, h("span", { class: "muted", text: `${l.name}: ` }), href ? link(href, l.url) : l.url));
    }
    body.replaceChildren(...present([
      h("div", { class: "profile-card" }, h("span", { class: "avatar-wrap" }, avatar(name, fresh.avatar_url, id, "l"), h("span", { class: `presence ${status}` })), h("div", {}, h("strong", { text: name }), h("p", { class: "muted", text: `@${fresh.name}${fresh.domain ? "" : ` · ${presenceText(status)}`}` }))),
      fresh.bio ? h("p", { class: "bio" }, linkify(fresh.bio)) : null,
      fresh.profile_links.length ? linkList : null,
      h("p", { class: "muted", text: blocked ? "You block this person." : contact?.state === "accepted" ? "In your contacts." : "" }),
      actions,
    ]));
  };
  const onChange = () => (dialog.open ? render() : store.removeEventListener("change", onChange));
  store.addEventListener("change", onChange);
  render();
}
