// axe-core checks the main screens (sign-in, chat with attachments and a
// file waiting in the composer, the image viewer, contacts, group
// settings, a profile) at desktop and phone size, in the light and the
// dark theme: no serious or critical violation (among them text contrast
// below 4.5:1, controls without names, ARIA misuse). Also the landmarks
// and headings a screen-reader user moves by, the tabs with their tab
// panels, and conversation list items named by their title.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, messages, openChat, signUp, startServerAndBrowser, stopServerAndBrowser } from "../lib/browser.js";
import { toBeVisible } from "../lib/expect.js";
import { patchProfile, png, uploadMedia, wsRequests } from "../lib/seed.js";

const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

/**
 * The serious and critical violations axe finds on the page as it is.
 * @param {import("playwright-core").Page} page
 * @param {string} screen
 */
async function audit(page, screen) {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    // @ts-ignore axe-core is injected above
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations
      .filter((/** @type {any} */ v) => v.impact === "serious" || v.impact === "critical")
      .map((/** @type {any} */ v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((/** @type {any} */ n) => `${n.target.join(" ")} ${n.failureSummary.replace(/\s+/g, " ")}`).join(" | ")}`);
  });
  return violations.map((v) => `${screen}: ${v}`);
}

test("the main screens have no serious or critical axe violations", async () => {
  const ada = await signUp(browser, server.url, "ada", { displayName: "Ada Lovelace" });
  const bob = await signUp(browser, server.url, "bob", { displayName: "Bob Babbage" });
  const cy = await signUp(browser, server.url, "cy", { displayName: "Cy Hopper" });
  const dee = await signUp(browser, server.url, "dee", { displayName: "Dee Noether" });
  await becomeContacts(ada.page, bob.page, "bob", "Ada Lovelace");
  await becomeContacts(ada.page, cy.page, "cy", "Ada Lovelace");
  await wsRequests(dee.page, [["contact.invite", { user: "ada" }]]);
  await patchProfile(bob.page, { bio: "Difference engines.", profile_links: [{ name: "Workshop", url: "https://example.org/bob" }] });
  const [group] = await wsRequests(ada.page, [["conversation.create", { name: "Tea & cake", topic: "Fridays", members: ["bob", "cy"] }]]);
  const [first] = await wsRequests(bob.page, [["message.send", { conversation: group.id, body: "Morning! https://example.org/cards" }]]);
  await wsRequests(ada.page, [
    ["conversation.members.rights", { conversation: group.id, user: "cy", rights: "read" }],
    ["message.send", { conversation: group.id, body: "Lovely.", reply_to: first.id }],
  ]);
  await wsRequests(bob.page, [
    ["message.send", { conversation: group.id, body: "Bring tea" }],
    ["message.game_invite", { conversation: group.id, game: "chess" }],
  ]);
  const photo = await uploadMedia(bob.page, await png(bob.page, 400, 300, "#36c"));
  const notes = await uploadMedia(bob.page, Buffer.from("notes"));
  await wsRequests(bob.page, [["message.send", { conversation: group.id, body: "", attachments: [{ media: photo.id, alt_text: "The engine" }, notes.id] }]]);
  await ada.context.close();

  /** @type {string[]} */
  const found = [];
  for (const [device, viewport] of /** @type {const} */ ([["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]])) {
    for (const scheme of /** @type {const} */ (["light", "dark"])) {
      const tag = `${device} ${scheme}`;
      // The page's CSP forbids injected scripts: axe is injected with it
      // bypassed. Reduced motion turns transitions off, so colours are
      // measured as they settle.
      const context = await browser.newContext({ baseURL: server.url, viewport, colorScheme: scheme, bypassCSP: true, reducedMotion: "reduce" });
      const page = await context.newPage();
      await page.goto("/");
      await page.getByLabel("User name").fill("ada");
      found.push(...(await audit(page, `login ${tag}`)));
      await page.getByLabel("Password").fill("ada-password-1");
      await page.getByRole("button", { name: "Log in" }).click();

      await openChat(page, "Tea & cake");
      await toBeVisible(messages(page).getByRole("group", { name: "Game invitation: chess" }));
      await page.getByRole("textbox", { name: "Message" }).fill("Scones too");
      // A file waiting in the composer, and a message with an image and a file.
      const chooser = page.waitForEvent("filechooser");
      await page.getByRole("button", { name: "Attach files" }).click();
      await (await chooser).setFiles([{ name: "menu.txt", mimeType: "text/plain", buffer: Buffer.from("scones") }]);
      await toBeVisible(page.getByRole("list", { name: "Attachments" }).getByText("Uploaded"));
      await toBeVisible(messages(page).getByRole("img", { name: "The engine" }));
      found.push(...(await audit(page, `chat ${tag}`)));
      await messages(page).getByRole("button", { name: "View image: The engine" }).click();
      await toBeVisible(page.getByRole("dialog", { name: "Image" }).getByRole("img", { name: "The engine" }));
      found.push(...(await audit(page, `image viewer ${tag}`)));
      await page.keyboard.press("Escape");

      await page.getByRole("button", { name: "Group settings" }).click();
      await toBeVisible(page.getByRole("combobox", { name: "Rights of Cy Hopper" }));
      found.push(...(await audit(page, `group settings ${tag}`)));
      await page.getByRole("button", { name: "Close" }).click();

      if (device === "phone") await page.getByRole("button", { name: "Back to conversations" }).click();
      await page.getByRole("tab", { name: /Contacts/ }).click();
      await toBeVisible(page.getByRole("button", { name: "Accept Dee Noether" }));
      found.push(...(await audit(page, `contacts ${tag}`)));

      await page.getByRole("button", { name: "Profile of Bob Babbage" }).click();
      await toBeVisible(page.getByRole("dialog").getByRole("button", { name: "Block" }));
      found.push(...(await audit(page, `profile ${tag}`)));
      await context.close();
    }
  }
  assert.deepEqual(found, []);
});

test("landmarks, headings, tabs and list items have their roles and names", async () => {
  const { page } = await signUp(browser, server.url, "eve", { displayName: "Eve" });
  await wsRequests(page, [
    ["conversation.create", { name: "Tea & cake", topic: "Fridays", members: [] }],
    ["message.send", { conversation: "$0.id", body: "Hi all" }],
  ]);
  await toBeVisible(page.getByRole("main", { name: "Chat" }));
  assert.deepEqual(await page.locator("h1").allTextContents(), ["Confab"]);
  // Tabs control their panels.
  const chats = page.getByRole("tab", { name: "Chats" });
  assert.equal(await chats.getAttribute("aria-selected"), "true");
  await toBeVisible(page.getByRole("tabpanel", { name: "Chats" }).getByRole("list", { name: "Conversations" }));
  await chats.press("ArrowRight");
  await toBeVisible(page.getByRole("tabpanel", { name: /Contacts/ }));
  assert.equal(await page.getByRole("tab", { name: /Contacts/ }).getAttribute("aria-selected"), "true");
  await page.getByRole("tab", { name: /Contacts/ }).press("ArrowLeft");
  // A conversation is named by its title, then its last message, each part
  // set apart (the avatar's initials left out).
  const item = page.getByRole("list", { name: "Conversations" }).getByRole("button").first();
  await toBeVisible(item);
  // (Chromium puts a space around each hidden separator; a screen reader reads it alike.)
  const name = (await item.ariaSnapshot()).replace(/ ,/g, ",");
  assert.match(name, /^- '?button "Tea & cake, \d\d?:\d\d( [AP]M)?, You: Hi all"/);
  await item.click();
  await toBeVisible(page.getByRole("heading", { name: "Tea & cake", level: 2 }));
});
