// The small things people rely on: "is typing…" ends as soon as the typist
// switches chats (the client sends typing.stop); text pasted beyond the
// length limit stays whole and a counter says how much is over; after
// sign-up the focus is in the conversation search; a person found by a
// search who is also among the invited shows once; a theme picked in one
// tab reaches the others; the notification settings (sound off by
// default, the unread count on the tab's icon).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, messages, openChat, problems, signUp, startServerAndBrowser, stopServerAndBrowser } from "../lib/browser.js";
import { eventually, toBeDisabled, toBeHidden, toBeVisible, toHaveCount } from "../lib/expect.js";
import { wsRequests } from "../lib/seed.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

test("typing ends when the typist switches chats", async () => {
  const ada = await signUp(browser, server.url, "ada_y", { displayName: "Ada" });
  const bob = await signUp(browser, server.url, "bob_y", { displayName: "Bob" });
  const cy = await signUp(browser, server.url, "cy_y", { displayName: "Cy" });
  await becomeContacts(ada.page, bob.page, "bob_y", "Ada");
  await becomeContacts(cy.page, bob.page, "bob_y", "Cy");
  // Bob's clock stands still: no timer of his page can end the typing
  // notice, only what he does.
  await bob.page.clock.install();
  await bob.page.reload();
  await bob.page.getByRole("button", { name: "Your profile" }).waitFor();
  await bob.page.clock.pauseAt((await bob.page.evaluate(() => Date.now())) + 100);
  /** @type {any[]} */
  const typingFrames = [];
  ada.page.on("websocket", (ws) =>
    ws.on("framereceived", ({ payload }) => {
      const frame = JSON.parse(String(payload));
      if (frame.type === "typing") typingFrames.push(frame.data);
    }),
  );
  await ada.page.reload();
  await openChat(ada.page, "Bob");
  await openChat(bob.page, "Ada");
  await bob.page.getByRole("textbox", { name: "Message" }).pressSequentially("Hello Ad");
  await toBeVisible(ada.page.getByText("Bob is typing…"));

  // Bob opens another chat: Ada is told at once that he stopped.
  await openChat(bob.page, "Cy");
  await eventually(async () => assert.deepEqual(typingFrames.map((f) => f.typing), [true, false]));
  await toBeHidden(ada.page.getByText("Bob is typing…"));

  // Emptying the box stops it too (back in Ada's chat, his draft is there).
  await openChat(bob.page, "Ada");
  const box = bob.page.getByRole("textbox", { name: "Message" });
  assert.equal(await box.inputValue(), "Hello Ad");
  await box.pressSequentially("x");
  await toBeVisible(ada.page.getByText("Bob is typing…"));
  await box.press("Control+a");
  await box.press("Backspace");
  await eventually(async () => assert.deepEqual(typingFrames.map((f) => f.typing), [true, false, true, false]));
  await toBeHidden(ada.page.getByText("Bob is typing…"));
  assert.deepEqual([ada, bob, cy].flatMap((p) => problems(p.page)), []);
});

test("text beyond the length limit is kept whole and counted", async () => {
  const ada = await signUp(browser, server.url, "ada_k", { displayName: "Ada" });
  const bob = await signUp(browser, server.url, "bob_k", { displayName: "Bob" });
  await becomeContacts(ada.page, bob.page, "bob_k", "Ada");
  await ada.context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await openChat(ada.page, "Bob");
  const box = ada.page.getByRole("textbox", { name: "Message" });
  const counter = ada.page.locator("#composer-counter");
  await box.fill("a".repeat(100));
  await toBeHidden(counter);

  // Near the limit the counter shows what is used.
  await box.fill("é".repeat(3900));
  await toBeVisible(counter.getByText("3,900 / 4,000"));
  await toBeDisabled(ada.page.getByRole("button", { name: "Send" }), false);

  // Pasted beyond it: nothing is cut, the counter says how much is over,
  // and Send waits until the text is short enough.
  await ada.page.evaluate((text) => navigator.clipboard.writeText(text), "b".repeat(4120));
  await box.fill("");
  await box.focus();
  await box.press("ControlOrMeta+V");
  await eventually(async () => assert.equal((await box.inputValue()).length, 4120));
  await toBeVisible(counter.getByText("120 characters too long (4,120 / 4,000)"));
  await toBeDisabled(ada.page.getByRole("button", { name: "Send" }));
  await box.press("Enter");
  await toHaveCount(messages(ada.page).getByRole("article"), 0);
  await box.fill("b".repeat(4000));
  await toBeVisible(counter.getByText("4,000 / 4,000"));
  await box.press("Enter");
  await openChat(bob.page, "Ada");
  await toBeVisible(messages(bob.page).getByText("b".repeat(4000)));
  await toBeHidden(counter);
  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});

