// Going offline, as a person on a phone sees it: inside the open chat a
// notice says the client is offline (the sidebar, which carries the other
// notice, is hidden on a phone), the other person's presence turns to
// "unknown" instead of staying "online", and "Retry now" reconnects at
// once. The automatic retries start fast: about once a second for the
// first attempts. A people search made while the server is down shows the
// error alone, not the results of an earlier search.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, openChat, problems, signUp, startServerAndBrowser, stopServerAndBrowser } from "../lib/browser.js";
import { eventually, toBeHidden, toBeVisible, toHaveCount } from "../lib/expect.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

test("on a phone the open chat says it is offline, presence is unknown, and Retry now reconnects", async () => {
  const phone = { width: 390, height: 844 };
  const ada = await signUp(browser, server.url, "ada_o", { displayName: "Ada", viewport: phone });
  const bob = await signUp(browser, server.url, "bob_o", { displayName: "Bob" });
  await becomeContacts(ada.page, bob.page, "bob_o", "Ada");
  await openChat(ada.page, "Bob");
  const chat = ada.page.getByRole("main", { name: "Chat" });
  const subtitle = chat.locator(".chat-subtitle");
  await eventually(async () => assert.equal(await subtitle.textContent(), "online"));

  // The retries wait about a second at first, not a doubling delay.
  const delays = await ada.page.evaluate(async () => {
    const main = /** @type {HTMLScriptElement} */ (document.querySelector("script[type=module]")).src;
    const { retryDelay } = await import(main.replace(/main\.js$/, "socket.js"));
    return [0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelay(n));
  });
  assert.ok(delays.every((ms) => ms <= 1000), `first retry delays ${delays}`);

  await server.stop();
  // The notice is in the chat itself, with a retry button; the sidebar is hidden.
  const notice = chat.getByRole("status").filter({ hasText: "Offline — reconnecting…" });
  await toBeVisible(notice);
  assert.equal(await ada.page.getByRole("complementary", { name: "Conversations and contacts" }).isVisible(), false);
  await eventually(async () => assert.equal(await subtitle.textContent(), "presence unknown while offline"));

  // With the page's clock paused no automatic retry fires: only the button
  // can bring the client back.
  await ada.page.clock.pauseAt((await ada.page.evaluate(() => Date.now())) + 100);
  await server.start(server.port);
  await notice.getByRole("button", { name: "Retry now" }).click();
  await toBeHidden(notice);
  await eventually(async () => assert.equal(await subtitle.textContent(), "online"));
  await ada.page.clock.resume();
  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});

test("a search while the server is down shows the error without the earlier results", async () => {
  const ada = await signUp(browser, server.url, "ada_s", { displayName: "Ada" });
  await signUp(browser, server.url, "bobby_s", { displayName: "Bobby" });
  await ada.page.getByRole("tab", { name: /Contacts/ }).click();
  const results = ada.page.getByRole("list", { name: "Search results" });
  await ada.page.getByLabel("Find people").fill("bobby");
  await toBeVisible(results.getByText("Bobby"));

  await server.stop();
  await ada.page.getByLabel("Find people").fill("bob");
  await ada.page.getByRole("button", { name: "Find" }).click();
  await toBeVisible(ada.page.getByText("The server cannot be reached."));
  await toHaveCount(results.getByRole("listitem"), 0);
  await server.start(server.port);
});
