// Layout, on a desktop and on a phone: the message box has room for its
// placeholder as soon as a chat opens; a very long display name leaves
// the phone's chat header one row high (the name is cut, the buttons stay
// side by side); the conversation search's placeholder is not cut; on a
// phone a message's actions are not drawn beside every bubble but appear
// when the bubble is tapped.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, messages, openChat, problems, send, signUp, startServerAndBrowser, stopServerAndBrowser } from "../lib/browser.js";
import { eventually, toBeVisible } from "../lib/expect.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

const phone = { width: 390, height: 844 };
// 60 characters; display names may have 64.
const LONG = "Bartholomew Maximilian Fitzgerald-Montgomery of Upper Wallop";

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

/**
 * The message box shows its whole content (the placeholder when empty).
 * @param {import("playwright-core").Page} page
 */
async function composerFits(page) {
  const box = page.getByRole("textbox", { name: "Message" });
  const { client, scroll, line } = await box.evaluate((el) => ({
    client: el.clientHeight,
    scroll: el.scrollHeight,
    line: parseFloat(getComputedStyle(el).lineHeight),
  }));
  assert.ok(client >= scroll && client >= line, `message box ${client}px high for ${scroll}px of content`);
}

test("the message box has room for its placeholder when a chat first opens", async () => {
  const ada = await signUp(browser, server.url, "ada_l", { displayName: "Ada" });
  const bob = await signUp(browser, server.url, "bob_l", { displayName: "Bob", viewport: phone });
  await becomeContacts(ada.page, bob.page, "bob_l", "Ada");
  for (const page of [ada.page, bob.page]) {
    await page.reload();
    await openChat(page, page === ada.page ? "Bob" : "Ada");
    await composerFits(page);
  }
  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});

test("a long display name keeps the phone's chat header on one row", async () => {
  const ada = await signUp(browser, server.url, "ada_n", { displayName: "Ada", viewport: phone });
  const bob = await signUp(browser, server.url, "bob_n", { displayName: LONG });
  const cy = await signUp(browser, server.url, "cy_n", { displayName: "Cy" });
  await becomeContacts(ada.page, bob.page, "bob_n", "Ada");
  await becomeContacts(ada.page, cy.page, "cy_n", "Ada");
  const head = ada.page.locator(".chat-head");

  await openChat(ada.page, "Cy");
  const shortHeight = (await head.boundingBox())?.height || 0;
  await ada.page.getByRole("button", { name: "Back to conversations" }).click();
  await openChat(ada.page, LONG);
  const boxes = await head.getByRole("button").evaluateAll((els) => els.map((el) => el.getBoundingClientRect()).map((r) => ({ top: r.top, right: r.right })));
  // Every button sits on one row, inside the screen, and the header is as
  // high as with a short name.
  const tops = boxes.map((b) => Math.round(b.top));
  assert.ok(Math.max(...tops) - Math.min(...tops) <= 4, `buttons at ${tops}`);
  assert.ok(boxes.every((b) => b.right <= phone.width), "a button leaves the screen");
  assert.equal((await head.boundingBox())?.height, shortHeight);
  // The name is cut with an ellipsis, not wrapped.
  const title = ada.page.getByRole("heading", { name: LONG, level: 2 });
  assert.equal(await title.evaluate((el) => getComputedStyle(el).textOverflow), "ellipsis");
  assert.ok(await title.evaluate((el) => el.scrollWidth > el.clientWidth), "the long name is cut");
  // Block still shows its word beside the Profile icon.
  await toBeVisible(head.getByRole("button", { name: `Block ${LONG}` }).getByText("Block", { exact: true }));
  assert.deepEqual([...problems(ada.page), ...problems(bob.page), ...problems(cy.page)], []);
});

test("the conversation search's placeholder fits its box", async () => {
  for (const viewport of [{ width: 1280, height: 800 }, phone]) {
    const { page, context } = await signUp(browser, server.url, `ada_p${viewport.width}`, { viewport });
    const box = page.getByRole("searchbox", { name: "Search conversations" });
    const { needed, available } = await box.evaluate((el) => {
      const input = /** @type {HTMLInputElement} */ (el);
      const style = getComputedStyle(input);
      const ctx = /** @type {CanvasRenderingContext2D} */ (document.createElement("canvas").getContext("2d"));
      ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      return {
        needed: ctx.measureText(input.placeholder).width,
        available: input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
      };
    });
    assert.ok(needed <= available, `placeholder needs ${needed}px, the box has ${available}px at ${viewport.width}px`);
    await context.close();
  }
});

test("on a touch phone a message's actions show when its bubble is tapped", async () => {
  const ada = await signUp(browser, server.url, "ada_t", { displayName: "Ada", viewport: phone, touch: true });
  const bob = await signUp(browser, server.url, "bob_t", { displayName: "Bob" });
  await becomeContacts(ada.page, bob.page, "bob_t", "Ada");
  await openChat(bob.page, "Ada");
  await send(bob.page, "Tap me");
  await openChat(ada.page, "Bob");
  const row = messages(ada.page).getByRole("article").filter({ hasText: "Tap me" });
  const reply = row.getByRole("button", { name: "Reply" });
  await toBeVisible(row);
  const opacity = () => reply.evaluate((el) => getComputedStyle(/** @type {Element} */ (el.parentElement)).opacity);
  await eventually(async () => assert.equal(await opacity(), "0"));
  await row.getByText("Tap me").tap();
  await eventually(async () => assert.equal(await opacity(), "1"));
  await reply.tap();
  await toBeVisible(ada.page.getByText("Replying to Bob"));
  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});
