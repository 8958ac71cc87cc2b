// Two people in two browsers: sign up, become contacts, chat live, reply,
// edit and delete; then one blocks the other and the conversation turns
// read-only for both.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, messages, openChat, problems, send, signUp, startServerAndBrowser, stopServerAndBrowser } from "../lib/browser.js";
import { eventually, toBeDisabled, toBeHidden, toBeVisible, toHaveCount } from "../lib/expect.js";
import { rawSend, wsRequests } from "../lib/seed.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

test("two users chat live: contacts, messages, reply, edit, delete, block", async () => {
  const ada = await signUp(browser, server.url, "ada", { displayName: "Ada Lovelace" });
  const bob = await signUp(browser, server.url, "bob", { displayName: "Bob Babbage" });
  await becomeContacts(ada.page, bob.page, "bob", "Ada Lovelace");

  await openChat(ada.page, "Bob Babbage");
  await openChat(bob.page, "Ada Lovelace");
  // Presence: each sees the other online.
  await toBeVisible(ada.page.getByRole("main", { name: "Chat" }).getByText("online", { exact: true }));

  // Typing shows on the other side while someone writes.
  await bob.page.getByRole("textbox", { name: "Message" }).pressSequentially("Hel");
  await toBeVisible(ada.page.getByText("Bob Babbage is typing…"));
  await bob.page.getByRole("textbox", { name: "Message" }).fill("");

  // Messages arrive live on the other side.
  await send(ada.page, "Hello Bob, shall we compute?");
  await toBeVisible(messages(bob.page).getByText("Hello Bob, shall we compute?"));
  await send(bob.page, "Gladly, Ada.");
  await toBeVisible(messages(ada.page).getByText("Gladly, Ada."));

  // Bob replies to Ada's first message: the reply quotes it, on both sides.
  const original = messages(bob.page).getByRole("article").filter({ hasText: "Hello Bob, shall we compute?" }).first();
  await original.hover();
  await original.getByRole("button", { name: "Reply" }).click();
  await toBeVisible(bob.page.getByText("Replying to Ada Lovelace"));
  await send(bob.page, "This is my answer");
  const reply = messages(ada.page).getByRole("article").filter({ hasText: "This is my answer" });
  await toBeVisible(reply.getByRole("button", { name: /Jump to the message this replies to: .*Hello Bob/ }));

  // Ada edits her message; Esc first cancels an edit without changing it.
  const mine = messages(ada.page).getByRole("article").filter({ hasText: "Hello Bob, shall we compute?" }).first();
  await mine.hover();
  await mine.getByRole("button", { name: "Edit message" }).click();
  const box = ada.page.getByRole("textbox", { name: "Message" });
  assert.equal(await box.inputValue(), "Hello Bob, shall we compute?");
  await box.press("Escape");
  assert.equal(await box.inputValue(), "");
  await mine.hover();
  await mine.getByRole("button", { name: "Edit message" }).click();
  await box.fill("Hello Bob, shall we compute numbers?");
  await box.press("Enter");
  await toBeVisible(messages(bob.page).getByText("Hello Bob, shall we compute numbers?"));
  await toBeVisible(messages(bob.page).getByRole("article").filter({ hasText: "numbers?" }).getByText("edited"));

  // Shift+Enter makes a new line instead of sending.
  await box.fill("line one");
  await box.press("Shift+Enter");
  await box.pressSequentially("line two");
  assert.equal(await box.inputValue(), "line one\nline two");
  await box.press("Enter");
  await toBeVisible(messages(bob.page).getByText("line one\nline two"));

  // Bob deletes his own message; both see the tombstone.
  const gladly = messages(bob.page).getByRole("article").filter({ hasText: "Gladly, Ada." });
  await gladly.hover();
  await gladly.getByRole("button", { name: "Delete message" }).click();
  await bob.page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await toHaveCount(messages(ada.page).getByText("Gladly, Ada."), 0);
  await toHaveCount(messages(ada.page).getByText("This message was deleted."), 1);
  await toHaveCount(messages(bob.page).getByText("This message was deleted."), 1);

  // A game invitation: a card on both sides, answered live.
  await ada.page.getByRole("button", { name: "Invite to a game" }).click();
  const invite = ada.page.getByRole("dialog", { name: "Invite to a game" });
  await invite.getByLabel("Game").fill("go");
  await invite.getByRole("button", { name: "Send invitation" }).click();
  const card = messages(bob.page).getByRole("group", { name: "Game invitation: go" });
  await toBeVisible(card.getByText("Waiting for an answer"));
  await toHaveCount(messages(ada.page).getByRole("group", { name: "Game invitation: go" }).getByRole("button", { name: "Accept" }), 0);
  await card.getByRole("button", { name: "Accept" }).click();
  await toBeVisible(messages(ada.page).getByRole("group", { name: "Game invitation: go" }).getByText("Accepted by Bob Babbage"));
  await toHaveCount(card.getByRole("button", { name: "Accept" }), 0);

  // Ada blocks Bob from the conversation: read-only for both. Blocking
  // asks first; cancelling changes nothing.
  await ada.page.getByRole("button", { name: "Block Bob Babbage" }).click();
  await ada.page.getByRole("dialog", { name: "Block Bob Babbage?" }).getByRole("button", { name: "Cancel" }).click();
  await toHaveCount(ada.page.getByRole("dialog"), 0);
  await toBeDisabled(ada.page.getByRole("textbox", { name: "Message" }), false);
  await ada.page.getByRole("button", { name: "Block Bob Babbage" }).click();
  await ada.page.getByRole("dialog", { name: "Block Bob Babbage?" }).getByRole("button", { name: "Block" }).click();
  await toBeVisible(ada.page.getByRole("note").getByText(/You blocked this person/));
  await toBeDisabled(ada.page.getByRole("textbox", { name: "Message" }));
  await toBeVisible(bob.page.getByRole("note").getByText(/read-only/));
  await toBeDisabled(bob.page.getByRole("textbox", { name: "Message" }));
  await toBeDisabled(bob.page.getByRole("button", { name: "Send" }));
  // The server refuses too: Bob's own socket is told the conversation is read-only.
  const refusal = await bob.page.evaluate(rawSend, { body: "sneaky" });
  assert.equal(refusal.code, "forbidden");

  // Unblocking makes it writable again.
  await ada.page.getByRole("button", { name: "Unblock Bob Babbage" }).click();
  await toBeDisabled(bob.page.getByRole("textbox", { name: "Message" }), false);
  await toBeHidden(ada.page.getByRole("note"));
  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});