test("after sign-up the focus is in the conversation search", async () => {
  const { page } = await signUp(browser, server.url, "ada_f", { displayName: "Ada" });
  await eventually(async () => assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("aria-label")), "Search conversations"));
});

test("a searched person who is also invited shows once", async () => {
  const ada = await signUp(browser, server.url, "ada_d", { displayName: "Ada" });
  await signUp(browser, server.url, "bob_d", { displayName: "Bob" });
  await ada.page.getByRole("tab", { name: /Contacts/ }).click();
  await ada.page.getByLabel("Find people").fill("bob_d");
  await ada.page.getByRole("button", { name: "Invite Bob" }).click();
  // Listed once, in the results, with the invitation's state.
  await toBeVisible(ada.page.getByRole("button", { name: "Cancel invitation to Bob" }));
  await toHaveCount(ada.page.getByRole("button", { name: "Profile of Bob" }), 1);
  await toBeVisible(ada.page.getByRole("list", { name: "Search results" }).getByText("@bob_d · invitation sent"));
  await toHaveCount(ada.page.getByRole("heading", { name: "Invited" }), 0);
  // The search cleared, Bob is under "Invited".
  await ada.page.getByLabel("Find people").fill("");
  await toBeVisible(ada.page.getByRole("region", { name: "Invited" }).getByRole("button", { name: "Profile of Bob" }));
  await toHaveCount(ada.page.getByRole("button", { name: "Profile of Bob" }), 1);
});

test("a theme picked in one tab reaches the other tabs", async () => {
  const { page, context } = await signUp(browser, server.url, "ada_h", { displayName: "Ada" });
  const other = await context.newPage();
  await other.goto("/");
  await other.getByRole("button", { name: "Your profile" }).waitFor();
  const theme = (/** @type {import("playwright-core").Page} */ p) => p.evaluate(() => document.documentElement.dataset.theme);
  assert.equal(await theme(other), "light");
  await page.getByRole("button", { name: "Switch to dark theme" }).click();
  await eventually(async () => assert.equal(await theme(other), "dark"));
  await toBeVisible(other.getByRole("button", { name: "Switch to light theme" }));
  await other.getByRole("button", { name: "Switch to light theme" }).click();
  await eventually(async () => assert.equal(await theme(page), "light"));
});

test("notification settings: the unread count on the tab's icon, and an optional sound", async () => {
  const ada = await signUp(browser, server.url, "ada_b", { displayName: "Ada", viewport: { width: 390, height: 844 } });
  const bob = await signUp(browser, server.url, "bob_b", { displayName: "Bob" });
  await becomeContacts(ada.page, bob.page, "bob_b", "Ada");
  const item = ada.page.getByRole("list", { name: "Conversations" }).getByRole("button", { name: /Bob/ });
  const conversation = { id: (await item.getAttribute("data-conversation")) || "" };
  const icon = ada.page.locator("link[rel=icon]");
  const chimes = () => ada.page.evaluate(() => document.documentElement.dataset.chimes || "0");

  // Sound is off by default: a message adds to the badge and plays nothing.
  await wsRequests(bob.page, [["message.send", { conversation: conversation.id, body: "one" }]]);
  await eventually(async () => assert.equal(await icon.getAttribute("data-unread"), "1"));
  assert.match((await icon.getAttribute("href")) || "", /^data:image\/svg\+xml,/);
  assert.equal(await chimes(), "0");

  // Turned on in the settings (which plays it once as a sample), the next message chimes.
  await ada.page.getByRole("button", { name: "Notification settings" }).click();
  const dialog = ada.page.getByRole("dialog", { name: "Notifications" });
  await dialog.getByLabel("Play a sound for new messages").check();
  await eventually(async () => assert.equal(await chimes(), "1"));
  // The badge can be turned off: the plain icon comes back.
  await dialog.getByLabel("Show the unread count on the tab's icon").uncheck();
  await eventually(async () => assert.match((await icon.getAttribute("href")) || "", /icon\.svg$/));
  await dialog.getByRole("button", { name: "Close" }).click();
  await wsRequests(bob.page, [["message.send", { conversation: conversation.id, body: "two" }]]);
  await eventually(async () => assert.equal(await chimes(), "2"));
  assert.equal(await ada.page.title(), "(2) Confab");

  // Muted, the conversation stays quiet.
  await openChat(ada.page, "Bob");
  await ada.page.getByRole("button", { name: "Mute notifications" }).click();
  await ada.page.getByRole("button", { name: "Back to conversations" }).click();
  await wsRequests(bob.page, [["message.send", { conversation: conversation.id, body: "three" }]]);
  await toBeVisible(item.getByText("Bob: three"));
  assert.equal(await chimes(), "2");
  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});
