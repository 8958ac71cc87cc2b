// Screenshots of the main screens for docs/web-client.md, at desktop and
// phone width, in the light and dark themes: sign-in, conversation list
// and chat (with reactions and a sticker), attachments (in messages and
// waiting in the composer), the sticker picker, search results, group
// management, contacts, and a profile. Each step also
// checks that the screen shows what it should.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, messages, openChat, shot, signUp, startServerAndBrowser, stopServerAndBrowser } from "../lib/browser.js";
import { eventually, toBeHidden, toBeVisible } from "../lib/expect.js";
import { makePack, patchProfile, png, uploadMedia, wsRequests } from "../lib/seed.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

test("screenshots of the main screens", async () => {
  const ada = await signUp(browser, server.url, "ada", { displayName: "Ada Lovelace" });
  const bob = await signUp(browser, server.url, "bob", { displayName: "Bob Babbage" });
  const cy = await signUp(browser, server.url, "cy", { displayName: "Cy Hopper" });
  const dee = await signUp(browser, server.url, "dee", { displayName: "Dee Noether" });
  await becomeContacts(ada.page, bob.page, "bob", "Ada Lovelace");
  await becomeContacts(ada.page, cy.page, "cy", "Ada Lovelace");
  await wsRequests(dee.page, [["contact.invite", { user: "ada" }]]);
  await patchProfile(bob.page, {
    bio: "Mechanical computing, difference engines and too much tea.\nAsk me about cards.",
    profile_links: [{ name: "Workshop", url: "https://example.org/bob" }],
  });

  const [group] = await wsRequests(ada.page, [
    ["conversation.create", { name: "Analytical Engine", topic: "Notes on the engine, daily", members: ["bob", "cy"] }],
  ]);
  await wsRequests(ada.page, [["conversation.members.rights", { conversation: group.id, user: "cy", rights: "read" }]]);
  const [first] = await wsRequests(bob.page, [
    ["message.send", { conversation: group.id, body: "Morning! I pushed the new card reader design: https://example.org/engine/cards" }],
  ]);
  // The first account is the server's admin: Ada makes the sticker pack.
  const sticker = await makePack(ada.page, await png(ada.page, 128, 128, "#f2b233"));
  const [, question] = await wsRequests(ada.page, [
    ["message.send", { conversation: group.id, body: "Lovely. The loop over the Bernoulli numbers fits in 25 cards now.", reply_to: first.id }],
    ["message.send", { conversation: group.id, body: "Shall we test it this afternoon?" }],
  ]);
  await wsRequests(bob.page, [
    ["message.react", { message: question.id, emoji: "👍" }],
    ["message.send", { conversation: group.id, body: "Yes, bring tea and the notes from Tuesday" }],
    ["message.send", { conversation: group.id, sticker: sticker.id }],
    ["message.game_invite", { conversation: group.id, game: "chess", settings: { clock: "10+5" } }],
  ]);
  await wsRequests(cy.page, [["message.react", { message: question.id, emoji: "👍" }]]);
  const [direct] = await wsRequests(bob.page, [["conversation.create", { kind: "direct", with: "ada" }]]);
  const photo = await uploadMedia(bob.page, await png(bob.page, 640, 420, "#3a6ea5"));
  const sketch = await uploadMedia(bob.page, await png(bob.page, 300, 420, "#5a9e6f"));
  const plans = await uploadMedia(bob.page, Buffer.from("Card reader, revision 4\n"));
  await wsRequests(bob.page, [
    ["message.send", { conversation: direct.id, body: "The new card reader, front and side", attachments: [{ media: photo.id, alt_text: "The card reader from the front" }, { media: sketch.id, alt_text: "Side view" }] }],
    ["message.send", { conversation: direct.id, body: "", attachments: [{ media: plans.id, alt_text: "card-reader-plans.txt" }] }],
  ]);
  await ada.page.close();
  await ada.context.close();

  for (const [device, viewport] of /** @type {const} */ ([["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]])) {
    for (const scheme of /** @type {const} */ (["light", "dark"])) {
      // Reduced motion: no transition is caught half-way.
      const context = await browser.newContext({ baseURL: server.url, viewport, colorScheme: scheme, deviceScaleFactor: 1, reducedMotion: "reduce" });
      const page = await context.newPage();
      const tag = `${device}-${scheme}`;
      await page.goto("/");
      await page.getByLabel("User name").fill("ada");
      await shot(page, `login-${tag}`);
      await page.getByLabel("Password").fill("ada-password-1");
      await page.getByRole("button", { name: "Log in" }).click();

      await openChat(page, "Analytical Engine");
      await toBeVisible(messages(page).getByRole("group", { name: "Game invitation: chess" }));
      await toBeVisible(messages(page).getByRole("link", { name: "https://example.org/engine/cards" }));
      await page.getByRole("textbox", { name: "Message" }).fill("Bringing scones too");
      await toBeVisible(messages(page).getByRole("img", { name: /Sticker :wave:/ }));
      await toBeVisible(messages(page).getByRole("button", { name: "👍 2" }));
      await shot(page, `chat-${tag}`);

      const stickers = page.getByRole("button", { name: "Stickers", exact: true });
      await stickers.click();
      const choice = page.getByRole("dialog", { name: "Stickers" }).getByRole("button", { name: "Sticker :wave: 👋" });
      await toBeVisible(choice);
      // Shot once its image has loaded.
      await eventually(async () => assert.ok(await choice.locator("img").evaluate((i) => /** @type {HTMLImageElement} */ (i).complete && /** @type {HTMLImageElement} */ (i).naturalWidth > 0)));
      await shot(page, `stickers-${tag}`);
      await page.keyboard.press("Escape");
      await toBeHidden(page.getByRole("dialog", { name: "Stickers" }));

      if (device === "phone") await page.getByRole("button", { name: "Back to conversations" }).click();
      await page.getByRole("button", { name: "Search messages" }).click();
      await page.getByRole("searchbox", { name: "Search messages" }).fill("cards");
      await page.getByRole("button", { name: "Search", exact: true }).click();
      await toBeVisible(page.getByRole("list", { name: "Search results" }).getByRole("listitem").first());
      await shot(page, `search-${tag}`);
      await page.keyboard.press("Escape");
      await toBeHidden(page.getByRole("dialog", { name: "Search messages" }));

      // By its id: the group's preview names Bob too.
      await page.locator(`[data-conversation="${direct.id}"]`).click();
      await page.getByRole("heading", { name: "Bob Babbage", level: 2 }).waitFor();
      await toBeVisible(messages(page).getByRole("img", { name: "Side view" }));
      await toBeVisible(messages(page).getByRole("group", { name: "File: card-reader-plans.txt" }));
      const chooser = page.waitForEvent("filechooser");
      await page.getByRole("button", { name: "Attach files" }).click();
      await (await chooser).setFiles([{ name: "scones.png", mimeType: "image/png", buffer: await png(page, 200, 200, "#e0b050") }]);
      await toBeVisible(page.getByRole("list", { name: "Attachments" }).getByText("Uploaded"));
      await page.getByRole("textbox", { name: "Alt text for scones.png" }).fill("A plate of scones");
      await page.getByRole("textbox", { name: "Message" }).fill("And these for Tuesday");
      await shot(page, `attachments-${tag}`);
      await page.getByRole("button", { name: "Remove scones.png" }).click();
      if (device === "phone") await page.getByRole("button", { name: "Back to conversations" }).click();
      await openChat(page, "Analytical Engine");

      await page.getByRole("button", { name: "Group settings" }).click();
      await toBeVisible(page.getByRole("combobox", { name: "Rights of Cy Hopper" }));
      await shot(page, `group-${tag}`);
      await page.getByRole("button", { name: "Close" }).click();

      if (device === "phone") await page.getByRole("button", { name: "Back to conversations" }).click();
      await page.getByRole("tab", { name: /Contacts/ }).click();
      await toBeVisible(page.getByRole("button", { name: "Accept Dee Noether" }));
      await shot(page, `contacts-${tag}`);

      await page.getByRole("button", { name: "Profile of Bob Babbage" }).click();
      await toBeVisible(page.getByRole("dialog").getByRole("button", { name: "Block" }));
      await shot(page, `profile-${tag}`);
      await context.close();
    }
  }
});
