// Hostile text stays text: markup in messages, edits and display names is
// shown literally and never runs; only http(s) URLs become links, and
// links open without handing over this page.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, messages, openChat, problems, send, signUp, startServerAndBrowser, stopServerAndBrowser } from "../lib/browser.js";
import { toBeVisible, toHaveCount } from "../lib/expect.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

test("messages with <script> and <img onerror> render as text", async () => {
  const ada = await signUp(browser, server.url, "ada", { displayName: "Ada" });
  const evil = '<b onmouseover="window.__xss=3">Mallory</b>';
  const bob = await signUp(browser, server.url, "mallory", { displayName: evil });
  await becomeContacts(bob.page, ada.page, "ada", evil);
  await openChat(ada.page, evil);
  await openChat(bob.page, "Ada");

  const script = "<script>window.__xss = 1</script>";
  const img = '<img src=x onerror="window.__xss = 2">';
  await send(bob.page, script);
  await send(bob.page, img);
  await send(bob.page, "see javascript:alert(1) and https://example.org/a?b=<c>.");

  for (const page of [ada.page, bob.page]) {
    await toBeVisible(messages(page).getByText(script, { exact: true }));
    await toBeVisible(messages(page).getByText(img, { exact: true }));
    await toHaveCount(messages(page).locator("script, img[src='x'], b"), 0);
    await toHaveCount(messages(page).getByRole("link"), 1);
    const link = messages(page).getByRole("link");
    assert.equal(await link.getAttribute("href"), "https://example.org/a?b=");
    assert.equal(await link.getAttribute("rel"), "noopener noreferrer");
    assert.equal(await link.getAttribute("target"), "_blank");
  }
  // The display name is text too, in the list and the header.
  await toBeVisible(ada.page.getByRole("heading", { name: evil, level: 2 }));
  await toHaveCount(ada.page.locator("b"), 0);
  assert.equal(await ada.page.evaluate(() => /** @type {any} */ (window).__xss), undefined);
  assert.equal(await bob.page.evaluate(() => /** @type {any} */ (window).__xss), undefined);
  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});
