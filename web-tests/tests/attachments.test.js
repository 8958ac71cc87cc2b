// Attachments in the web client: files attached by the button, by dropping
// them on the conversation and by pasting an image; the upload's progress
// (with the page's upload throttled) while Send waits; alt text sent and
// shown as the image's `alt`; thumbnails with their space reserved, the
// viewer (Esc, focus back, arrow keys); a file card that downloads the
// file; a file over the server's `max_upload_bytes` or past the user's
// `media_quota_bytes`, or an image that cannot be decoded, showing the
// server's reason; files waiting in one conversation's composer (uploaded
// or still uploading) kept while another is open and back on return; an
// audio attachment playing in the message above its file card; and the
// other member seeing it all live.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, launch, messages, openChat, problems, signUp } from "../lib/browser.js";
import { eventually, toBeDisabled, toBeHidden, toBeVisible, toHaveCount } from "../lib/expect.js";
import { png } from "../lib/seed.js";

/** The largest upload the server takes here. */
const MAX_UPLOAD = 300_000;
/** The bytes of media each user may keep here. */
const QUOTA = 400_000;

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => {
  server = await new ConfabServer({ CONFAB_MAX_UPLOAD_BYTES: String(MAX_UPLOAD), CONFAB_MEDIA_QUOTA_BYTES: String(QUOTA) }).start();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.dispose();
});

/**
 * Puts files on a DataTransfer in the page, for a drop or a paste.
 * @param {import("playwright-core").Page} page
 * @param {{name: string, type: string, data: Buffer}[]} files
 */
function transfer(page, files) {
  return page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    return dt;
  }, files.map((f) => ({ name: f.name, type: f.type, data: f.data.toString("base64") })));
}

/** @param {import("playwright-core").Page} page */
function tray(page) {
  return page.getByRole("list", { name: "Attachments" });
}

/**
 * The card of a waiting file.
 * @param {import("playwright-core").Page} page
 * @param {string} name
 */
function card(page, name) {
  return tray(page).getByRole("listitem").filter({ hasText: name });
}

