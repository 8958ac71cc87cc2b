// Messages show their Markdown subset (bold, italic, strike, code, code
// blocks, quotes, lists, links) and their tone indicators, built as DOM
// nodes; a hostile corpus sent as messages runs no script and leaves no
// dangerous element or attribute in the page.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, launch, messages, openChat, problems, send, signUp } from "../lib/browser.js";
import { rawSend } from "../lib/seed.js";
import { eventually, toBeVisible, toHaveCount } from "../lib/expect.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;
/** @type {{page: import("playwright-core").Page}} */
let ada;
/** @type {{page: import("playwright-core").Page}} */
let bob;

before(async () => {
  server = await new ConfabServer().start();
  browser = await launch();
  ada = await signUp(browser, server.url, "ada", { displayName: "Ada" });
  bob = await signUp(browser, server.url, "bob", { displayName: "Bob" });
  await becomeContacts(bob.page, ada.page, "ada", "Bob");
  await openChat(ada.page, "Bob");
  await openChat(bob.page, "Ada");
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

/**
 * Renders sources with the client's own module, in the page, and returns
 * each result's HTML.
 * @param {import("playwright-core").Page} page
 * @param {string[]} sources
 * @returns {Promise<string[]>}
 */
function render(page, sources) {
  return page.evaluate(async (list) => {
    const main = /** @type {HTMLScriptElement} */ (document.querySelector('script[src$="main.js"]')).src;
    const { messageBody } = await import(main.replace(/main\.js$/, "markdown.js"));
    return list.map((source) => {
      const box = document.createElement("div");
      box.append(messageBody(source));
      return box.innerHTML;
    });
  }, sources);
}

test("the Markdown subset becomes elements", async () => {
  const cases = [
    ["hi", "<p>hi</p>"],
    ["**b** *i* _i_ ~~s~~ `c`", "<p><strong>b</strong> <em>i</em> <em>i</em> <del>s</del> <code>c</code></p>"],
    ["a\nb\n\nc", "<p>a\nb</p><p>c</p>"],
    ["snake_case_name and 2 * 3 * 4", "<p>snake_case_name and 2 * 3 * 4</p>"],
    ["\\*not em\\*", "<p>*not em*</p>"],
    ["``a`b``", "<p><code>a`b</code></p>"],
    ["```rust\nfn main() {\n    *x*\n}\n```", '<pre tabindex="0"><code data-language="rust">fn main() {\n    *x*\n}</code></pre>'],
    ["> quoted **b**\n> more\n\nreply", "<blockquote><p>quoted <strong>b</strong>\nmore</p></blockquote><p>reply</p>"],
    ["- a\n- b\n  - c", "<ul><li>a</li><li>b<ul><li>c</li></ul></li></ul>"],
    ["3. x\n4. y", '<ol start="3"><li>x</li><li>y</li></ol>'],
    [
      "[docs](https://example.org/a_b) <https://example.org/c>",
      '<p><a href="https://example.org/a_b" target="_blank" rel="nofollow noopener noreferrer">docs</a> <a href="https://example.org/c" target="_blank" rel="nofollow noopener noreferrer">https://example.org/c</a></p>',
    ],
    ["see https://example.org/x.", '<p>see <a href="https://example.org/x" target="_blank" rel="noopener noreferrer">https://example.org/x</a>.</p>'],
    ["[click](javascript:alert(1))", "<p><span>click</span></p>"],
    ["<b>bold</b> # not a title", "<p>&lt;b&gt;bold&lt;/b&gt; # not a title</p>"],
  ];
  const html = await render(ada.page, cases.map(([source]) => source));
  cases.forEach(([source, expected], i) => assert.equal(html[i], expected, source));
});

test("tone indicators at the end become labelled tags", async () => {
  const [one, two, none, path] = await render(ada.page, ["that was great /j", "ok /lh /nm", "a/j", "see /usr/s x"]);
  assert.equal(
    one,
    '<p>that was great</p><p class="tones"><span class="tone" title="joking">/j<span class="visually-hidden"> (joking)</span></span></p>',
  );
  assert.match(two, /title="light-hearted">\/lh.*title="not mad">\/nm/);
  assert.equal(none, "<p>a/j</p>");
  assert.equal(path, "<p>see /usr/s x</p>");

  await send(bob.page, "**sure** see `the code` /srs");
  const log = messages(ada.page);
  await toBeVisible(log.locator("strong", { hasText: "sure" }));
  await toBeVisible(log.locator("code", { hasText: "the code" }));
  const tag = log.locator(".tone", { hasText: "/srs" });
  await toBeVisible(tag);
  assert.equal(await tag.getAttribute("title"), "serious");
  assert.equal(await tag.textContent(), "/srs (serious)");
});

test("code blocks scroll sideways instead of widening the bubble", async () => {
  const long = "x".repeat(400);
  await send(bob.page, `\`\`\`\n${long}\n\`\`\``);
  const pre = messages(ada.page).locator("pre", { hasText: long });
  await toBeVisible(pre);
  const sizes = await pre.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth, font: getComputedStyle(el.querySelector("code") || el).fontFamily }));
  assert.ok(sizes.scroll > sizes.client, "the block scrolls");
  assert.match(sizes.font, /mono/i);
});

