// Long histories and unread messages: the message list keeps a bounded
// number of rows with 2,000 messages, older rows arrive without moving
// what is on screen, a chat with many unread messages opens at the first
// of them with "jump to latest", the read marker follows what was seen,
// and half-written messages survive switching chats and reloading.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, launch, messages, openChat, problems, signUp } from "../lib/browser.js";
import { eventually, toBeHidden, toBeVisible } from "../lib/expect.js";
import { wsRequests } from "../lib/seed.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;
/** @type {{context: import("playwright-core").BrowserContext, page: import("playwright-core").Page}} */
let ada;
/** @type {{context: import("playwright-core").BrowserContext, page: import("playwright-core").Page}} */
let bob;
/** @type {{context: import("playwright-core").BrowserContext, page: import("playwright-core").Page}} */
let cy;

const LONG = 2000;
const UNREAD = 300;

/**
 * The id of the page user's direct conversation (the only one with `peer`).
 * @param {import("playwright-core").Page} page
 */
async function directWith(page) {
  const [list] = await wsRequests(page, [["conversation.list", {}]]);
  return list.filter((/** @type {any} */ s) => s.conversation.kind === "direct");
}

/**
 * Sends `count` numbered messages from the page's user, as fast as one socket allows.
 * @param {import("playwright-core").Page} page
 * @param {string} conversation
 * @param {number} count
 * @param {string} prefix
 */
async function seed(page, conversation, count, prefix) {
  /** @type {[string, object][]} */
  const requests = [];
  for (let n = 1; n <= count; n++) {
    const extra = n % 13 === 0 ? "\nwith a second line\nand a third" : "";
    requests.push(["message.send", { conversation, body: `${prefix}${n} ${"word ".repeat(n % 30)}${extra}` }]);
  }
  const sent = await wsRequests(page, requests);
  return sent.at(-1).id;
}

/**
 * The caller's unread count in a conversation, as the server has it.
 * @param {import("playwright-core").Page} page
 * @param {string} conversation
 */
async function serverUnread(page, conversation) {
  const [summary] = await wsRequests(page, [["conversation.get", { conversation }]]);
  return /** @type {number} */ (summary.unread);
}

/**
 * Runs in the page: scrolls the list to the top, waits (up to 5 s) until
 * older rows are in the document, and says how far the row that was at
 * the top moved on screen.
 */
async function olderStep() {
  const list = /** @type {HTMLElement} */ (document.querySelector(".messages"));
  const smallest = () => {
    let min = Infinity;
    for (const p of list.querySelectorAll("article[data-id] .body")) {
      const match = /^#(\d+) /.exec(p.textContent || "");
      if (match) min = Math.min(min, Number(match[1]));
    }
    return min;
  };
  const before = smallest();
  list.scrollTop = 0;
  // The first message's row may be redrawn (its day line goes when older rows come): find it by id.
  const id = list.querySelector("article[data-id]")?.getAttribute("data-id") || "";
  const find = () => list.querySelector(`article[data-id="${CSS.escape(id)}"]`);
  const top = find()?.getBoundingClientRect().top ?? NaN;
  const grew = await new Promise((resolve) => {
    const timer = setTimeout(() => {
      observer.disconnect();
      resolve(false);
    }, 5000);
    const observer = new MutationObserver(() => {
      if (smallest() < before) {
        observer.disconnect();
        clearTimeout(timer);
        resolve(true);
      }
    });
    observer.observe(list, { childList: true, subtree: true });
  });
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const after = find();
  return { grew, shift: after ? after.getBoundingClientRect().top - top : NaN, smallest: smallest(), rows: list.querySelectorAll("article[data-id]").length };
}

/**
 * Runs in the page: the list's row count and the first row on screen with
 * its distance from the list's top.
 */
function listState() {
  const list = /** @type {HTMLElement} */ (document.querySelector(".messages"));
  const top = list.getBoundingClientRect().top;
  let first = null;
  for (const a of list.querySelectorAll("article[data-id]")) {
    const rect = a.getBoundingClientRect();
    if (rect.bottom > top) {
      first = { id: a.getAttribute("data-id"), top: rect.top - top, text: a.querySelector(".body")?.textContent || "" };
      break;
    }
  }
  return { rows: list.querySelectorAll("article[data-id]").length, elements: document.getElementsByTagName("*").length, first };
}

