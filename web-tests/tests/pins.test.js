// Pinned messages of a group: the owner pins a member's message from its
// actions, everyone sees the line in the chat and the message in the
// group's details; a member has no pin action and cannot unpin; the owner
// unpins it from the details and the list empties for both, live.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { messages, openChat, problems, send, signUp, startServerAndBrowser, stopServerAndBrowser } from "../lib/browser.js";
import { toBeVisible, toHaveCount } from "../lib/expect.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

test("the owner pins and unpins a message; members see the list live", async () => {
  const ada = await signUp(browser, server.url, "ada", { displayName: "Ada" });
  const bob = await signUp(browser, server.url, "bob", { displayName: "Bob" });

  await ada.page.getByRole("button", { name: "New group" }).click();
  const create = ada.page.getByRole("dialog", { name: "New group" });
  await create.getByLabel("Group name").fill("Tea");
  await create.getByLabel("Members (names, separated by commas)").fill("bob");
  await create.getByRole("button", { name: "Create group" }).click();
  await ada.page.getByRole("heading", { name: "Tea", level: 2 }).waitFor();
  await openChat(bob.page, "Tea");
  await send(bob.page, "Scones at four");

  // Bob, a plain member, has no pin action.
  const onBob = messages(bob.page).getByRole("article").filter({ hasText: "Scones at four" });
  await onBob.hover();
  await toHaveCount(onBob.getByRole("button", { name: "Pin message" }), 0);

  // Ada pins it; both see the line in the chat.
  const onAda = messages(ada.page).getByRole("article").filter({ hasText: "Scones at four" });
  await toBeVisible(onAda);
  await onAda.hover();
  await onAda.getByRole("button", { name: "Pin message" }).click();
  await toBeVisible(messages(ada.page).getByText("You pinned a message"));
  await toBeVisible(messages(bob.page).getByText("Ada pinned a message"));

  // Bob sees it in the group's details, without an unpin button.
  await bob.page.getByRole("button", { name: "Group settings" }).click();
  const bobList = bob.page.getByRole("dialog", { name: "Group settings" }).getByRole("list", { name: "Pinned messages" });
  await toBeVisible(bobList.getByText("Scones at four"));
  await toHaveCount(bobList.getByRole("button", { name: /Unpin/ }), 0);

  // Ada unpins it from hers; Bob's open list empties live.
  await ada.page.getByRole("button", { name: "Group settings" }).click();
  const adaList = ada.page.getByRole("dialog", { name: "Group settings" }).getByRole("list", { name: "Pinned messages" });
  await adaList.getByRole("button", { name: "Unpin: Scones at four" }).click();
  await toBeVisible(adaList.getByText("No pinned messages."));
  await toBeVisible(bobList.getByText("No pinned messages."));

  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});
