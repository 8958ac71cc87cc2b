// Entry point: picks up a token (stored, from the URL fragment, or posted
// by an embedding page), then shows the sign-in screen or the chat, and
// wires the views to the client.

import { forgetToken, listenForHandoff, storeToken, storedToken, takeFragmentToken, watchOtherTabs } from "./auth.js";
import { Client } from "./client.js";
import { applyTheme } from "./theme.js";
import { h, hostOf } from "./format.js";
import { chime, notify, setBadge, settings, unlockSound, watchSettings } from "./notify.js";
import { renderLogin } from "./views/login.js";
import { createSidebar, conversationTitle, previewOf } from "./views/sidebar.js";
import { createChat } from "./views/chat.js";
import { createContacts } from "./views/contacts.js";
import { ownProfileDialog, userProfileDialog } from "./views/profile.js";
import { groupSettingsDialog, joinGroupDialog, newGroupDialog } from "./views/groups.js";
import { attempt, nameOf, toast } from "./views/common.js";
import { moderationDialog } from "./views/reports.js";
import { notificationSettingsDialog } from "./views/notifications.js";
import { searchDialog } from "./views/search.js";

applyTheme();
const root = /** @type {HTMLElement} */ (document.getElementById("app"));
/** @type {Client | null} */
let client = null;

/** @param {string} token */
function signIn(token) {
  storeToken(token);
  start(token);
}

/**
 * Forgets the token and shows the sign-in screen.
 * @param {string} [reason] why the server ended the session, to explain it
 */
function signOut(reason) {
  forgetToken();
  stop();
  for (const dialog of document.querySelectorAll("dialog")) dialog.close();
  renderLogin(root, signIn, reason ? endedText(reason) : "");
}

/**
 * What to tell someone whose session the server ended.
 * @param {string} reason a WebSocket close reason or a REST error code
 */
function endedText(reason) {
  if (reason === "account_suspended") return "Your account is suspended. Contact the server's administrators.";
  if (reason === "account_deleted") return "Your account was deleted.";
  if (["password_changed", "sessions_revoked", "token_revoked"].includes(reason)) {
    return "You were logged out: your password was changed or your sessions were ended. Log in again.";
  }
  return "Your session has ended. Log in again.";
}

function stop() {
  if (client) client.stop();
  client = null;
  setBadge(0);
}

/** @param {string} token */
function start(token) {
  stop();
  const c = new Client(token, {
    ended: signOut,
    tokenChanged: storeToken,
    notify: (message) => {
      const s = c.store.summaries.get(message.conversation);
      // A muted conversation stays quiet, except for a mention of this user.
      if (!s || (s.muted && !(message.mentions || []).includes(c.store.me?.id || ""))) return;
      if (document.visibilityState === "hidden" || c.store.current !== message.conversation) chime();
      notify(conversationTitle(c, s.conversation), previewOf(c, message), message.conversation, () => openConversation(message.conversation));
    },
    joins: (news) => toast(joinNewsText(c, news)),
    reportResolved: () => toast("A moderator handled your report."),
  });
  client = c;
  const store = c.store;

  /** @param {string} id */
  function openConversation(id) {
    showConversation(id);
    chat.open(id);
  }

  /**
   * Opens a conversation at one of its messages (a search result).
   * @param {string} id
   * @param {string} message
   */
  function openAt(id, message) {
    showConversation(id);
    chat.openAt(id, message);
  }

  /** @param {string} id */
  function showConversation(id) {
    store.current = id;
    root.classList.add("show-chat");
    sidebar.showTab("chats");
    sidebar.render();
  }

  /** Opens (or creates) the direct conversation with a contact. */
  /** @param {string} user */
  async function messageUser(user) {
    for (const s of store.summaries.values()) {
      if (s.conversation.kind === "direct" && store.peer(s.conversation) === user) return openConversation(s.conversation.id);
    }
    await attempt(async () => {
      const conversation = await c.request("conversation.create", { kind: "direct", with: user });
      openConversation(conversation.id);
    });
  }

  /** @param {string} user */
  const profile = (user) => userProfileDialog(c, user, messageUser);

  const sidebar = createSidebar(c, {
    open: openConversation,
    profile: () => ownProfileDialog(c, () => signOut()),
    newGroup: () => newGroupDialog(c, openConversation),
    joinGroup: () => joinGroupDialog(c),
    logout: () => signOut(),
    notifications: () => notificationSettingsDialog(),
    moderation: () => moderationDialog(c),
    searchMessages: () => searchDialog(c, openAt),
    tab: (tab) => sidebar.showTab(tab),
  });
  const contacts = createContacts(c, sidebar.contactsPane, { profile, message: messageUser });
  const chat = createChat(c, {
    back: () => {
      root.classList.remove("show-chat");
      store.current = null;
      chat.open(null);
      sidebar.render();
    },
    profile,
    groupSettings: (id) => groupSettingsDialog(c, id, profile),
  });
  root.replaceChildren(h("div", { class: "layout" }, sidebar.root, chat.root));
  root.classList.remove("show-chat");

  store.addEventListener("change", (event) => {
    const what = /** @type {CustomEvent<string>} */ (event).detail;
    if (what === "connection") {
      sidebar.render();
      chat.render(what);
      return;
    }
    if (what === "all" && chat.shown !== store.current) {
      if (!store.current) root.classList.remove("show-chat");
      chat.open(store.current);
    }
    if (!what.startsWith("typing:")) sidebar.render();
    if (what === "all" || what === "contacts" || what === "users" || what === "presence") contacts.render();
    chat.render(what);
    setBadge(store.totalUnread());
  });

  document.addEventListener("visibilitychange", () => {
    if (client === c) c.setAway(document.visibilityState === "hidden");
  });
  c.start();
  // Signed in (or back): focus starts in the list, not nowhere.
  sidebar.focusStart();
}

/**
 * @param {Client} c
 * @param {import("./client.js").JoinNews} news
 */
function joinNewsText(c, news) {
  if (news.kind === "declined") return `A group on ${hostOf(news.group)} declined your request to join.`;
  if (news.kind === "joined") return `You joined “${conversationTitle(c, news.summary.conversation)}”.`;
  const group = c.store.summaries.get(news.request.conversation);
  return `${nameOf(c.store, news.request.user)} asks to join “${group ? conversationTitle(c, group.conversation) : "a group"}”.`;
}

// Browsers allow sound only after an interaction with the page.
for (const event of ["pointerdown", "keydown"]) {
  document.addEventListener(event, () => settings().sound && unlockSound(), { once: true, capture: true });
}
watchSettings();

listenForHandoff((token) => signIn(token));
watchOtherTabs((token) => {
  if (token && (!client || client.token !== token)) start(token);
  if (!token && client) signOut();
});

const initial = takeFragmentToken() || storedToken();
if (initial) signIn(initial);
else renderLogin(root, signIn);