before(async () => {
  server = await new ConfabServer({ CONFAB_WS_REQUESTS_PER_S: "100000" }).start();
  browser = await launch();
  ada = await signUp(browser, server.url, "ada", { displayName: "Ada Reader" });
  bob = await signUp(browser, server.url, "bob", { displayName: "Bob Writer" });
  cy = await signUp(browser, server.url, "cy", { displayName: "Cy Chatter" });
  await becomeContacts(ada.page, bob.page, "bob", "Ada Reader");
  await becomeContacts(ada.page, cy.page, "cy", "Ada Reader");
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

test("2,000 messages: the list holds a bounded window and older rows do not move the view", async () => {
  const [direct] = await directWith(bob.page);
  const conversation = direct.conversation.id;
  const newest = await seed(bob.page, conversation, LONG, "#");
  // Everything read: the chat opens at the newest message.
  await wsRequests(ada.page, [["message.read", { conversation, message: newest }]]);
  await ada.page.reload();
  await openChat(ada.page, "Bob Writer");
  await toBeVisible(messages(ada.page).getByText(new RegExp(`^#${LONG} `)));

  let state = await ada.page.evaluate(listState);
  assert.ok(state.rows > 0 && state.rows <= 150, `rows at the bottom: ${state.rows}`);
  for (let steps = 0; ; steps++) {
    assert.ok(steps < 200, "reached the beginning");
    const step = await ada.page.evaluate(olderStep);
    if (!step.grew) {
      assert.equal(step.smallest, 1, "only the beginning stops the list growing");
      break;
    }
    // The row that was at the top is still where it was on screen.
    assert.ok(Math.abs(step.shift) <= 1, `row kept its place: moved ${step.shift} px`);
    assert.ok(step.rows <= 150, `rows while scrolling up: ${step.rows}`);
  }
  state = await ada.page.evaluate(listState);
  assert.ok(state.rows <= 150, `rows at the beginning: ${state.rows}`);
  assert.ok(state.elements < 4000, `elements at the beginning: ${state.elements}`);
  await toBeVisible(messages(ada.page).getByText(/^#1 /));

  // Back to the newest in one click; a new message shows there.
  await ada.page.getByRole("button", { name: /^Jump to latest/ }).click();
  await toBeVisible(messages(ada.page).getByText(new RegExp(`^#${LONG} `)));
  await toBeHidden(ada.page.getByRole("button", { name: /^Jump to latest/ }));
  await wsRequests(bob.page, [["message.send", { conversation, body: "fresh news" }]]);
  await toBeVisible(messages(ada.page).getByText("fresh news"));
  state = await ada.page.evaluate(listState);
  assert.ok(state.rows <= 150, `rows after a new message: ${state.rows}`);
  assert.deepEqual(problems(ada.page), []);
});

test("many unread messages: opens at the first unread, marks read as seen, jump to latest", async () => {
  const [direct] = await directWith(cy.page);
  const conversation = direct.conversation.id;
  const last = await seed(cy.page, conversation, 5, "seen ");
  await wsRequests(ada.page, [["message.read", { conversation, message: last }]]);
  await seed(cy.page, conversation, UNREAD, "unread ");
  await ada.page.reload();
  await openChat(ada.page, "Cy Chatter");

  // The first unread message is on screen under the "New messages" line; the newest is not.
  await toBeVisible(messages(ada.page).getByText("New messages"));
  await toBeVisible(messages(ada.page).getByText(/^unread 1 /));
  assert.equal(await messages(ada.page).getByText(new RegExp(`^unread ${UNREAD} `)).isVisible(), false);
  await toBeVisible(ada.page.getByRole("button", { name: /^Jump to latest/ }));

  // Only what was on screen is read: the marker stops near the top.
  const early = await eventually(async () => {
    const unread = await serverUnread(ada.page, conversation);
    assert.ok(unread < UNREAD, `some marked read: ${unread}`);
    return unread;
  });
  await ada.page.waitForTimeout(800);
  const settled = await serverUnread(ada.page, conversation);
  assert.ok(settled > UNREAD - 60, `only the first screen is read: ${early} then ${settled} unread`);

  // Scrolling down a little reads a little more.
  await ada.page.evaluate(() => {
    const list = /** @type {HTMLElement} */ (document.querySelector(".messages"));
    list.scrollTop += list.clientHeight;
  });
  await eventually(async () => {
    const unread = await serverUnread(ada.page, conversation);
    assert.ok(unread < settled && unread > 0, `read a screen more: ${settled} -> ${unread}`);
  });

  // Jumping to the latest reads the rest.
  await ada.page.getByRole("button", { name: /^Jump to latest/ }).click();
  await toBeVisible(messages(ada.page).getByText(new RegExp(`^unread ${UNREAD} `)));
  await eventually(async () => assert.equal(await serverUnread(ada.page, conversation), 0));
  await toBeHidden(ada.page.getByRole("button", { name: /^Jump to latest/ }));
  assert.deepEqual(problems(ada.page), []);
});

test("drafts are kept per conversation, across switching chats and reloading", async () => {
  const box = ada.page.getByRole("textbox", { name: "Message" });
  await openChat(ada.page, "Bob Writer");
  await box.fill("half a thought for Bob");
  await openChat(ada.page, "Cy Chatter");
  assert.equal(await box.inputValue(), "");
  await box.fill("a note for Cy");
  await openChat(ada.page, "Bob Writer");
  assert.equal(await box.inputValue(), "half a thought for Bob");

  await ada.page.reload();
  await openChat(ada.page, "Cy Chatter");
  await eventually(async () => assert.equal(await box.inputValue(), "a note for Cy"));
  await openChat(ada.page, "Bob Writer");
  assert.equal(await box.inputValue(), "half a thought for Bob");

  // Sending clears the draft, also after a reload.
  await box.press("Enter");
  await toBeVisible(messages(ada.page).getByText("half a thought for Bob"));
  assert.equal(await box.inputValue(), "");
  await ada.page.reload();
  await openChat(ada.page, "Bob Writer");
  assert.equal(await box.inputValue(), "");

  // Drafts belong to the account: another account in this browser does not see them.
  const keys = await ada.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("confab.draft.")));
  const me = await ada.page.evaluate(async () => {
    const response = await fetch("/api/v1/users/me", { headers: { Authorization: `Bearer ${localStorage.getItem("confab.token")}` } });
    return (await response.json()).id;
  });
  assert.ok(keys.length === 1 && keys[0].startsWith(`confab.draft.${me}.`), `draft keys: ${keys}`);
  assert.deepEqual(problems(ada.page), []);
});
