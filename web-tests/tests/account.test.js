// Account security in the client: changing the password and logging out
// other sessions from the profile (the other browser is signed out with a
// message saying why, this one carries on), and a suspended account told
// so, both when its open session ends and when it tries to log in.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { problems, signUp, startServerAndBrowser, stopServerAndBrowser, watch } from "../lib/browser.js";
import { toBeVisible } from "../lib/expect.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

/**
 * Logs `name` in from a fresh browser context.
 * @param {string} name
 * @param {string} password
 */
async function logIn(name, password) {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  watch(page);
  await page.goto("/");
  await page.getByLabel("User name").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  return { context, page };
}

/** @param {import("playwright-core").Page} page */
async function openSecurity(page) {
  await page.getByRole("button", { name: "Your profile" }).click();
  return page.getByRole("form", { name: "Password and sessions" });
}

/**
 * Whether the page's socket is connected (the sidebar's connection state).
 * @param {import("playwright-core").Page} page
 */
async function staysSignedIn(page) {
  await toBeVisible(page.getByRole("button", { name: "Your profile" }));
  const me = await page.evaluate(async () => {
    const response = await fetch("/api/v1/users/me", { headers: { Authorization: `Bearer ${localStorage.getItem("confab.token")}` } });
    return response.status;
  });
  assert.equal(me, 200, "the stored token is the fresh one");
}

test("changing the password signs other browsers out, with a reason", async () => {
  const ada = await signUp(browser, server.url, "ada");
  const other = await logIn("ada", "ada-password-1");
  await toBeVisible(other.page.getByRole("button", { name: "Your profile" }));

  const security = await openSecurity(ada.page);
  await security.getByLabel("Current password").fill("not-the-password");
  await security.getByLabel("New password").fill("ada-password-2");
  await security.getByRole("button", { name: "Change password" }).click();
  await toBeVisible(security.getByText("The current password is wrong."));

  await security.getByLabel("Current password").fill("ada-password-1");
  await security.getByLabel("New password").fill("ada-password-2");
  await security.getByRole("button", { name: "Change password" }).click();
  await toBeVisible(security.getByText("Password changed. Your other sessions were logged out."));

  await toBeVisible(other.page.getByText("You were logged out: your password was changed or your sessions were ended."));
  await toBeVisible(other.page.getByRole("button", { name: "Log in" }));
  await ada.page.keyboard.press("Escape");
  await staysSignedIn(ada.page);

  // The other browser logs in with the new password, then is logged out
  // again when Ada ends her other sessions (after confirming).
  const again = await logIn("ada", "ada-password-2");
  await toBeVisible(again.page.getByRole("button", { name: "Your profile" }));
  const section = await openSecurity(ada.page);
  await section.getByRole("button", { name: "Log out other sessions" }).click();
  await ada.page.getByRole("button", { name: "Log out others" }).click();
  await toBeVisible(section.getByText("Your other sessions were logged out."));
  await toBeVisible(again.page.getByText("You were logged out"));
  await ada.page.keyboard.press("Escape");
  await staysSignedIn(ada.page);

  for (const page of [ada.page, other.page, again.page]) assert.deepEqual(problems(page), []);
  for (const c of [ada.context, other.context, again.context]) await c.close();
});

test("a suspended account is told so, in its session and at login", async () => {
  // A server of its own, whose first account (the admin) is root.
  const own = await new ConfabServer().start();
  const root = await signUp(browser, own.url, "root");
  const bob = await signUp(browser, own.url, "bob");
  const suspended = await root.page.evaluate(async () => {
    const response = await fetch("/api/v1/admin/users/bob/suspension", {
      method: "POST",
      headers: { Authorization: `Bearer ${localStorage.getItem("confab.token")}` },
    });
    return response.status;
  });
  assert.equal(suspended, 200);
  await toBeVisible(bob.page.getByText("Your account is suspended."));

  await bob.page.getByLabel("User name").fill("bob");
  await bob.page.getByLabel("Password").fill("bob-password-1");
  await bob.page.getByRole("button", { name: "Log in" }).click();
  await toBeVisible(bob.page.getByText("This account is suspended."));

  for (const page of [root.page, bob.page]) assert.deepEqual(problems(page), []);
  await root.context.close();
  await bob.context.close();
  await own.dispose();
});