test("profile changes show to others; log out and log in again", async () => {
  const ada = await signUp(browser, server.url, "ada_p");
  const bob = await signUp(browser, server.url, "bob_p");
  await becomeContacts(ada.page, bob.page, "bob_p", "ada_p");

  await ada.page.getByRole("button", { name: "Your profile" }).click();
  const form = ada.page.getByRole("dialog", { name: "Your profile" });
  await form.getByLabel("Display name").fill("Countess Ada");
  await form.getByLabel("Bio").fill("Poetical science.");
  await form.getByRole("button", { name: "Add link" }).click();
  await form.getByLabel("Link 1 name").fill("Notes");
  await form.getByLabel("Link 1 URL").fill("https://example.org/notes");
  await form.getByRole("button", { name: "Save profile" }).click();
  await toHaveCount(ada.page.getByRole("dialog"), 0);
  await toBeVisible(ada.page.getByRole("button", { name: "Your profile" }).getByText("Countess Ada"));

  // Bob opens Ada's profile (a fresh page load reads it anew).
  await bob.page.reload();
  await bob.page.getByRole("tab", { name: /Contacts/ }).click();
  await bob.page.getByRole("button", { name: "Profile of Countess Ada" }).click();
  const profile = bob.page.getByRole("dialog", { name: "Countess Ada" });
  await toBeVisible(profile.getByText("Poetical science."));
  assert.equal(await profile.getByRole("link", { name: "https://example.org/notes" }).getAttribute("rel"), "noopener noreferrer");

  // Logging out forgets the token; logging in brings the account back.
  await ada.page.getByRole("button", { name: "Log out" }).click();
  await toBeVisible(ada.page.getByRole("heading", { name: "Welcome back" }));
  assert.equal(await ada.page.evaluate(() => localStorage.getItem("confab.token")), null);
  await ada.page.getByLabel("User name").fill("ada_p");
  await ada.page.getByLabel("Password").fill("wrong password");
  await ada.page.getByRole("button", { name: "Log in" }).click();
  await toBeVisible(ada.page.getByRole("alert").getByText("wrong name or password"));
  await ada.page.getByLabel("Password").fill("ada_p-password-1");
  await ada.page.getByRole("button", { name: "Log in" }).click();
  await toBeVisible(ada.page.getByRole("button", { name: "Your profile" }).getByText("Countess Ada"));
});

test("history loads older pages as one scrolls up, and a reply jumps to its original", async () => {
  const ada = await signUp(browser, server.url, "ada_h", { displayName: "Ada" });
  const bob = await signUp(browser, server.url, "bob_h", { displayName: "Bob" });
  await becomeContacts(ada.page, bob.page, "bob_h", "Ada");
  const conversation = await bob.page.evaluate(() => document.querySelector(".conversation-item")?.getAttribute("data-conversation") || "");
  /** @type {[string, object][]} */
  const sends = [["message.send", { conversation, body: "message number 1" }]];
  for (let n = 2; n <= 130; n++) sends.push(["message.send", { conversation, body: `message number ${n}` }]);
  sends.push(["message.send", { conversation, body: "an answer to the very first", reply_to: "$0.id" }]);
  const sent = await wsRequests(bob.page, sends);
  // Read elsewhere: the chat opens at the newest message, not the first unread.
  await wsRequests(ada.page, [["message.read", { conversation, message: sent.at(-1).id }]]);

  // A fresh page holds none of them and loads pages of history instead.
  await ada.page.reload();
  await openChat(ada.page, "Bob");
  const log = messages(ada.page);
  await toBeVisible(log.getByText("an answer to the very first"));
  await toHaveCount(log.getByText("message number 1", { exact: true }), 0);
  const before = await log.getByRole("article").count();

  // Scrolling to the top loads the page before.
  await log.evaluate((el) => el.scrollTo(0, 0));
  await eventually(async () => assert.ok((await log.getByRole("article").count()) > before));

  // The quote of the reply brings its original into view, loading what is missing.
  await log.getByRole("button", { name: /Jump to the message this replies to/ }).click();
  await toBeVisible(log.getByText("message number 1", { exact: true }));
  await toBeVisible(log.getByText("This is the beginning of the conversation."));
  // Every message is there once, in order.
  const bodies = await log.getByRole("article").evaluateAll((nodes) => nodes.map((n) => n.querySelector("p")?.textContent || ""));
  const numbered = bodies.filter((b) => b.startsWith("message number "));
  assert.deepEqual(numbered, Array.from({ length: 130 }, (_, i) => `message number ${i + 1}`));
  assert.equal(await ada.page.title(), "Confab");
});
