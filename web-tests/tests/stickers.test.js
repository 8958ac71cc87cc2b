// Stickers in the web client: an admin makes a pack and uploads a sticker
// through the REST API, then another pack and sticker in the picker's
// admin forms; a user opens the picker from the composer (packs as tabs,
// arrow keys between them, Esc closes it and focus goes back to the
// button), sends the sticker by keyboard, and both see it as an image
// without a bubble, its shortcode as alt text, also after a reload (from
// history); the conversation list's preview says it is a sticker.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, launch, messages, openChat, problems, signUp } from "../lib/browser.js";
import { eventually, toBeHidden, toBeVisible } from "../lib/expect.js";
import { makePack, png } from "../lib/seed.js";

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

test("pick a sticker, send it, both see the image", async () => {
  // The first account is the server's admin.
  const ada = await signUp(browser, server.url, "ada", { displayName: "Ada Lovelace" });
  const bob = await signUp(browser, server.url, "bob", { displayName: "Bob Babbage" });
  const sticker = await makePack(ada.page, await png(ada.page, 128, 128, "#fc0"));
  assert.equal(sticker.shortcode, "wave");
  await becomeContacts(ada.page, bob.page, "bob", "Ada Lovelace");
  await openChat(ada.page, "Bob Babbage");
  await openChat(bob.page, "Ada Lovelace");

  // The picker: packs as tabs; Esc closes it, focus back on the button.
  const button = bob.page.getByRole("button", { name: "Stickers", exact: true });
  await button.click();
  const picker = bob.page.getByRole("dialog", { name: "Stickers" });
  await toBeVisible(picker);
  const tab = picker.getByRole("tab", { name: "Greetings" });
  assert.equal(await tab.getAttribute("aria-selected"), "true");
  const choice = picker.getByRole("button", { name: "Sticker :wave: 👋" });
  await eventually(async () => assert.ok(await choice.evaluate((b) => b === document.activeElement), "first sticker focused"));
  await bob.page.keyboard.press("Escape");
  await toBeHidden(picker);
  await eventually(async () => assert.ok(await button.evaluate((b) => b === document.activeElement), "focus back on the button"));

  // Chosen by keyboard, it is sent at once.
  await button.click();
  await toBeVisible(picker);
  await eventually(async () => assert.ok(await choice.evaluate((b) => b === document.activeElement)));
  await bob.page.keyboard.press("Enter");
  await toBeHidden(picker);

  // Both see the image, without a bubble, its shortcode as alt text.
  for (const page of [bob.page, ada.page]) {
    const image = messages(page).getByRole("img", { name: "Sticker :wave: 👋" });
    await toBeVisible(image);
    await eventually(async () => assert.ok(await image.evaluate((img) => /** @type {HTMLImageElement} */ (img).naturalWidth > 0), "sticker loaded"));
    const background = await image.evaluate((img) => getComputedStyle(/** @type {HTMLElement} */ (img.closest(".bubble"))).backgroundColor);
    assert.equal(background, "rgba(0, 0, 0, 0)");
  }

  // The conversation list says what it is.
  await toBeVisible(ada.page.getByRole("list", { name: "Conversations" }).getByText(/Sticker :wave:/));

  // Ada, an admin, makes a pack and adds a sticker in the picker; Bob
  // moves to that pack with the arrow keys.
  await ada.page.getByRole("button", { name: "Stickers", exact: true }).click();
  const manage = ada.page.getByRole("dialog", { name: "Stickers" }).getByRole("region", { name: "Manage stickers" });
  await manage.getByLabel("Pack name").fill("Cats");
  await manage.getByRole("button", { name: "Create pack" }).click();
  const cats = ada.page.getByRole("tab", { name: "Cats" });
  await eventually(async () => assert.equal(await cats.getAttribute("aria-selected"), "true"));
  await manage.getByLabel("Shortcode").fill("purr");
  await manage.getByLabel(/^Image/).setInputFiles({ name: "purr.png", mimeType: "image/png", buffer: await png(ada.page, 64, 64, "#a5c") });
  await manage.getByRole("button", { name: "Add to Cats" }).click();
  await toBeVisible(ada.page.getByRole("button", { name: "Sticker :purr:" }));
  await ada.page.keyboard.press("Escape");
  // Bob, no admin, has no such forms.
  await button.click();
  await toBeVisible(picker);
  assert.equal(await picker.getByRole("region", { name: "Manage stickers" }).count(), 0);
  await tab.focus();
  await bob.page.keyboard.press("ArrowRight");
  const catsForBob = picker.getByRole("tab", { name: "Cats" });
  await eventually(async () => assert.equal(await catsForBob.getAttribute("aria-selected"), "true"));
  await toBeVisible(picker.getByRole("button", { name: "Sticker :purr:" }));
  await bob.page.keyboard.press("Escape");
  await toBeHidden(picker);

  // From history, after a reload.
  await ada.page.reload();
  await openChat(ada.page, "Bob Babbage");
  await toBeVisible(messages(ada.page).getByRole("img", { name: "Sticker :wave: 👋" }));
  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});
