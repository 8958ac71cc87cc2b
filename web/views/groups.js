// Groups: create one, join one hosted on another server, and manage one
// (name, topic, invitation link, join requests, pinned messages, members
// and their rights, leave, delete) within what the caller's rights allow.

import { avatar, h, listTime } from "../format.js";
import { RANK } from "../client.js";
import { RequestError } from "../socket.js";
import { attempt, confirmAction, field, nameOf, openDialog, srOnly, toast } from "./common.js";

/** @typedef {import("../client.js").Client} Client */
/** @typedef {import("../types.js").Rights} Rights */
/** @typedef {import("../types.js").JoinRequest} JoinRequest */

/**
 * @param {Client} client
 * @param {(conversation: string) => void} opened
 */
export function newGroupDialog(client, opened) {
  const name = h("input", { attrs: { required: true, maxlength: "64" } });
  const topic = h("input", { attrs: { maxlength: "256" } });
  const members = h("input", { attrs: { placeholder: "bob, cy, @dee@example.org", autocomplete: "off" } });
  const error = h("p", { class: "form-error", attrs: { role: "alert" } });
  const form = h(
    "form",
    {},
    field("Group name", name),
    field("Topic", topic),
    field("Members (names, separated by commas)", members),
    error,
    h("div", { class: "actions" }, h("button", { class: "primary", text: "Create group", attrs: { type: "submit" } })),
  );
  const dialog = openDialog("New group", [form]);
  name.focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const list = members.value.split(",").map((m) => m.trim()).filter(Boolean);
    try {
      const conversation = await client.request("conversation.create", { kind: "group", name: name.value.trim(), topic: topic.value.trim(), members: list });
      dialog.close();
      opened(conversation.id);
    } catch (e) {
      error.textContent = e instanceof Error ? e.message : String(e);
    }
  });
}

/**
 * Asks a group hosted on another server, by its invitation link, to let
 * the user in.
 * @param {Client} client
 */
export function joinGroupDialog(client) {
  const url = h("input", { attrs: { type: "url", required: true, placeholder: "https://example.org/groups/…", autocomplete: "off" } });
  const error = h("p", { class: "form-error", attrs: { role: "alert" } });
  const sent = h("p", { class: "form-note", attrs: { role: "status" } });
  const submit = h("button", { class: "primary", text: "Ask to join", attrs: { type: "submit" } });
  const form = h(
    "form",
    {},
    field("Group link", url),
    h("p", { class: "muted", text: "Paste the invitation link of a group on another server. Its admins decide; the group appears in your list once they let you in." }),
    error,
    sent,
    h("div", { class: "actions" }, submit),
  );
  openDialog("Join a group", [form]);
  url.focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    sent.textContent = "";
    submit.disabled = true;
    try {
      await client.joinGroup(url.value.trim());
      sent.textContent = "Request sent. The group will appear in your list once an admin lets you in.";
      url.value = "";
    } catch (e) {
      error.textContent = joinError(e);
    } finally {
      submit.disabled = false;
    }
  });
}

/**
 * Why a request to join was refused, in words.
 * @param {unknown} e
 */
function joinError(e) {
  if (!(e instanceof RequestError)) return e instanceof Error ? e.message : String(e);
  if (e.code === "conflict") return "You are already a member of this group.";
  if (e.code === "not_found") return "No group was found at this link, or its server did not answer.";
  return e.message;
}

/**
 * @param {Client} client
 * @param {string} id
 * @param {(user: string) => void} profile
 */
