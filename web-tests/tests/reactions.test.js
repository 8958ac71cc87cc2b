// Two people react to a message: the picker (by mouse and by keyboard, a
// common emoji or a typed one), chips with counts that show whose they are,
// live on the other side, and a click on a chip takes one's reaction back.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, messages, openChat, problems, send, signUp, startServerAndBrowser, stopServerAndBrowser } from "../lib/browser.js";
import { toBeHidden, toBeVisible } from "../lib/expect.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

test("two users react to a message and see it live", async () => {
  const ada = await signUp(browser, server.url, "ada", { displayName: "Ada Lovelace" });
  const bob = await signUp(browser, server.url, "bob", { displayName: "Bob Babbage" });
  await becomeContacts(ada.page, bob.page, "bob", "Ada Lovelace");
  await openChat(ada.page, "Bob Babbage");
  await openChat(bob.page, "Ada Lovelace");
  await send(ada.page, "Shall we compute?");
  const onBob = messages(bob.page).getByRole("article").filter({ hasText: "Shall we compute?" });
  const onAda = messages(ada.page).getByRole("article").filter({ hasText: "Shall we compute?" });
  await toBeVisible(onBob);

  // Bob picks 🎉 from the picker.
  await onBob.hover();
  await onBob.getByRole("button", { name: "Add reaction" }).click();
  const picker = bob.page.getByRole("dialog", { name: "Add a reaction" });
  await toBeVisible(picker);
  await picker.getByRole("button", { name: "React with 🎉" }).click();
  await toBeHidden(picker);
  const bobChip = onBob.getByRole("button", { name: "🎉 1, including you" });
  await toBeVisible(bobChip);
  assert.equal(await bobChip.getAttribute("aria-pressed"), "true");

  // Ada sees it live, not as hers; her click adds hers to the count.
  const adaChip = onAda.getByRole("button", { name: "🎉 1", exact: true });
  await toBeVisible(adaChip);
  assert.equal(await adaChip.getAttribute("aria-pressed"), "false");
  assert.equal(await adaChip.getAttribute("title"), "Bob Babbage");
  await adaChip.click();
  await toBeVisible(onAda.getByRole("button", { name: "🎉 2, including you" }));
  await toBeVisible(onBob.getByRole("button", { name: "🎉 2, including you" }));

  // Ada types an emoji of her own, by keyboard only.
  await onAda.hover();
  await onAda.getByRole("button", { name: "Add reaction" }).focus();
  await ada.page.keyboard.press("Enter");
  const adaPicker = ada.page.getByRole("dialog", { name: "Add a reaction" });
  await toBeVisible(adaPicker);
  await adaPicker.getByRole("textbox", { name: "Or type one emoji" }).fill("🦄");
  await ada.page.keyboard.press("Enter");
  await toBeVisible(onBob.getByRole("button", { name: "🦄 1", exact: true }));

  // Something that is not an emoji is refused with the server's reason.
  await onAda.hover();
  await onAda.getByRole("button", { name: "Add reaction" }).click();
  await adaPicker.getByRole("textbox", { name: "Or type one emoji" }).fill("hello");
  await ada.page.keyboard.press("Enter");
  await toBeVisible(ada.page.getByText("emoji: must be one Unicode emoji"));

  // Bob takes his reaction back: one left, no longer his, on both sides.
  await onBob.getByRole("button", { name: "🎉 2, including you" }).click();
  await toBeVisible(onBob.getByRole("button", { name: "🎉 1", exact: true }));
  await toBeVisible(onAda.getByRole("button", { name: "🎉 1, including you" }));

  // A reload shows them as stored.
  await bob.page.reload();
  await openChat(bob.page, "Ada Lovelace");
  await toBeVisible(messages(bob.page).getByRole("article").filter({ hasText: "Shall we compute?" }).getByRole("button", { name: "🦄 1", exact: true }));

  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});