test("attach by button, drop and paste; see them live; view and download", async () => {
  const ada = await signUp(browser, server.url, "ada", { displayName: "Ada Lovelace" });
  const bob = await signUp(browser, server.url, "bob", { displayName: "Bob Babbage" });
  await becomeContacts(ada.page, bob.page, "bob", "Ada Lovelace");
  await openChat(ada.page, "Bob Babbage");
  await openChat(bob.page, "Ada Lovelace");
  const send = ada.page.getByRole("button", { name: "Send" });
  const box = ada.page.getByRole("textbox", { name: "Message" });

  // By the button: an image and a text file, chosen in the file picker.
  const sunset = await png(ada.page, 640, 480, "#36c");
  const notes = Buffer.from("Notes for Bob\nline two\n");
  const chooser = ada.page.waitForEvent("filechooser");
  await ada.page.getByRole("button", { name: "Attach files" }).click();
  await (await chooser).setFiles([
    { name: "sunset.png", mimeType: "image/png", buffer: sunset },
    { name: "notes.txt", mimeType: "text/plain", buffer: notes },
  ]);
  await toBeVisible(card(ada.page, "sunset.png").getByText("Uploaded"));
  await toBeVisible(card(ada.page, "notes.txt").getByText("Uploaded"));
  // The uploaded image's thumbnail replaces the icon in its card.
  await toBeVisible(card(ada.page, "sunset.png").locator("img"));
  await ada.page.getByRole("textbox", { name: "Alt text for sunset.png" }).fill("A red square on a blue sky");
  assert.equal(await ada.page.getByRole("textbox", { name: "Description for notes.txt" }).inputValue(), "notes.txt");
  // Sent with no text: the attachments alone make the message.
  await toBeDisabled(send, false);
  await send.click();
  await toBeHidden(tray(ada.page));

  const image = messages(bob.page).getByRole("img", { name: "A red square on a blue sky" });
  await toBeVisible(image);
  // Its box is reserved from the media's size: 640×480 within 280 px.
  assert.equal(await image.getAttribute("width"), "280");
  assert.equal(await image.getAttribute("height"), "210");
  assert.match(String(await image.getAttribute("src")), /\/media\/[^/]+\/thumbnail\?exp=\d+&sig=/);
  await eventually(async () => assert.ok(await image.evaluate((img) => /** @type {HTMLImageElement} */ (img).naturalWidth > 0), "thumbnail loaded"));
  const onAda = messages(ada.page).getByRole("img", { name: "A red square on a blue sky" });
  await toBeVisible(onAda);

  // The viewer: opened by a click, full size, Esc closes it and the focus goes back.
  const thumb = messages(bob.page).getByRole("button", { name: "View image: A red square on a blue sky" });
  await thumb.click();
  const viewer = bob.page.getByRole("dialog", { name: "Image" });
  await toBeVisible(viewer);
  const full = viewer.getByRole("img", { name: "A red square on a blue sky" });
  assert.match(String(await full.getAttribute("src")), /\/media\/[^/?]+\?exp=\d+&sig=/);
  await eventually(async () => assert.equal(await full.evaluate((img) => /** @type {HTMLImageElement} */ (img).naturalWidth), 640));
  await toBeVisible(viewer.getByText("A red square on a blue sky"));
  await bob.page.keyboard.press("Escape");
  await toBeHidden(viewer);
  // (after the dialog's close event, which comes a task later)
  await eventually(async () => assert.ok(await thumb.evaluate((el) => document.activeElement === el), "focus returns to the thumbnail"));

  // The file card names the file, its type and size, and downloads it.
  const file = messages(bob.page).getByRole("group", { name: "File: notes.txt" });
  await toBeVisible(file);
  // The server keeps the type it reads from the content, not the name's.
  await toBeVisible(file.getByText(`application/octet-stream · ${notes.length} B`));
  const download = bob.page.waitForEvent("download");
  await file.getByRole("link", { name: /^Download notes\.txt/ }).click();
  assert.deepEqual(readFileSync(await (await download).path()), notes);

  // By dropping two images on the conversation, with text.
  const one = await png(ada.page, 300, 600, "#393");
  const two = await png(ada.page, 500, 250, "#939");
  const dropped = await transfer(ada.page, [
    { name: "tall.png", type: "image/png", data: one },
    { name: "wide.png", type: "image/png", data: two },
  ]);
  const history = messages(ada.page);
  await history.dispatchEvent("dragenter", { dataTransfer: dropped });
  await history.dispatchEvent("dragover", { dataTransfer: dropped });
  await toBeVisible(ada.page.getByText("Drop files to attach them"));
  await history.dispatchEvent("drop", { dataTransfer: dropped });
  await toBeHidden(ada.page.getByText("Drop files to attach them"));
  await toBeVisible(card(ada.page, "tall.png").getByText("Uploaded"));
  await toBeVisible(card(ada.page, "wide.png").getByText("Uploaded"));
  await ada.page.getByRole("textbox", { name: "Alt text for tall.png" }).fill("Tall green");
  await ada.page.getByRole("textbox", { name: "Alt text for wide.png" }).fill("Wide purple");
  await box.fill("Two by drop");
  await box.press("Enter");
  const pair = messages(bob.page).getByRole("article").filter({ hasText: "Two by drop" });
  await toBeVisible(pair.getByRole("img", { name: "Tall green" }));
  await toBeVisible(pair.getByRole("img", { name: "Wide purple" }));
  // Several images share a row, each within 180 px.
  assert.equal(await pair.getByRole("img", { name: "Tall green" }).getAttribute("height"), "180");
  assert.equal(await pair.getByRole("img", { name: "Wide purple" }).getAttribute("width"), "180");

  // The arrow keys go between a message's images.
  await pair.getByRole("button", { name: "View image: Tall green" }).click();
  const pairViewer = bob.page.getByRole("dialog", { name: "Image" });
  await toBeVisible(pairViewer.getByRole("img", { name: "Tall green" }));
  await toBeVisible(pairViewer.getByText("1 of 2"));
  await bob.page.keyboard.press("ArrowRight");
  await toBeVisible(pairViewer.getByRole("img", { name: "Wide purple" }));
  await toBeVisible(pairViewer.getByText("2 of 2"));
  await toBeDisabled(pairViewer.getByRole("button", { name: "Next image" }));
  await bob.page.keyboard.press("ArrowLeft");
  await toBeVisible(pairViewer.getByRole("img", { name: "Tall green" }));
  await bob.page.keyboard.press("Escape");
  await toBeHidden(pairViewer);

  // By pasting an image into the message box.
  const pasted = await transfer(ada.page, [{ name: "clip.png", type: "image/png", data: await png(ada.page, 120, 90, "#fc0") }]);
  await box.focus();
  await box.evaluate((el, dt) => el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true })), pasted);
  await toBeVisible(card(ada.page, "clip.png").getByText("Uploaded"));
  assert.equal(await box.inputValue(), "", "a pasted file adds no text");
  // Alt text is text: markup in it stays as typed.
  const hostile = 'Pasted <b>yellow</b> "><img src=x onerror="window.pwned=1">';
  await ada.page.getByRole("textbox", { name: "Alt text for clip.png" }).fill(hostile);
  await send.click();
  const clip = messages(bob.page).getByRole("img", { name: hostile, exact: true });
  await toBeVisible(clip);
  assert.equal(await clip.getAttribute("alt"), hostile);
  await toHaveCount(messages(bob.page).locator("b"), 0);
  await toHaveCount(messages(bob.page).locator('img[src="x"]'), 0);
  assert.equal(await bob.page.evaluate(() => "pwned" in window), false);
  // Small images keep their own size.
  assert.equal(await clip.getAttribute("width"), "120");
  // The conversation list previews a message of attachments alone.
  const list = bob.page.getByRole("list", { name: "Conversations" });
  await toBeVisible(list.getByText("Ada Lovelace: Image"));

  // After a reload the attachments come with the history.
  await bob.page.reload();
  await openChat(bob.page, "Ada Lovelace");
  await toBeVisible(messages(bob.page).getByRole("img", { name: "A red square on a blue sky" }));
  await toBeVisible(messages(bob.page).getByRole("group", { name: "File: notes.txt" }));
  // The snapshot's last message comes with its attachments too.
  await toBeVisible(list.getByText("Ada Lovelace: Image"));

  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});