export function groupSettingsDialog(client, id, profile) {
  const store = client.store;
  const body = h("div", { class: "group-settings" });
  const dialog = openDialog("Group settings", [body], { wide: true });
  const name = h("input", { attrs: { required: true, maxlength: "64" } });
  const topic = h("input", { attrs: { maxlength: "256" } });
  const details = h("form", {}, field("Group name", name), field("Topic", topic), h("div", { class: "actions" }, h("button", { class: "primary small", text: "Save", attrs: { type: "submit" } })));
  const addUsers = h("input", { attrs: { placeholder: "bob, cy, @dee@example.org", autocomplete: "off" } });
  const addRights = rightsSelect("write", ["read", "write"], "Rights of new members");
  const addForm = h("form", { class: "add-member" }, field("Add members", addUsers), addRights, h("button", { class: "small primary", text: "Add", attrs: { type: "submit" } }));
  let filled = false;
  let drawn = "";
  const membersHeading = h("h3");
  const memberList = h("ul", { class: "people", attrs: { "aria-label": "Members" } });
  const leave = h("button", {
    class: "danger-outline",
    text: "Leave group",
    attrs: { type: "button" },
    on: {
      click: async () => {
        if (await confirmAction("Leave this group?", "Leave")) attempt(() => client.request("conversation.leave", { conversation: id }));
      },
    },
  });
  const remove = h("button", {
    class: "danger",
    text: "Delete group",
    attrs: { type: "button" },
    on: {
      click: async () => {
        if (await confirmAction("Delete this group and all its messages?", "Delete group")) attempt(() => client.request("conversation.delete", { conversation: id }));
      },
    },
  });
  const hostedNote = h("p", { class: "muted", text: "This group is hosted on another server: changes are sent there and show once it applies them. Deleting the group or handing over ownership is done there." });
  const requests = joinRequestsSection(client, id, profile);
  const pins = pinsSection(client, id);
  body.append(details, invitationLink(client, id), requests.root, pins.root, membersHeading, memberList, addForm, h("div", { class: "actions spread" }, leave, remove), hostedNote);

  details.addEventListener("submit", (event) => {
    event.preventDefault();
    const saved = store.summaries.get(id)?.conversation.hosted_by ? "Sent to the group's server" : "Group saved";
    attempt(() => client.request("conversation.update", { conversation: id, name: name.value.trim(), topic: topic.value.trim() })).then((ok) => ok && toast(saved));
  });
  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const users = addUsers.value.split(",").map((u) => u.trim()).filter(Boolean);
    if (!users.length) return;
    if (await attempt(() => client.request("conversation.members.add", { conversation: id, users, rights: addRights.value }))) addUsers.value = "";
  });

  function render() {
    const s = store.summaries.get(id);
    if (!s) {
      dialog.close();
      return;
    }
    const c = s.conversation;
    const mine = RANK[s.rights];
    requests.render();
    pins.render();
    if (!filled) {
      name.value = c.name || "";
      topic.value = c.topic;
      filled = true;
    }
    for (const input of [name, topic]) input.disabled = mine < RANK.admin;
    details.querySelector("button")?.toggleAttribute("hidden", mine < RANK.admin);
    /** @type {Rights[]} */
    const grantable = s.rights === "owner" ? ["read", "write", "admin"] : ["read", "write"];
    // Redraw the rows only when they would change, so that a control is
    // not replaced while someone is using it.
    const signature = JSON.stringify([c.members, c.members.map((m) => nameOf(store, m.user)), s.rights]);
    if (signature === drawn) return;
    drawn = signature;
    const chosen = addRights.value || "write";
    addRights.replaceChildren(...grantable.map((r) => h("option", { text: r, attrs: { value: r } })));
    addRights.value = chosen;
    const rows = c.members.map((m) => {
      const who = nameOf(store, m.user);
      const self = m.user === store.me?.id;
      const manageable = !self && mine >= RANK.admin && RANK[m.rights] < mine;
      const controls = h("div", { class: "row-actions" });
      if (manageable) {
        const select = rightsSelect(m.rights, grantable.includes(m.rights) ? grantable : [m.rights, ...grantable], `Rights of ${who}`);
        select.addEventListener("change", () => attempt(() => client.request("conversation.members.rights", { conversation: id, user: m.user, rights: select.value })));
        controls.append(select, h("button", { class: "small danger-outline", text: "Remove", attrs: { type: "button", "aria-label": `Remove ${who}` }, on: { click: async () => (await confirmAction(`Remove ${who} from the group?`, "Remove")) && attempt(() => client.request("conversation.members.remove", { conversation: id, user: m.user })) } }));
        // The owner is always a user of the server that hosts the group.
        if (s.rights === "owner" && !c.hosted_by && !store.users.get(m.user)?.domain) {
          controls.append(h("button", { class: "small", text: "Make owner", attrs: { type: "button", "aria-label": `Make owner: ${who}` }, on: { click: async () => (await confirmAction(`Make ${who} the owner?`, "Transfer")) && attempt(() => client.request("conversation.transfer", { conversation: id, user: m.user })) } }));
        }
      } else {
        controls.append(h("span", { class: `rights-tag ${m.rights}`, text: m.rights }));
      }
      const open = h("button", { class: "person-open", attrs: { type: "button" }, on: { click: () => !self && profile(m.user) } }, srOnly("Profile of "), avatar(who, store.users.get(m.user)?.avatar_url, m.user, "s"), h("span", { class: "item-text" }, h("strong", { text: self ? `${who} (you)` : who })));
      return h("li", { class: "person" }, open, controls);
    });
    membersHeading.textContent = `Members (${c.members.length})`;
    memberList.replaceChildren(...rows);
    addForm.hidden = mine < RANK.admin;
    remove.hidden = s.rights !== "owner" || !!c.hosted_by;
    hostedNote.hidden = !c.hosted_by;
  }
  const onChange = () => (dialog.open ? render() : store.removeEventListener("change", onChange));
  store.addEventListener("change", onChange);
  render();
}

