// Read receipts: in a group, the initials of the members who have read a
// message appear under it, live; a member who turns "Share read
// receipts" off in their profile is no longer shown.

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

test("members see who has read a message, unless the reader turns receipts off", async () => {
  const ada = await signUp(browser, server.url, "ada", { displayName: "Ada" });
  const bob = await signUp(browser, server.url, "bob", { displayName: "Bob" });

  await ada.page.getByRole("button", { name: "New group" }).click();
  const create = ada.page.getByRole("dialog", { name: "New group" });
  await create.getByLabel("Group name").fill("Tea");
  await create.getByLabel("Members (names, separated by commas)").fill("bob");
  await create.getByRole("button", { name: "Create group" }).click();
  await ada.page.getByRole("heading", { name: "Tea", level: 2 }).waitFor();
  await send(ada.page, "Scones at four");

  // Bob opens the group and reads it: Ada sees "Seen by Bob", live.
  await openChat(bob.page, "Tea");
  await toBeVisible(messages(bob.page).getByText("Scones at four"));
  await toBeVisible(messages(ada.page).getByLabel("Seen by Bob"));

  // Bob turns read receipts off: a new message he reads is not marked.
  await bob.page.getByRole("button", { name: "Your profile" }).click();
  const privacy = bob.page.getByRole("form", { name: "Privacy" });
  const toggle = privacy.getByLabel("Share read receipts");
  await toBeVisible(toggle);
  await bob.page.waitForFunction(() => {
    const box = /** @type {HTMLInputElement | null} */ (document.querySelector("form[aria-label=Privacy] input[type=checkbox]"));
    return !!box && !box.disabled && box.checked;
  });
  await toggle.uncheck();
  await toBeVisible(privacy.getByText("Read receipts are off."));
  await bob.page.keyboard.press("Escape");

  await send(ada.page, "Bring jam");
  await toBeVisible(messages(bob.page).getByText("Bring jam"));
  // Ada reloads the receipts by reopening: Bob is no longer listed.
  await ada.page.reload();
  await openChat(ada.page, "Tea");
  await toBeVisible(messages(ada.page).getByText("Bring jam"));
  await toHaveCount(messages(ada.page).getByLabel(/Seen by/), 0);

  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});