test("upload progress, Send waiting, removing, and the server's refusal", async () => {
  const cy = await signUp(browser, server.url, "cy", { displayName: "Cy" });
  const di = await signUp(browser, server.url, "di", { displayName: "Di" });
  await becomeContacts(cy.page, di.page, "di", "Cy");
  await openChat(cy.page, "Di");
  const send = cy.page.getByRole("button", { name: "Send" });
  const box = cy.page.getByRole("textbox", { name: "Message" });
  await box.fill("with a file");
  await toBeDisabled(send, false);

  // The upload is throttled (DevTools network emulation), so it is seen on its way.
  const cdp = await cy.page.context().newCDPSession(cy.page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 40_000 });
  const big = randomBytes(200_000);
  const chooser = cy.page.waitForEvent("filechooser");
  await cy.page.getByRole("button", { name: "Attach files" }).click();
  await (await chooser).setFiles([{ name: "data.bin", mimeType: "application/octet-stream", buffer: big }]);
  const progress = card(cy.page, "data.bin").getByRole("progressbar", { name: "Uploading data.bin" });
  await eventually(async () => {
    const value = Number(await progress.getAttribute("value"));
    assert.ok(value > 0 && value < 100, `progress between 0 and 100, got ${value}`);
  });
  await toBeVisible(card(cy.page, "data.bin").getByText(/^Uploading… \d+%$/));
  await toBeDisabled(send);
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await toBeVisible(card(cy.page, "data.bin").getByText("Uploaded"));
  await toBeDisabled(send, false);

  // Removed, it is not sent.
  await cy.page.getByRole("button", { name: "Remove data.bin" }).click();
  await toBeHidden(tray(cy.page));

  // Too large: the card shows the server's reason.
  const chooser2 = cy.page.waitForEvent("filechooser");
  await cy.page.getByRole("button", { name: "Attach files" }).click();
  await (await chooser2).setFiles([{ name: "huge.bin", mimeType: "application/octet-stream", buffer: randomBytes(MAX_UPLOAD + 1) }]);
  await toBeVisible(card(cy.page, "huge.bin").getByRole("alert").getByText(`uploads are limited to ${MAX_UPLOAD} bytes`));
  await toHaveCount(card(cy.page, "huge.bin").getByRole("textbox"), 0);

  // Past the quota (the removed 200 kB upload still counts until the sweep): 409 and its reason.
  const chooser3 = cy.page.waitForEvent("filechooser");
  await cy.page.getByRole("button", { name: "Attach files" }).click();
  await (await chooser3).setFiles([{ name: "more.bin", mimeType: "application/octet-stream", buffer: randomBytes(250_000) }]);
  await toBeVisible(card(cy.page, "more.bin").getByRole("alert").getByText(`your media quota of ${QUOTA} bytes is used up`));

  // An image that cannot be decoded (a PNG signature, then noise): 422 and its reason.
  const chooser4 = cy.page.waitForEvent("filechooser");
  await cy.page.getByRole("button", { name: "Attach files" }).click();
  const broken = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(500)]);
  await (await chooser4).setFiles([{ name: "broken.png", mimeType: "image/png", buffer: broken }]);
  await toBeVisible(card(cy.page, "broken.png").getByRole("alert").getByText(/cannot read the image/));

  // Sending leaves the failed file out: the message goes with its text alone.
  await send.click();
  const sent = messages(di.page).getByRole("article").filter({ hasText: "with a file" });
  await openChat(di.page, "Cy");
  await toBeVisible(sent);
  await toHaveCount(sent.locator(".attachments"), 0);
  await toBeHidden(tray(cy.page));

  assert.deepEqual([...problems(cy.page), ...problems(di.page)], []);
});

