// Link previews: the card under a message (title, description, site and
// image of a page the test serves; hostile text shown as text), and the
// question before following a link whose text differs from its target.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { ConfabServer } from "../lib/server.js";
import { launch, messages, problems, send, signUp, stopServerAndBrowser } from "../lib/browser.js";
import { toBeHidden, toBeVisible, toHaveCount } from "../lib/expect.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;
/** @type {import("node:http").Server} */
let site;
let siteUrl = "";

// A 1x1 PNG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

before(async () => {
  site = createServer((req, res) => {
    if (req.url === "/image.png") {
      res.writeHead(200, { "content-type": "image/png" }).end(PNG);
      return;
    }
    res.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><head>
      <meta property="og:title" content="&lt;img src=x onerror=window.pwned=1&gt; Engines">
      <meta property="og:description" content="Notes on the analytical engine.">
      <meta property="og:site_name" content="Engine Notes">
      <meta property="og:image" content="/image.png"></head>`);
  });
  await new Promise((resolve) => site.listen(0, "127.0.0.1", () => resolve(undefined)));
  const address = /** @type {import("node:net").AddressInfo} */ (site.address());
  siteUrl = `http://127.0.0.1:${address.port}`;
  // A test rig: the page is on loopback, which a real server never fetches.
  server = await new ConfabServer({ CONFAB_FEDERATION_ALLOW_PRIVATE: "true" }).start();
  browser = await launch();
});
after(async () => {
  await stopServerAndBrowser(server, browser);
  site.close();
});

test("a link gets a preview card; a disguised link asks before leaving", async () => {
  const ada = await signUp(browser, server.url, "ada");
  const seen = problems(ada.page);
  await ada.page.getByRole("button", { name: "New group" }).click();
  const create = ada.page.getByRole("dialog", { name: "New group" });
  await create.getByLabel("Group name").fill("Links");
  await create.getByRole("button", { name: "Create group" }).click();
  await ada.page.getByRole("heading", { name: "Links", level: 2 }).waitFor();

  await send(ada.page, `read ${siteUrl}/post`);
  const message = messages(ada.page).getByRole("article").filter({ hasText: "read" });
  const card = message.getByRole("complementary", { name: /Link preview/ });
  await toBeVisible(card);
  await toBeVisible(card.getByText("Engine Notes"));
  await toBeVisible(card.getByText("Notes on the analytical engine."));
  // The hostile title is text, not an element.
  const title = card.getByRole("link", { name: "<img src=x onerror=window.pwned=1> Engines" });
  await toBeVisible(title);
  assert.equal(await title.getAttribute("href"), `${siteUrl}/post`);
  await toHaveCount(card.locator("img"), 1);
  assert.match((await card.locator("img").getAttribute("src")) || "", /\/media\//);
  assert.equal(await ada.page.evaluate(() => /** @type {any} */ (window).pwned), undefined);

  // A link that shows its own address opens without a question.
  const plain = message.getByRole("link", { name: `${siteUrl}/post` });
  await toBeVisible(plain);

  // A link whose text says something else asks first and shows where it goes.
  await send(ada.page, `[the bank](${siteUrl}/elsewhere)`);
  const disguised = messages(ada.page).getByRole("link", { name: "the bank" });
  await disguised.click();
  const dialog = ada.page.getByRole("dialog", { name: "This link leaves Confab" });
  await toBeVisible(dialog);
  await toBeVisible(dialog.getByText(`${siteUrl}/elsewhere`));
  const go = dialog.getByRole("link", { name: /^Open 127\.0\.0\.1/ });
  assert.equal(await go.getAttribute("href"), `${siteUrl}/elsewhere`);
  assert.equal(await go.getAttribute("rel"), "noopener noreferrer");
  // Cancel stays (focus starts there); no tab was opened.
  const pages = ada.context.pages().length;
  await ada.page.keyboard.press("Enter");
  await toBeHidden(dialog);
  assert.equal(ada.context.pages().length, pages);
  assert.deepEqual(seen, []);
});
