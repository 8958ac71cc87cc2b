// Reports in the UI: a person reports a message in a group; the
// moderators' queue (shown only to moderators and admins) lists it with
// the message, and deleting the message from there removes it for
// everyone and tells the reporter; a report about a local user can be
// resolved by suspending the account.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { messages, openChat, problems, signUp, startServerAndBrowser, stopServerAndBrowser } from "../lib/browser.js";
import { toBeHidden, toBeVisible, toHaveCount } from "../lib/expect.js";
import { wsRequests } from "../lib/seed.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

test("a reported message is deleted from the moderators' queue", async () => {
  // The first account of a server is its admin.
  const root = await signUp(browser, server.url, "root", { displayName: "Root" });
  const ada = await signUp(browser, server.url, "ada", { displayName: "Ada" });
  const bob = await signUp(browser, server.url, "bob", { displayName: "Bob" });
  const [group] = await wsRequests(ada.page, [["conversation.create", { name: "Book club", members: ["bob"] }]]);
  await wsRequests(bob.page, [["message.send", { conversation: group.id, body: "buy cheap pills" }]]);

  // Only moderators and admins have the queue.
  await toBeHidden(ada.page.getByRole("button", { name: "Reports" }));
  await toBeVisible(root.page.getByRole("button", { name: "Reports" }));

  // Ada reports Bob's message with a reason.
  await openChat(ada.page, "Book club");
  const message = messages(ada.page).getByRole("article").filter({ hasText: "buy cheap pills" });
  await message.hover();
  await message.getByRole("button", { name: "Report message" }).click();
  const dialog = ada.page.getByRole("dialog", { name: "Report message" });
  await dialog.getByLabel("Reason").fill("spam");
  await dialog.getByRole("button", { name: "Send report" }).click();
  await toBeVisible(ada.page.getByText("Thank you. Moderators will look at your report."));
  await toHaveCount(ada.page.getByRole("dialog", { name: "Report message" }), 0);

  // The admin sees it with the message and deletes the message.
  await root.page.getByRole("button", { name: "Reports" }).click();
  const queue = root.page.getByRole("dialog", { name: "Reports" });
  const item = queue.getByRole("listitem", { name: "Report about Bob (@bob)" });
  await toBeVisible(item.getByText("buy cheap pills"));
  await toBeVisible(item.getByText("spam", { exact: true }));
  await item.getByRole("button", { name: "Delete message: report about Bob (@bob)" }).click();
  await root.page.getByRole("dialog", { name: "Delete the reported messages for everyone?" }).getByRole("button", { name: "Delete message" }).click();
  await toBeVisible(queue.getByText("No open reports."));

  // Gone for everyone; the reporter hears it was handled.
  await toBeVisible(messages(ada.page).getByText("This message was deleted."));
  await toHaveCount(messages(ada.page).getByText("buy cheap pills"), 0);
  await toBeVisible(ada.page.getByText("A moderator handled your report."));
  assert.deepEqual([root, ada, bob].flatMap((p) => problems(p.page)), []);
});

test("a reported account is suspended from the moderators' queue", async () => {
  // A server of its own, whose first account (the admin) is root.
  const own = await new ConfabServer().start();
  const root = await signUp(browser, own.url, "root");
  const ada = await signUp(browser, own.url, "ada");
  const bob = await signUp(browser, own.url, "bob", { displayName: "Bob" });
  const reported = await ada.page.evaluate(async () => {
    const response = await fetch("/api/v1/reports", {
      method: "POST",
      headers: { Authorization: `Bearer ${localStorage.getItem("confab.token")}`, "Content-Type": "application/json" },
      body: JSON.stringify({ user: "bob", comment: "threats" }),
    });
    return response.status;
  });
  assert.equal(reported, 201);

  await root.page.getByRole("button", { name: "Reports" }).click();
  const queue = root.page.getByRole("dialog", { name: "Reports" });
  const item = queue.getByRole("listitem", { name: "Report about Bob (@bob)" });
  await toBeVisible(item.getByText("threats", { exact: true }));
  // No message was reported: nothing to delete; Bob is local: no server to block.
  await toHaveCount(item.getByRole("button", { name: "Delete message: report about Bob (@bob)" }), 0);
  await toHaveCount(item.getByRole("button", { name: "Block server: report about Bob (@bob)" }), 0);
  await item.getByRole("button", { name: "Suspend account: report about Bob (@bob)" }).click();
  await root.page.getByRole("dialog", { name: "Suspend the reported account? They can no longer log in." }).getByRole("button", { name: "Suspend account" }).click();
  await toBeVisible(queue.getByText("No open reports."));
  await toBeVisible(bob.page.getByText("Your account is suspended."));

  for (const page of [root.page, ada.page, bob.page]) assert.deepEqual(problems(page), []);
  await root.context.close();
  await ada.context.close();
  await bob.context.close();
  await own.dispose();
});