test("files waiting in the composer stay with their conversation", async () => {
  const eve = await signUp(browser, server.url, "eve", { displayName: "Eve" });
  const fay = await signUp(browser, server.url, "fay", { displayName: "Fay" });
  const gus = await signUp(browser, server.url, "gus", { displayName: "Gus" });
  await becomeContacts(eve.page, fay.page, "fay", "Eve");
  await becomeContacts(eve.page, gus.page, "gus", "Eve");
  /** @param {string} name */
  async function attach(name) {
    const chooser = eve.page.waitForEvent("filechooser");
    await eve.page.getByRole("button", { name: "Attach files" }).click();
    await (await chooser).setFiles([{ name, mimeType: "text/plain", buffer: Buffer.from(`the text of ${name}`) }]);
  }

  await openChat(eve.page, "Fay");
  // One file uploaded and described, one still uploading (throttled) when the chat is left.
  await attach("notes.txt");
  await toBeVisible(card(eve.page, "notes.txt").getByText("Uploaded"));
  await card(eve.page, "notes.txt").getByRole("textbox").fill("my notes");
  const cdp = await eve.page.context().newCDPSession(eve.page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 20_000 });
  const chooser = eve.page.waitForEvent("filechooser");
  await eve.page.getByRole("button", { name: "Attach files" }).click();
  await (await chooser).setFiles([{ name: "slow.bin", mimeType: "application/octet-stream", buffer: randomBytes(100_000) }]);
  await toBeVisible(card(eve.page, "slow.bin").getByText(/^Uploading…/));

  // Another chat has its own (empty) tray, and its own files.
  await openChat(eve.page, "Gus");
  await toBeHidden(tray(eve.page));
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await attach("for-gus.txt");
  await toBeVisible(card(eve.page, "for-gus.txt").getByText("Uploaded"));

  // Back in the first chat: its files are there, the slow one finished meanwhile.
  await openChat(eve.page, "Fay");
  await toHaveCount(tray(eve.page).getByRole("listitem"), 2);
  assert.equal(await card(eve.page, "notes.txt").getByRole("textbox").inputValue(), "my notes");
  await toBeVisible(card(eve.page, "slow.bin").getByText("Uploaded"));
  await toHaveCount(card(eve.page, "for-gus.txt"), 0);
  await eve.page.getByRole("textbox", { name: "Message" }).fill("with my notes");
  await eve.page.getByRole("button", { name: "Send" }).click();
  const sent = messages(eve.page).getByRole("article").filter({ hasText: "with my notes" });
  await toBeVisible(sent);
  await toBeVisible(sent.getByRole("group", { name: "File: my notes" }));
  await toBeVisible(sent.getByRole("group", { name: "File: slow.bin" }));
  await toHaveCount(sent.locator(".file-card"), 2);
  await toBeHidden(tray(eve.page));

  // The other chat's file still waits there.
  await openChat(eve.page, "Gus");
  await toHaveCount(tray(eve.page).getByRole("listitem"), 1);
  await toBeVisible(card(eve.page, "for-gus.txt"));
  assert.deepEqual(problems(eve.page), []);
});

