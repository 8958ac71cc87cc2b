// The left column: who is signed in, the connection state, and the list
// of conversations (direct and group) with previews, unread counts and
// presence, most recently active first, filtered by the search box.

import { avatar, h, hostOf, listTime } from "../format.js";
import { themeToggle } from "../theme.js";
import { icon } from "../icons.js";
import { nameOf, presenceText, srOnly } from "./common.js";
import { describeSystem } from "./messages.js";
import { plain } from "../markdown.js";
import { describeAttachments } from "./attachments.js";
import { isModerator } from "./reports.js";
import { connectionNotice } from "./connection.js";

/** @typedef {import("../client.js").Client} Client */
/** @typedef {import("../types.js").Summary} Summary */

/**
 * @typedef {object} SidebarActions
 * @property {(id: string) => void} open
 * @property {() => void} profile
 * @property {() => void} newGroup
 * @property {() => void} joinGroup
 * @property {() => void} logout
 * @property {() => void} notifications
 * @property {() => void} moderation opens the moderators' queue
 * @property {() => void} searchMessages opens the message search
 * @property {(tab: "chats" | "contacts") => void} tab
 */

/**
 * @param {Client} client
 * @param {SidebarActions} actions
 */
export function createSidebar(client, actions) {
  const store = client.store;
  const connection = connectionNotice(client, "in-sidebar");
  const me = h("button", { class: "me", attrs: { type: "button", title: "Your profile" }, on: { click: actions.profile } });
  const notify = h("button", { class: "icon-button", attrs: { type: "button", "aria-label": "Notification settings", title: "Notification settings" }, on: { click: actions.notifications } }, icon("bell"));
  const searchMessages = h("button", { class: "icon-button", attrs: { type: "button", "aria-label": "Search messages", title: "Search messages" }, on: { click: actions.searchMessages } }, icon("search"));
  const logout = h("button", { class: "icon-button", attrs: { type: "button", "aria-label": "Log out", title: "Log out" }, on: { click: actions.logout } }, icon("logout"));
  const moderation = h("button", { class: "icon-button", attrs: { type: "button", "aria-label": "Reports", title: "Reports (moderators)", hidden: "" }, on: { click: actions.moderation } }, icon("flag"));
  const chatsTab = h("button", { class: "tab", text: "Chats", attrs: { type: "button", role: "tab", id: "tab-chats", "aria-controls": "pane-chats" }, on: { click: () => actions.tab("chats") } });
  const contactsBadge = h("span", { class: "badge", attrs: { role: "img" } });
  const contactsTab = h("button", { class: "tab", attrs: { type: "button", role: "tab", id: "tab-contacts", "aria-controls": "pane-contacts" }, on: { click: () => actions.tab("contacts") } }, "Contacts", contactsBadge);
  // A short placeholder, so it is never cut beside the buttons; the label says it all.
  const filter = h("input", { attrs: { type: "search", placeholder: "Search", "aria-label": "Search conversations", autocomplete: "off" } });
  const list = h("ul", { class: "conversation-list", attrs: { "aria-label": "Conversations" } });
  const empty = h("p", { class: "empty-note" });
  const newGroup = h("button", { class: "primary small", text: "New group", attrs: { type: "button" }, on: { click: actions.newGroup } });
  const joinGroup = h("button", { class: "small", text: "Join", attrs: { type: "button", "aria-label": "Join a group", title: "Join a group on another server" }, on: { click: actions.joinGroup } });
  const joins = h("ul", { class: "join-notices", attrs: { "aria-label": "Your requests to join groups" } });
  const chatsPane = h("div", { class: "pane", attrs: { role: "tabpanel", id: "pane-chats", "aria-labelledby": "tab-chats" } }, h("div", { class: "list-tools" }, filter, joinGroup, newGroup), joins, list, empty);
  const contactsPane = h("div", { class: "pane", attrs: { role: "tabpanel", id: "pane-contacts", "aria-labelledby": "tab-contacts" } });
  const tabs = h("div", { class: "tabs", attrs: { role: "tablist", "aria-label": "Lists" } }, chatsTab, contactsTab);
  // Arrow keys move between the tabs (the selected one alone is in the Tab order).
  tabs.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight" && event.key !== "Home" && event.key !== "End") return;
    event.preventDefault();
    const next = chatsPane.hidden ? "chats" : "contacts";
    actions.tab(next);
    (next === "chats" ? chatsTab : contactsTab).focus();
  });
  filter.addEventListener("input", () => renderList());

  const root = h(
    "aside",
    { class: "sidebar", attrs: { "aria-label": "Conversations and contacts" } },
    h("h1", { class: "visually-hidden", text: "Confab" }),
    h("header", { class: "sidebar-head" }, me, h("div", { class: "head-tools" }, searchMessages, moderation, notify, themeToggle(), logout)),
    connection.root,
    tabs,
    chatsPane,
    contactsPane,
  );

  function renderMe() {
    const user = store.me;
    if (!user) return;
    me.replaceChildren(
      srOnly("Your profile: "),
      avatar(user.display_name || user.name, user.avatar_url, user.id, "m"),
      h("span", { class: "me-text" }, h("strong", { text: user.display_name || user.name }), h("small", { text: `@${user.name}` })),
    );
    moderation.hidden = !isModerator(client);
  }

  function renderConnection() {
    connection.render();
  }

  function renderList() {
    const query = filter.value.trim().toLowerCase();
    const items = [];
    for (const summary of store.sortedSummaries()) {
      const title = conversationTitle(client, summary.conversation);
      if (query && !title.toLowerCase().includes(query)) continue;
      items.push(item(summary, title));
    }
    list.replaceChildren(...items);
    empty.textContent = items.length ? "" : query ? "No conversation matches." : "No conversations yet. Invite a contact or start a group.";
    const incoming = [...store.contacts.values()].filter((c) => c.state === "pending_incoming").length;
    contactsBadge.textContent = incoming ? String(incoming) : "";
    contactsBadge.hidden = !incoming;
    contactsBadge.setAttribute("aria-label", `${incoming} invitations`);
  }

  /**
   * @param {Summary} summary
   * @param {string} title
   */
  function item(summary, title) {
    const c = summary.conversation;
    const peer = store.peer(c);
    const peerUser = peer ? store.users.get(peer) : null;
    const pic = avatar(title, peerUser ? peerUser.avatar_url : c.avatar_url, peer || c.id, "m");
    const wrap = h("span", { class: "avatar-wrap" }, pic);
    if (peer) {
      const status = store.presenceOf(peer);
      wrap.append(h("span", { class: `presence ${status}`, attrs: { title: status } }));
    }
    const last = summary.last_message;
    const preview = last ? previewOf(client, last) : c.kind === "group" ? c.topic || "New group" : "Say hello";
    const unread = summary.unread > 0 ? h("span", { class: "badge", text: String(summary.unread), attrs: { role: "img", "aria-label": `${summary.unread} unread` } }) : null;
    const asking = summary.join_requests > 0 ? h("span", { class: "badge join-badge", text: `+${summary.join_requests}`, attrs: { role: "img", "aria-label": `${summary.join_requests} asking to join`, title: "Asking to join: see the group's settings" } }) : null;
    // Named by its content, read in order with separators for the ear
    // ("Tea & cake, 03:06, Cy: hello, 2 unread"), not run together; the
    // avatar's initials are hidden. The badges are images named by their
    // count ("2 unread").
    const button = h(
      "button",
      { class: "conversation-item", attrs: { type: "button", "aria-current": store.current === c.id ? "true" : false, "data-conversation": c.id }, on: { click: () => actions.open(c.id) } },
      wrap,
      h(
        "span",
        { class: "item-text" },
        h(
          "span",
          { class: "item-top" },
          h("strong", { class: "item-title" }, title, peer ? srOnly(`, ${presenceText(store.presenceOf(peer))}`) : null, summary.muted ? srOnly(", muted") : null, srOnly(",")),
          last ? h("time", { attrs: { datetime: last.created_at } }, listTime(last.created_at), srOnly(",")) : null,
        ),
        h("span", { class: "item-bottom" }, h("span", { class: "preview" }, preview, asking || unread ? srOnly(",") : null), asking, asking && unread ? srOnly(",") : null, unread),
      ),
    );
    if (summary.unread > 0) button.classList.add("has-unread");
    if (summary.muted) button.classList.add("muted-item");
    return h("li", {}, button);
  }

  /** This user's requests to join groups on other servers, until the group appears. */
  function renderJoins() {
    const items = [...store.joins].map(([group, join]) => {
      const host = hostOf(group);
      const what = join.name ? `“${join.name}” on ${host}` : `a group on ${host}`;
      const text = join.state === "declined" ? `${capitalise(what)} declined your request to join.` : `Asked to join ${what}; waiting for an admin.`;
      const close =
        join.state === "requested"
          ? h("button", { class: "icon-button", attrs: { type: "button", "aria-label": `Withdraw: ${text}`, title: "Withdraw the request" }, on: { click: () => attemptCancel(group) } }, icon("close"))
          : h("button", { class: "icon-button", attrs: { type: "button", "aria-label": `Dismiss: ${text}`, title: "Dismiss" }, on: { click: () => store.dropJoin(group) } }, icon("close"));
      return h("li", { class: `join-notice ${join.state}`, attrs: { title: group } }, h("span", { text }), close);
    });
    joins.replaceChildren(...items);
    joins.hidden = !items.length;
  }

  /** @param {string} group */
  function attemptCancel(group) {
    client.cancelJoin(group).catch(() => store.dropJoin(group));
  }

  function render() {
    renderMe();
    renderConnection();
    renderJoins();
    renderList();
  }

  /** @param {"chats" | "contacts"} tab */
  function showTab(tab) {
    chatsPane.hidden = tab !== "chats";
    contactsPane.hidden = tab !== "contacts";
    chatsTab.setAttribute("aria-selected", String(tab === "chats"));
    contactsTab.setAttribute("aria-selected", String(tab === "contacts"));
    chatsTab.tabIndex = tab === "chats" ? 0 : -1;
    contactsTab.tabIndex = tab === "contacts" ? 0 : -1;
  }

  /** Puts the focus where a person starts: the search box (the Chats tab on a phone, where a box would open the keyboard). */
  function focusStart() {
    if (document.querySelector("dialog[open]")) return;
    if (matchMedia("(min-width: 761px)").matches) filter.focus();
    else chatsTab.focus();
  }

  showTab("chats");
  render();
  return { root, render, renderConnection, showTab, focusStart, contactsPane };
}

/**
 * What the list shows for a conversation.
 * @param {Client} client
 * @param {import("../types.js").Conversation} conversation
 */
export function conversationTitle(client, conversation) {
  if (conversation.kind === "group") return conversation.name || "Group";
  return nameOf(client.store, client.store.peer(conversation));
}

/**
 * One line about a message, for previews and notifications. A message
 * without text carries attachments ("Image", "2 files"; "Attachment" if
 * none came with it).
 * @param {Client} client
 * @param {import("../types.js").Message} message
 */
export function previewOf(client, message) {
  const store = client.store;
  if (message.deleted) return "Message deleted";
  if (message.kind === "system") return describeSystem(store, message);
  const who = message.author === store.me?.id ? "You" : nameOf(store, message.author);
  const text =
    message.kind === "game_invite" && message.game
      ? `invites to play ${message.game.game}`
      : message.kind === "sticker"
        ? `Sticker ${message.body}`
        : plain(message.body) || describeAttachments(message.attachments) || "Attachment";
  return `${who}: ${text.replace(/\s+/g, " ")}`;
}

/** @param {string} text */
function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