/**
 * The group's URL, to copy and share: whoever has it can ask to join from
 * another server.
 * @param {Client} client
 * @param {string} id
 */
function invitationLink(client, id) {
  const input = h("input", { attrs: { readonly: true, placeholder: "Loading…" } });
  const copy = h("button", { class: "small", text: "Copy", attrs: { type: "button", "aria-label": "Copy invitation link" } });
  input.addEventListener("focus", () => input.select());
  copy.addEventListener("click", () => attempt(() => navigator.clipboard.writeText(input.value)).then((ok) => ok && toast("Invitation link copied")));
  client.groupUrl(id).then(
    (url) => {
      input.value = url;
    },
    () => {
      input.placeholder = "Not available right now";
    },
  );
  return h(
    "div",
    { class: "invitation" },
    field("Invitation link", input),
    copy,
    h("p", { class: "muted", text: "People on other servers can ask to join with this link." }),
  );
}

/**
 * The group's pinned messages, for every member (admins may unpin): loaded
 * when the settings open, then kept live by `conversation.pins`. A group
 * hosted elsewhere keeps its pins there, so none show here.
 * @param {Client} client
 * @param {string} id
 */
function pinsSection(client, id) {
  const store = client.store;
  const heading = h("h3");
  const list = h("ul", { class: "pins", attrs: { "aria-label": "Pinned messages" } });
  const root = h("div", {}, heading, list);
  let loaded = false;
  /** @type {unknown} */
  let drawn = null;

  function render() {
    const s = store.summaries.get(id);
    root.hidden = !s || !!s.conversation.hosted_by;
    if (!s || root.hidden) return;
    if (!loaded) {
      loaded = true;
      attempt(() => client.loadPins(id));
    }
    const pins = store.pins.get(id) || [];
    const admin = RANK[s.rights] >= RANK.admin;
    const signature = JSON.stringify([pins.map((p) => p.message.id), pins.map((p) => nameOf(store, p.message.author)), admin]);
    if (signature === drawn) return;
    drawn = signature;
    heading.textContent = `Pinned messages (${pins.length})`;
    const rows = pins.map((p) => {
      const who = nameOf(store, p.message.author);
      const text = p.message.kind === "game_invite" ? "Game invitation" : p.message.body;
      const unpin = admin
        ? h("button", { class: "small", text: "Unpin", attrs: { type: "button", "aria-label": `Unpin: ${text.slice(0, 60)}` }, on: { click: () => attempt(() => client.pin(p.message.id, false)) } })
        : null;
      return h("li", { class: "pin" }, h("span", { class: "item-text" }, h("strong", { text: who }), h("span", { text: text.length > 140 ? `${text.slice(0, 140)}…` : text })), unpin);
    });
    list.replaceChildren(...(rows.length ? rows : [h("li", { class: "empty-note", text: admin ? "No pinned messages. Pin one from its actions in the chat." : "No pinned messages." })]));
  }

  return { root, render };
}