/**
 * A WAV file: `seconds` of a 440 Hz tone, 8 kHz, 16-bit mono PCM.
 * @param {number} seconds
 */
function wav(seconds) {
  const rate = 8000;
  const samples = Math.round(rate * seconds);
  const out = Buffer.alloc(44 + samples * 2);
  out.write("RIFF", 0);
  out.writeUInt32LE(36 + samples * 2, 4);
  out.write("WAVEfmt ", 8);
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write("data", 36);
  out.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return out;
}

test("an audio attachment plays in the message, its file card still downloads", async () => {
  const hal = await signUp(browser, server.url, "hal", { displayName: "Hal" });
  const ivy = await signUp(browser, server.url, "ivy", { displayName: "Ivy" });
  await becomeContacts(hal.page, ivy.page, "ivy", "Hal");
  await openChat(hal.page, "Ivy");
  const sound = wav(0.5);
  const chooser = hal.page.waitForEvent("filechooser");
  await hal.page.getByRole("button", { name: "Attach files" }).click();
  await (await chooser).setFiles([{ name: "tone.wav", mimeType: "audio/wav", buffer: sound }]);
  await toBeVisible(card(hal.page, "tone.wav").getByText("Uploaded"));
  await card(hal.page, "tone.wav").getByRole("textbox").fill("a short tone");
  await hal.page.getByRole("textbox", { name: "Message" }).fill("listen");
  await hal.page.getByRole("button", { name: "Send" }).click();

  await openChat(ivy.page, "Hal");
  const sent = messages(ivy.page).getByRole("article").filter({ hasText: "listen" });
  const player = sent.locator("audio");
  await toBeVisible(player);
  assert.equal(await player.getAttribute("aria-label"), "a short tone");
  assert.equal(await player.getAttribute("preload"), "metadata");
  assert.ok((await player.getAttribute("controls")) !== null, "the player has controls");
  // The browser reads the real file from its signed link: half a second.
  await eventually(async () => {
    const duration = await player.evaluate((el) => /** @type {HTMLAudioElement} */ (el).duration);
    assert.ok(Math.abs(duration - 0.5) < 0.01, `duration ${duration}`);
  });
  // The file card stays, and its link downloads the same bytes.
  const download = sent.getByRole("link", { name: /^Download a short tone/ });
  await toBeVisible(download);
  const href = /** @type {string} */ (await download.getAttribute("href"));
  assert.equal(href, await player.getAttribute("src"));
  const body = await ivy.page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), href);
  assert.deepEqual(Buffer.from(body), sound);
  assert.deepEqual([...problems(hal.page), ...problems(ivy.page)], []);
});
