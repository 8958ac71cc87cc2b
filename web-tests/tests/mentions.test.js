// Mentions: the `@` autocomplete over the group's members in the composer
// (by keyboard), mentions shown as links (marked for the reader) that open
// the profile, and a mention that sounds even in a muted group.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { messages, openChat, problems, signUp, startServerAndBrowser, stopServerAndBrowser } from "../lib/browser.js";
import { eventually, toBeHidden, toBeVisible, toHaveCount } from "../lib/expect.js";
import { wsRequests } from "../lib/seed.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

test("mention members with the autocomplete; a mention sounds in a muted group", async () => {
  const ada = await signUp(browser, server.url, "ada", { displayName: "Ada Lovelace" });
  const bob = await signUp(browser, server.url, "bob", { displayName: "Bob Babbage", viewport: { width: 390, height: 844 } });
  await signUp(browser, server.url, "cy", { displayName: "Cy Young" });
  await signUp(browser, server.url, "bea", { displayName: "Bea Outsider" });

  await ada.page.getByRole("button", { name: "New group" }).click();
  const create = ada.page.getByRole("dialog", { name: "New group" });
  await create.getByLabel("Group name").fill("Engines");
  await create.getByLabel("Members (names, separated by commas)").fill("bob, cy");
  await create.getByRole("button", { name: "Create group" }).click();
  await ada.page.getByRole("heading", { name: "Engines", level: 2 }).waitFor();

  // `@b` suggests Bob (a member), not Bea (who is not); Enter picks him.
  const input = ada.page.getByRole("textbox", { name: "Message" });
  await input.click();
  await ada.page.keyboard.type("Hi @b");
  const list = ada.page.getByRole("listbox", { name: "Mention someone" });
  await toBeVisible(list);
  await toHaveCount(list.getByRole("option"), 1);
  await toBeVisible(list.getByRole("option", { name: "Bob Babbage @bob" }));
  await ada.page.keyboard.press("Enter");
  await toBeHidden(list);
  assert.equal(await input.inputValue(), "Hi @bob ");
  // `@` alone lists every other member; the arrow moves, Tab picks.
  await ada.page.keyboard.type("and @");
  await toHaveCount(list.getByRole("option"), 2);
  await ada.page.keyboard.press("ArrowDown");
  await toBeVisible(list.getByRole("option", { name: "Cy Young @cy", selected: true }));
  await ada.page.keyboard.press("Tab");
  assert.equal(await input.inputValue(), "Hi @bob and @cy ");
  // Escape closes the list without sending; Enter then sends.
  await ada.page.keyboard.type("welcome, not @bea @");
  await toBeVisible(list);
  await ada.page.keyboard.press("Escape");
  await toBeHidden(list);
  await ada.page.keyboard.press("Backspace");
  await ada.page.keyboard.press("Enter");

  // Both members are links in the message; Bea (not a member) stays text.
  const onAda = messages(ada.page).getByRole("article").filter({ hasText: "welcome" });
  await toBeVisible(onAda.getByRole("link", { name: "@bob", exact: true }));
  await toBeVisible(onAda.getByRole("link", { name: "@cy", exact: true }));
  await toHaveCount(onAda.getByRole("link", { name: "@bea" }), 0);

  // Bob sees his own mention marked, and its link opens Cy's profile.
  await openChat(bob.page, "Engines");
  const onBob = messages(bob.page).getByRole("article").filter({ hasText: "welcome" });
  const mine = onBob.getByRole("link", { name: "@bob", exact: true });
  await toBeVisible(mine);
  assert.match((await mine.getAttribute("class")) || "", /\bme\b/);
  assert.doesNotMatch((await onBob.getByRole("link", { name: "@cy", exact: true }).getAttribute("class")) || "", /\bme\b/);
  await onBob.getByRole("link", { name: "@cy", exact: true }).click();
  await toBeVisible(bob.page.getByRole("dialog").getByText("Cy Young").first());
  await bob.page.keyboard.press("Escape");

  // Bob turns the sound on and mutes the group: a plain message stays quiet,
  // one that mentions him sounds.
  const chimes = () => bob.page.evaluate(() => Number(document.documentElement.dataset.chimes || "0"));
  await bob.page.getByRole("button", { name: "Mute notifications" }).click();
  await bob.page.getByRole("button", { name: "Back to conversations" }).click();
  await bob.page.getByRole("button", { name: "Notification settings" }).click();
  const settings = bob.page.getByRole("dialog", { name: "Notifications" });
  await settings.getByLabel("Play a sound for new messages").check();
  await eventually(async () => assert.equal(await chimes(), 1));
  await settings.getByRole("button", { name: "Close" }).click();
  const group = bob.page.getByRole("list", { name: "Conversations" }).getByRole("button", { name: /Engines/ });
  const conversation = (await group.getAttribute("data-conversation")) || "";
  await wsRequests(ada.page, [["message.send", { conversation, body: "quiet news" }]]);
  await toBeVisible(group.getByText("quiet news"));
  assert.equal(await chimes(), 1);
  await wsRequests(ada.page, [["message.send", { conversation, body: "@bob this one is for you" }]]);
  await eventually(async () => assert.equal(await chimes(), 2));

  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});