/**
 * The open requests to join a group hosted here, for its admins: loaded
 * when the settings open, then kept live by the pushes.
 * @param {Client} client
 * @param {string} id
 * @param {(user: string) => void} profile
 */
function joinRequestsSection(client, id, profile) {
  const store = client.store;
  const heading = h("h3");
  const list = h("ul", { class: "people", attrs: { "aria-label": "Join requests" } });
  const root = h("div", {}, heading, list);
  let loaded = false;
  let drawn = "";

  function render() {
    const s = store.summaries.get(id);
    const answering = !!s && RANK[s.rights] >= RANK.admin && !s.conversation.hosted_by;
    root.hidden = !answering;
    if (!s || !answering) return;
    if (!loaded) {
      loaded = true;
      attempt(() => client.loadJoinRequests(id));
    }
    const open = store.joinRequestsOf(id);
    // As for the members: redraw only what changed, so a rights choice
    // being made is not replaced.
    const signature = JSON.stringify([open, open.map((r) => nameOf(store, r.user)), s.rights]);
    if (signature === drawn) return;
    drawn = signature;
    /** @type {Rights[]} */
    const grantable = s.rights === "owner" ? ["read", "write", "admin"] : ["read", "write"];
    heading.textContent = `Join requests (${open.length})`;
    list.replaceChildren(...(open.length ? open.map((r) => row(r, grantable)) : [h("li", { class: "empty-note", text: "Nobody is waiting to join." })]));
  }

  /**
   * @param {JoinRequest} request
   * @param {Rights[]} grantable
   */
  function row(request, grantable) {
    const who = nameOf(store, request.user);
    const user = store.users.get(request.user);
    const handle = user ? `@${user.name} · ` : "";
    const rights = rightsSelect("write", grantable, `Rights for ${who}`);
    const approve = h("button", { class: "small primary", text: "Approve", attrs: { type: "button", "aria-label": `Approve ${who}` }, on: { click: () => attempt(() => client.approveJoin(id, request.user, /** @type {Rights} */ (rights.value))) } });
    const decline = h("button", { class: "small danger-outline", text: "Decline", attrs: { type: "button", "aria-label": `Decline ${who}` }, on: { click: () => attempt(() => client.declineJoin(id, request.user)) } });
    const open = h(
      "button",
      { class: "person-open", attrs: { type: "button" }, on: { click: () => profile(request.user) } },
      srOnly("Profile of "),
      avatar(who, user?.avatar_url, request.user, "s"),
      h("span", { class: "item-text" }, h("strong", { text: who }), h("small", { text: `${handle}asked ${listTime(request.requested_at)}` })),
    );
    return h("li", { class: "person" }, open, h("div", { class: "row-actions" }, rights, approve, decline));
  }

  return { root, render };
}

/**
 * @param {Rights} value
 * @param {Rights[]} options
 * @param {string} label
 */
function rightsSelect(value, options, label) {
  const select = h("select", { attrs: { "aria-label": label } }, ...options.map((r) => h("option", { text: r, attrs: { value: r } })));
  select.value = value;
  return select;
}
