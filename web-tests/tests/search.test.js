// Message search: the search dialog finds messages of every conversation
// one can read, marks the matched words (as text, never HTML), pages with
// "More results", and a result opens its conversation loaded around that
// message, highlighted, even when it lies far back in the history; scrolling
// down then loads newer pages until the newest message.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, launch, messages, problems, signUp } from "../lib/browser.js";
import { eventually, toBeHidden, toBeVisible, toHaveCount } from "../lib/expect.js";
import { wsRequests } from "../lib/seed.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;
/** @type {{context: import("playwright-core").BrowserContext, page: import("playwright-core").Page}} */
let ada;
/** @type {{context: import("playwright-core").BrowserContext, page: import("playwright-core").Page}} */
let bob;

before(async () => {
  server = await new ConfabServer({ CONFAB_WS_REQUESTS_PER_S: "100000" }).start();
  browser = await launch();
  ada = await signUp(browser, server.url, "ada", { displayName: "Ada Seeker" });
  bob = await signUp(browser, server.url, "bob", { displayName: "Bob Writer" });
  await becomeContacts(ada.page, bob.page, "bob", "Ada Seeker");
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

/** Opens the search dialog and runs a query. @param {import("playwright-core").Page} page @param {string} q */
async function search(page, q) {
  await page.getByRole("button", { name: "Search messages" }).click();
  await page.getByRole("searchbox", { name: "Search messages" }).fill(q);
  await page.getByRole("button", { name: "Search", exact: true }).click();
}

test("a result far back in the history opens its conversation at that message", async () => {
  const [list] = await wsRequests(bob.page, [["conversation.list", {}]]);
  const conversation = list[0].conversation.id;
  /** @type {[string, object][]} */
  const requests = [["message.send", { conversation, body: "the golden needle is <b>here</b>" }]];
  for (let n = 1; n <= 400; n++) requests.push(["message.send", { conversation, body: `filler ${n}` }]);
  const sent = await wsRequests(bob.page, requests);
  const target = sent[0];
  // Read, so that the conversation does not open at its first unread message.
  await wsRequests(ada.page, [["message.read", { conversation, message: sent.at(-1).id }]]);
  /** @type {any[]} */
  const histories = [];
  ada.page.on("websocket", (ws) =>
    ws.on("framesent", (frame) => {
      const sent = JSON.parse(String(frame.payload));
      if (sent.type === "message.history") histories.push(sent.data);
    }),
  );
  await ada.page.reload();

  await search(ada.page, "NEEDLE");
  const results = ada.page.getByRole("list", { name: "Search results" });
  await toHaveCount(results.getByRole("listitem"), 1);
  const mark = results.locator("mark");
  assert.equal(await mark.textContent(), "needle");
  // The body is text: the tags show as typed.
  await toBeVisible(results.getByText("<b>here</b>", { exact: false }));
  assert.equal(await results.locator("b").count(), 0);

  // Every message that is ever highlighted is noted (the highlight lasts
  // two seconds).
  await ada.page.evaluate(() => {
    const noted = /** @type {string[]} */ ((/** @type {any} */ (window).highlighted = []));
    new MutationObserver((changes) => {
      for (const c of changes) {
        const el = /** @type {HTMLElement} */ (c.target);
        if (el.classList.contains("highlight")) noted.push(el.dataset.id || "");
      }
    }).observe(document.body, { attributes: true, attributeFilter: ["class"], subtree: true });
  });
  await results.getByRole("button").click();
  await toBeHidden(ada.page.getByRole("dialog"));
  await ada.page.getByRole("heading", { name: "Bob Writer", level: 2 }).waitFor();
  const row = messages(ada.page).locator(`article[data-id="${target.id}"]`);
  await toBeVisible(row);
  const box = await row.boundingBox();
  const view = await messages(ada.page).boundingBox();
  assert.ok(box && view && box.y >= view.y - 1 && box.y + box.height <= view.y + view.height + 1, "the message is on screen");
  assert.deepEqual(await ada.page.evaluate(() => /** @type {any} */ (window).highlighted), [target.id]);
  // Loaded with one page around the message, not page by page back to it.
  const around = histories.findIndex((d) => d.around);
  assert.equal(histories[around]?.around, target.id);
  assert.ok(histories.slice(0, around).every((d) => !d.before), "no older pages before it");
  const newest = messages(ada.page).getByText("filler 400", { exact: true });
  assert.equal(await newest.count(), 0);

  // Scrolling down loads newer pages until the newest message.
  await eventually(async () => {
    await messages(ada.page).evaluate((list) => list.scrollTo(0, list.scrollHeight));
    assert.equal(await newest.count(), 1, "the newest message is in the list");
  });
  await toBeVisible(newest);
  // There live messages append as usual, and nothing was skipped.
  await wsRequests(bob.page, [["message.send", { conversation, body: "live after the search" }]]);
  await toBeVisible(messages(ada.page).getByText("live after the search"));
  const shown = await messages(ada.page).locator("article[data-id] .body").allTextContents();
  const numbers = shown.map((t) => /^filler (\d+)$/.exec(t.trim())?.[1]).filter(Boolean).map(Number);
  assert.deepEqual(numbers, numbers.map((_, i) => numbers[0] + i), "the fillers shown follow each other");
  assert.deepEqual(problems(ada.page), []);
});

test("more results page on; nothing found says so", async () => {
  const [list] = await wsRequests(ada.page, [["conversation.list", {}]]);
  const conversation = list[0].conversation.id;
  /** @type {[string, object][]} */
  const requests = [];
  for (let n = 1; n <= 25; n++) requests.push(["message.send", { conversation, body: `pebble number ${n}` }]);
  await wsRequests(ada.page, requests);

  await search(ada.page, "pebble");
  const results = ada.page.getByRole("list", { name: "Search results" });
  await toHaveCount(results.getByRole("listitem"), 20);
  await ada.page.getByRole("button", { name: "More results" }).click();
  await toHaveCount(results.getByRole("listitem"), 25);
  await toBeHidden(ada.page.getByRole("button", { name: "More results" }));

  await ada.page.getByRole("searchbox", { name: "Search messages" }).fill("zeppelin");
  await ada.page.getByRole("button", { name: "Search", exact: true }).click();
  await toBeVisible(ada.page.getByText("No messages found."));
  await toHaveCount(results.getByRole("listitem"), 0);
  await ada.page.keyboard.press("Escape");
  assert.deepEqual(problems(ada.page), []);
});
