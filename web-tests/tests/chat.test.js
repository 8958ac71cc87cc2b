// Two people in two browsers: sign up, become contacts, chat live, reply,
// edit and delete; then one blocks the other and the conversation turns
// read-only for both.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, launch, messages, openChat, send, signUp } from "../lib/browser.js";
import { eventually, toBeDisabled, toBeHidden, toBeVisible, toHaveCount } from "../lib/expect.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => {
  server = await new ConfabServer().start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

test("two users chat live: contacts, messages, reply, edit, delete, block", async () => {
  const ada = await signUp(browser, server.url, "ada", { displayName: "Ada Lovelace" });
  const bob = await signUp(browser, server.url, "bob", { displayName: "Bob Babbage" });
  await becomeContacts(ada.page, bob.page, "bob", "Ada Lovelace");

  await openChat(ada.page, "Bob Babbage");
  await openChat(bob.page, "Ada Lovelace");

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
  await toBeVisible(reply.getByRole("button", { name: /Jump to the message this replies to: Hello Bob/ }));

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

  // Ada blocks Bob from the conversation: read-only for both.
  await ada.page.getByRole("button", { name: "Block Bob Babbage" }).click();
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
});

/**
 * Runs in the page: sends message.send over a WebSocket of its own, with
 * the stored token, to the open conversation, and returns the error.
 * @param {{body: string}} args
 */
export async function rawSend({ body }) {
  const token = localStorage.getItem("confab.token");
  const conversation = document.querySelector('.conversation-item[aria-current="true"]')?.getAttribute("data-conversation");
  const ws = new WebSocket(`ws://${location.host}/api/v1/ws`, ["confab.v1", token || ""]);
  return await new Promise((resolve) => {
    ws.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "session.ready") ws.send(JSON.stringify({ type: "message.send", id: crypto.randomUUID(), data: { conversation, body } }));
      if (frame.type === "result" || frame.type === "error") {
        ws.close();
        resolve(frame.type === "error" ? frame.error : { code: "sent" });
      }
    };
  });
}