/** Markup written to run script, sent as messages. */
const HOSTILE = [
  "<script>window.__xss = 1</script>",
  "<ScRiPt>window.__xss = 1</sCrIpT>",
  "<img src=x onerror=\"window.__xss = 2\">",
  "<IMG SRC=x OnErRoR=window.__xss=2>",
  "<iframe src=\"javascript:window.__xss=3\"></iframe>",
  "<svg onload=\"window.__xss=4\"><script>window.__xss=4</script></svg>",
  "<b onclick=\"window.__xss=5\">x</b>",
  "**<i onmouseover=\"window.__xss=5\">x</i>**",
  "<a href=\"javascript:window.__xss=6\">x</a>",
  "[x](javascript:window.__xss=6)",
  "[x](JaVaScRiPt:window.__xss=6)",
  "[x](&#106;avascript:window.__xss=6)",
  "[x](java&#x09;script:window.__xss=6)",
  "[x](<javascript:window.__xss=6>)",
  "[x](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9Nzwvc2NyaXB0Pg==)",
  "[x](DATA:text/html,<script>window.__xss=7</script>)",
  "[x](vbscript:msgbox(1))",
  "<javascript:window.__xss=8>",
  "![x](javascript:window.__xss=9)",
  "[x](https://ok.example \"t\\\" onmouseover=\\\"window.__xss=10\")",
  "<div style=\"background:url(javascript:window.__xss=11)\">x</div>",
  "<style>*{background:red}</style>",
  "<!--><script>window.__xss=12</script>-->",
  "<noscript><p title=\"</noscript><img src=x onerror=window.__xss=13>\">",
  "```x\" onmouseover=\"window.__xss=14\nc\n```",
  "<details open ontoggle=\"window.__xss=15\">",
  "[**x**](https://ok.example/\"onmouseover=\"window.__xss=16)",
  "[x](https://ok.example/) [y](mailto:y@example.org) <b><i><u>nested</b></i></u>",
];

test("no message of the hostile corpus runs script or leaves dangerous markup", async () => {
  for (const body of HOSTILE) {
    const result = await bob.page.evaluate(rawSend, { body });
    assert.equal(result.code, "sent", body);
  }
  for (const page of [ada.page, bob.page]) {
    await eventually(async () => assert.equal(await messages(page).locator(".body", { hasText: "nested" }).count(), 1));
    await toHaveCount(messages(page).locator(".body").locator("script, img, iframe, svg, style, object, embed, details, div[style], b, i, u"), 0);
    const found = await messages(page).evaluate((log) => {
      const allowed = new Set(["P", "STRONG", "EM", "DEL", "CODE", "PRE", "BLOCKQUOTE", "UL", "OL", "LI", "A", "SPAN"]);
      const bad = [];
      for (const body of log.querySelectorAll(".body")) {
        for (const el of body.querySelectorAll("*")) {
          if (!allowed.has(el.tagName)) bad.push(`element ${el.tagName}`);
          for (const attr of el.attributes) {
            if (/^on/i.test(attr.name) || attr.name === "style" || attr.name === "src") bad.push(`${el.tagName} ${attr.name}`);
          }
          if (el instanceof HTMLAnchorElement && !/^(https?|mailto):$/.test(el.protocol)) bad.push(`link ${el.href}`);
        }
      }
      return bad;
    });
    assert.deepEqual(found, []);
    const links = await messages(page).locator(".body a").evaluateAll((els) => els.map((a) => /** @type {HTMLAnchorElement} */ (a).href));
    assert.ok(links.includes("https://ok.example/") && links.includes("mailto:y@example.org"), String(links));
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).__xss), undefined);
  }
  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});
