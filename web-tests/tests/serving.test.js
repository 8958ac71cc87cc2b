// How the server serves the client: the page with its CSP and no-cache,
// content-hashed assets cached for good with the right types, JSON 404s
// elsewhere; and the token hand-off from an external auth service (URL
// fragment and postMessage).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { launch } from "../lib/browser.js";
import { toBeVisible } from "../lib/expect.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => {
  server = await new ConfabServer().start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

test("the page, its assets and what is not there", async () => {
  const page = await fetch(`${server.url}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(page.headers.get("cache-control"), "no-cache");
  const csp = page.headers.get("content-security-policy") || "";
  for (const part of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "base-uri 'none'"]) {
    assert.ok(csp.includes(part), `CSP has ${part}: ${csp}`);
  }
  const html = await page.text();
  assert.ok(!/<script>|<style|style=/.test(html), "no inline script or style");
  const script = html.match(/src="(\/assets\/[0-9a-f]{16}\/main\.js)"/);
  const style = html.match(/href="(\/assets\/[0-9a-f]{16}\/app\.css)"/);
  assert.ok(script && style, html);

  const js = await fetch(server.url + script[1]);
  assert.equal(js.status, 200);
  assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(js.headers.get("cache-control"), "public, max-age=31536000, immutable");
  const css = await fetch(server.url + style[1]);
  assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");

  for (const path of ["/assets/0000000000000000/main.js", script[1].replace("main.js", "nope.js"), "/api/v1/nope", "/nope"]) {
    const missing = await fetch(server.url + path);
    assert.equal(missing.status, 404, path);
    assert.equal((await missing.json()).error.code, "not_found");
  }
});

/** @returns {Promise<string>} a token of a new account, as an auth service would hand over */
async function token(name) {
  const response = await fetch(`${server.url}/api/v1/auth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, password: "hand-off-password", display_name: name.toUpperCase() }),
  });
  return (await response.json()).access_token;
}

test("a token handed over in the URL fragment signs in and leaves the address bar", async () => {
  const context = await browser.newContext({ baseURL: server.url });
  const page = await context.newPage();
  await page.goto(`/#token=${await token("frag")}`);
  await toBeVisible(page.getByRole("button", { name: "Your profile" }).getByText("FRAG"));
  assert.equal(new URL(page.url()).hash, "");
  // replaceState: the entry itself changed, so going back does not bring the token back.
  assert.ok(!(await page.evaluate(() => location.href)).includes("token"));
  await page.goBack();
  assert.ok(!page.url().includes("token="), page.url());
  await context.close();
});

test("a token posted by a window of the same origin signs in", async () => {
  const context = await browser.newContext({ baseURL: server.url });
  const page = await context.newPage();
  await page.goto("/");
  await toBeVisible(page.getByRole("heading", { name: "Welcome back" }));
  await page.evaluate((t) => window.postMessage({ type: "confab.token", token: t }, location.origin), await token("posted"));
  await toBeVisible(page.getByRole("button", { name: "Your profile" }).getByText("POSTED"));
  await context.close();
});
