// Debian's Chromium, driven by playwright-core, and the steps a person
// takes in the client that every test needs (signing up, opening a chat).

import { chromium } from "playwright-core";
import { ConfabServer } from "./server.js";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Where screenshots go: `docs/screenshots` when `CONFAB_SCREENSHOTS=docs`
 * (to refresh the committed ones), otherwise a scratch directory, so that
 * a test run leaves the working tree as it was.
 */
export const screenshots =
  process.env.CONFAB_SCREENSHOTS === "docs"
    ? resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs", "screenshots")
    : join(tmpdir(), "confab-screenshots");

/** Flags for a sandboxed, offline machine: no GPU, no calls home. */
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
  });
}

/** @type {WeakMap<import("playwright-core").Page, string[]>} */
const seen = new WeakMap();

/**
 * Records uncaught errors and Content-Security-Policy violations of a page.
 * @param {import("playwright-core").Page} page
 */
export function watch(page) {
  const list = /** @type {string[]} */ ([]);
  seen.set(page, list);
  page.on("pageerror", (error) => list.push(`uncaught: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) list.push(message.text());
  });
}

/**
 * What went wrong in a watched page: uncaught errors and CSP violations.
 * @param {import("playwright-core").Page} page
 */
export function problems(page) {
  return seen.get(page) || [];
}

/**
 * A new person: their own browser context, signed up through the form.
 * @param {import("playwright-core").Browser} browser
 * @param {string} baseURL
 * @param {string} name
 * @param {{displayName?: string, viewport?: {width: number, height: number}, colorScheme?: "light" | "dark", touch?: boolean}} [options] touch: a phone's touch screen (no hover)
 */
export async function signUp(browser, baseURL, name, options = {}) {
  const context = await browser.newContext({
    baseURL,
    viewport: options.viewport || { width: 1280, height: 800 },
    colorScheme: options.colorScheme || "light",
    hasTouch: !!options.touch,
    isMobile: !!options.touch,
  });
  const page = await context.newPage();
  watch(page);
  await page.goto("/");
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.getByLabel("User name").fill(name);
  await page.getByLabel("Display name (optional)").fill(options.displayName || "");
  await page.getByLabel("Password").fill(`${name}-password-1`);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByRole("button", { name: "Your profile" }).waitFor();
  return { context, page };
}

/**
 * Makes `a` and `b` contacts through the Contacts tab: a invites, b accepts.
 * @param {import("playwright-core").Page} a
 * @param {import("playwright-core").Page} b
 * @param {string} bName
 * @param {string} aLabel how b sees a (display name or name)
 */
export async function becomeContacts(a, b, bName, aLabel) {
  await a.getByRole("tab", { name: /Contacts/ }).click();
  await a.getByLabel("Find people").fill(bName);
  await a.getByRole("button", { name: new RegExp(`^Invite `) }).first().click();
  await b.getByRole("tab", { name: /Contacts/ }).click();
  await b.getByRole("button", { name: `Accept ${aLabel}` }).click();
  await a.getByRole("tab", { name: /Chats/ }).click();
  await b.getByRole("tab", { name: /Chats/ }).click();
}

/**
 * Opens a conversation from the list by its title.
 * @param {import("playwright-core").Page} page
 * @param {string} title
 */
export async function openChat(page, title) {
  const pattern = new RegExp(title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  await page.getByRole("list", { name: "Conversations" }).getByRole("button", { name: pattern }).click();
  await page.getByRole("heading", { name: title, level: 2 }).waitFor();
}

/**
 * Types and sends a message with Enter.
 * @param {import("playwright-core").Page} page
 * @param {string} text
 */
export async function send(page, text) {
  const box = page.getByRole("textbox", { name: "Message" });
  await box.fill(text);
  await box.press("Enter");
}

/** @param {import("playwright-core").Page} page */
export function messages(page) {
  return page.getByRole("log", { name: "Messages" });
}

/**
 * @param {import("playwright-core").Page} page
 * @param {string} name file name without extension
 */
export async function shot(page, name) {
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`) });
}

/**
 * Starts a Confab server and a browser for the tests of one file.
 * @returns {Promise<{ server: ConfabServer, browser: import("playwright-core").Browser }>}
 */
export async function startServerAndBrowser() {
  const server = await new ConfabServer().start();
  return { server, browser: await launch() };
}

/**
 * Closes what `startServerAndBrowser` started; either may be missing when
 * starting failed.
 * @param {ConfabServer | undefined} server
 * @param {import("playwright-core").Browser | undefined} browser
 */
export async function stopServerAndBrowser(server, browser) {
  await browser?.close();
  await server?.dispose();
}
