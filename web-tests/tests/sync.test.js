// Several tabs and lost connections: a second tab of the same user follows
// messages and read markers; after the server restarts, the client
// reconnects by itself and catches up with what was sent meanwhile,
// showing every message once.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, messages, openChat, send, signUp, startServerAndBrowser, stopServerAndBrowser } from "../lib/browser.js";
import { toBeHidden, toBeVisible, toHaveCount } from "../lib/expect.js";
import { sendWithToken } from "../lib/seed.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

/** @param {import("playwright-core").Page} page @param {string} title */
function listItem(page, title) {
  return page.getByRole("list", { name: "Conversations" }).getByRole("button", { name: new RegExp(title) });
}

test("a second tab of the same user stays in sync", async () => {
  const ada = await signUp(browser, server.url, "ada2", { displayName: "Ada" });
  const bob = await signUp(browser, server.url, "bob2", { displayName: "Bob" });
  await becomeContacts(ada.page, bob.page, "bob2", "Ada");
  const tab1 = ada.page;
  const tab2 = await ada.context.newPage();
  await tab2.goto("/");
  await toBeVisible(listItem(tab2, "Bob"));

  // A message from Bob is unread in both tabs.
  await openChat(bob.page, "Ada");
  await send(bob.page, "Are you there?");
  await toBeVisible(listItem(tab1, "Bob").getByLabel("1 unread"));
  await toBeVisible(listItem(tab2, "Bob").getByLabel("1 unread"));
  assert.equal(await tab2.title(), "(1) Confab");

  // Reading it in one tab clears it in the other.
  await openChat(tab1, "Bob");
  await toBeVisible(messages(tab1).getByText("Are you there?"));
  await toBeHidden(listItem(tab2, "Bob").getByLabel("1 unread"));
  await toBeHidden(listItem(tab1, "Bob").getByLabel("1 unread"));

  // What one tab sends, the other shows (once).
  await send(tab1, "Yes, in two tabs");
  await toBeVisible(listItem(tab2, "Bob").getByText("You: Yes, in two tabs"));
  await openChat(tab2, "Bob");
  await toHaveCount(messages(tab2).getByText("Yes, in two tabs"), 1);
  await toHaveCount(messages(tab1).getByText("Yes, in two tabs"), 1);
  await toBeVisible(messages(bob.page).getByText("Yes, in two tabs"));
  await tab2.close();
});

test("after a server restart the client reconnects and catches up without duplicates", async () => {
  const ada = await signUp(browser, server.url, "ada3", { displayName: "Ada" });
  const bob = await signUp(browser, server.url, "bob3", { displayName: "Bob" });
  const cy = await signUp(browser, server.url, "cy3", { displayName: "Cy" });
  await becomeContacts(ada.page, bob.page, "bob3", "Ada");
  await becomeContacts(ada.page, cy.page, "cy3", "Ada");
  await openChat(ada.page, "Bob");
  await openChat(bob.page, "Ada");
  await send(ada.page, "before the restart");
  await toBeVisible(messages(bob.page).getByText("before the restart"));

  const bobToken = await bob.page.evaluate(() => localStorage.getItem("confab.token") || "");
  const cyToken = await cy.page.evaluate(() => localStorage.getItem("confab.token") || "");
  const conversation = await ada.page.evaluate(
    () => document.querySelector('.conversation-item[aria-current="true"]')?.getAttribute("data-conversation") || "",
  );
  const withCy = await cy.page.evaluate(() => document.querySelector(".conversation-item")?.getAttribute("data-conversation") || "");
  const port = server.port;

  // The server goes down; the client says so and keeps a message typed meanwhile.
  await server.stop();
  await toBeVisible(ada.page.getByRole("status").getByText(/reconnecting/));
  await send(ada.page, "typed while offline");
  await toBeVisible(messages(ada.page).getByRole("article").filter({ hasText: "typed while offline" }).getByText("Sending…"));

  // While Ada cannot connect, Bob sends a message: the same database is
  // served for a moment on another port, which Ada's page does not know.
  await server.start(0);
  const side = await bob.context.newPage();
  await side.goto(server.url);
  const missed = await side.evaluate(sendWithToken, { token: bobToken, conversation, body: "sent while you were away" });
  assert.equal(missed.body, "sent while you were away");
  await side.evaluate(sendWithToken, { token: cyToken, conversation: withCy, body: "are you back?" });
  await side.close();
  await server.stop();

  // Back on the original port: Ada reconnects, catches up, resends.
  await server.start(port);
  await ada.page.getByRole("status").getByText(/reconnecting|Connecting/).waitFor({ state: "hidden", timeout: 45_000 });
  await toHaveCount(messages(ada.page).getByText("sent while you were away"), 1);
  await toHaveCount(messages(ada.page).getByText("before the restart"), 1);
  await toHaveCount(messages(ada.page).getByText("typed while offline"), 1);
  await toHaveCount(messages(ada.page).getByText("Sending…"), 0);
  // The conversation with Cy, not open, counts its missed message once.
  await toBeVisible(listItem(ada.page, "Cy").getByText("Cy: are you back?"));
  await toBeVisible(listItem(ada.page, "Cy").getByLabel("1 unread"));
  await bob.page.getByRole("status").getByText(/reconnecting|Connecting/).waitFor({ state: "hidden", timeout: 45_000 });
  await toHaveCount(messages(bob.page).getByText("typed while offline"), 1);

  // Live again, both ways.
  await send(bob.page, "welcome back");
  await toHaveCount(messages(ada.page).getByText("welcome back"), 1);
});
