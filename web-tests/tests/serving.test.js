// How the server serves the client: the page with its CSP and no-cache,
// content-hashed assets cached for good with the right types, JSON 404s
// elsewhere; and the token hand-off from an external auth service (URL
// fragment and postMessage).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { ConfabServer } from "../lib/server.js";
import { startServerAndBrowser, stopServerAndBrowser } from "../lib/browser.js";
import { eventually, toBeVisible } from "../lib/expect.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

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

/**
 * @param {string} name
 * @param {ConfabServer} [on]
 * @returns {Promise<string>} a token of a new account, as an auth service would hand over
 */
async function token(name, on = server) {
  const response = await fetch(`${on.url}/api/v1/auth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, password: "hand-off-password", display_name: name.toUpperCase() }),
  });
  return (await response.json()).access_token;
}

test("the browser gets the client's files compressed", async () => {
  const context = await browser.newContext({ baseURL: server.url });
  const page = await context.newPage();
  /** @type {Map<string, {accept: string, headers: Record<string, string>}>} */
  const seen = new Map();
  page.on("response", async (response) => {
    if (!response.url().includes("/assets/")) return;
    const accept = (await response.request().allHeaders())["accept-encoding"] || "";
    seen.set(new URL(response.url()).pathname.split("/").slice(3).join("/"), { accept, headers: response.headers() });
  });
  await page.goto("/");
  await toBeVisible(page.getByRole("heading", { name: "Welcome back" }));
  for (const file of ["main.js", "app.css", "views/chat.js", "store.js"]) {
    const got = await eventually(async () => {
      const entry = seen.get(file);
      assert.ok(entry, `${file} loaded`);
      return entry;
    });
    // Chromium offers brotli on secure origins only; over plain http it offers gzip.
    assert.equal(got.headers["content-encoding"], /\bbr\b/.test(got.accept) ? "br" : "gzip", `${file} with ${got.accept}`);
    assert.equal(got.headers["vary"], "accept-encoding", file);
  }
  await context.close();
});

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

test("a page of a listed embedding origin frames the client and hands it a token", async () => {
  // The embedding page: another origin (another port), listed in web_embed_origins.
  let page = "";
  const embedder = createServer((_, response) => {
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    response.end(page);
  });
  await new Promise((ok) => embedder.listen(0, "127.0.0.1", () => ok(null)));
  const address = embedder.address();
  const origin = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const confab = await new ConfabServer({ CONFAB_WEB_EMBED_ORIGINS: origin }).start();
  try {
    const response = await fetch(`${confab.url}/`);
    assert.ok(response.headers.get("content-security-policy")?.endsWith(`frame-ancestors 'self' ${origin}`));
    const handed = await token("embedded", confab);
    page = `<!doctype html><title>Auth service</title>
<iframe src="${confab.url}/" title="Confab" width="900" height="700"></iframe>
<script>
addEventListener("message", (event) => {
  if (event.origin === "${confab.url}" && event.data && event.data.type === "confab.ready") {
    document.querySelector("iframe").contentWindow.postMessage({ type: "confab.token", token: "${handed}" }, "${confab.url}");
  }
});
</script>`;
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(origin);
    await toBeVisible(tab.frameLocator("iframe").getByRole("button", { name: "Your profile" }).getByText("EMBEDDED"));
    await context.close();
  } finally {
    await confab.dispose();
    embedder.close();
  }
});
