// Browser benchmark of the web client with a long history (issue 13).
// Not a test: it asserts nothing and prints figures.
//
// Starts a real confab (CONFAB_BIN, as the browser tests do), signs up two
// people in Chromium, seeds their direct conversation with 2,000 messages
// through the WebSocket API, then, in the reader's page:
// - loads the whole history by scrolling up, timing each page of older
//   messages and measuring how far the message at the top of the viewport
//   moved when the page arrived (a scroll jump);
// - counts the page's DOM elements;
// - times incoming messages from the sender's send to the row on screen;
// - types in the composer, timing each keystroke to the next frame and
//   recording long tasks;
// - times one's own send until the confirmed row is on screen.
//
//   cd web-tests && CONFAB_BIN=../target/debug/confab npm run bench:long-history
//
// MESSAGES (default 2000) changes the history's length.

import { ConfabServer } from "../lib/server.js";
import { becomeContacts, launch, openChat, signUp } from "../lib/browser.js";

const MESSAGES = Number(process.env.MESSAGES || 2000);
const INCOMING = 5;
const KEYS = "The quick brown fox jumps over";

/** @param {number[]} xs */
function stats(xs) {
  if (xs.length === 0) return "n/a";
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (/** @type {number} */ q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `median ${at(0.5).toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms (n=${xs.length})`;
}

/**
 * Runs in a page: opens a WebSocket with the stored token and runs the
 * requests, `window` at a time, returning the results in order. A request
 * of type "$snapshot" returns the session.ready data.
 * @param {{requests: [string, any][], window: number}} args
 */
async function inPage({ requests, window: width }) {
  const token = localStorage.getItem("confab.token");
  const ws = new WebSocket(`ws://${location.host}/api/v1/ws`, ["confab.v1", token || ""]);
  /** @type {Map<string, (frame: any) => void>} */
  const waiting = new Map();
  /** @type {any} */
  const snapshot = await new Promise((ready, fail) => {
    ws.onclose = (event) => fail(new Error(`socket closed: ${event.code}`));
    ws.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "session.ready") ready(frame.data);
      waiting.get(frame.id)?.(frame);
    };
  });
  /** @type {any[]} */
  const results = new Array(requests.length);
  let next = 0;
  async function worker() {
    while (next < requests.length) {
      const index = next++;
      const [type, data] = requests[index];
      if (type === "$snapshot") {
        results[index] = snapshot;
        continue;
      }
      const id = crypto.randomUUID();
      const frame = await new Promise((done) => {
        waiting.set(id, done);
        ws.send(JSON.stringify({ type, id, data }));
      });
      waiting.delete(id);
      if (frame.type === "error") throw new Error(`${type}: ${frame.error.message}`);
      results[index] = frame.data;
    }
  }
  await Promise.all(Array.from({ length: width }, worker));
  ws.close();
  return results;
}

/** Runs in the reader's page before its scripts: records long tasks (> 50 ms). */
function recorder() {
  /** @type {any} */
  const w = window;
  w.__long = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.__long.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: "longtask", buffered: true });
}

/**
 * A message body of varying length; `#n` leads it so the page can tell
 * which messages are on screen.
 * @param {number} n
 */
function body(n) {
  const words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore".split(" ");
  const length = 3 + ((n * 7) % 40);
  const text = Array.from({ length }, (_, i) => words[(n + i) % words.length]).join(" ");
  return n % 17 === 0 ? `#${n} ${text}\nsecond line\nthird line` : `#${n} ${text}`;
}

/** Runs in a page: the smallest and largest `#n` of the message rows in the document, and the element count. */
function census() {
  let min = Infinity;
  let max = 0;
  for (const p of document.querySelectorAll(".messages article[data-id] .body")) {
    const match = /^#(\d+) /.exec(p.textContent || "");
    if (match) {
      const n = Number(match[1]);
      if (n < min) min = n;
      if (n > max) max = n;
    }
  }
  return { min, max, elements: document.getElementsByTagName("*").length, rows: document.querySelectorAll(".messages article[data-id]").length };
}

/**
 * Runs in the reader's page: scrolls the list to the top and waits until
 * older rows are in the document, then reports the time, how far the row
 * at the top of the viewport moved on screen, and whether it ended.
 */
async function olderStep() {
  const list = /** @type {HTMLElement} */ (document.querySelector(".messages"));
  const smallest = () => {
    let min = Infinity;
    for (const p of list.querySelectorAll("article[data-id] .body")) {
      const match = /^#(\d+) /.exec(p.textContent || "");
      if (match) min = Math.min(min, Number(match[1]));
    }
    return min;
  };
  const before = smallest();
  const t0 = performance.now();
  list.scrollTop = 0;
  const top = list.getBoundingClientRect().top;
  /** @type {{id: string, top: number} | null} */
  let anchor = null;
  for (const a of list.querySelectorAll("article[data-id]")) {
    const rect = a.getBoundingClientRect();
    if (rect.bottom > top) {
      anchor = { id: a.getAttribute("data-id") || "", top: rect.top };
      break;
    }
  }
  const grew = await new Promise((resolve) => {
    const timer = setTimeout(() => {
      observer.disconnect();
      resolve(false);
    }, 15000);
    const observer = new MutationObserver(() => {
      if (smallest() < before) {
        observer.disconnect();
        clearTimeout(timer);
        resolve(true);
      }
    });
    observer.observe(list, { childList: true, subtree: true });
  });
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const ms = performance.now() - t0;
  const el = anchor ? list.querySelector(`article[data-id="${CSS.escape(anchor.id)}"]`) : null;
  const shift = el && anchor ? el.getBoundingClientRect().top - anchor.top : NaN;
  return { grew, ms, shift, smallest: smallest() };
}

/**
 * Runs in the reader's page: waits until a row whose text starts with
 * `mark` is on screen (next frame) and returns that time on the epoch clock.
 * @param {string} mark
 */
function whenShown(mark) {
  const list = /** @type {HTMLElement} */ (document.querySelector(".messages"));
  /** @type {any} */
  const w = window;
  w.__shown = new Promise((resolve) => {
    const find = () => [...list.querySelectorAll("article[data-id] .body")].some((p) => (p.textContent || "").startsWith(mark));
    const timer = setTimeout(() => {
      observer.disconnect();
      resolve(NaN);
    }, 20000);
    const observer = new MutationObserver(() => {
      if (find()) {
        observer.disconnect();
        clearTimeout(timer);
        requestAnimationFrame(() => resolve(performance.timeOrigin + performance.now()));
      }
    });
    observer.observe(list, { childList: true, subtree: true });
  });
}

async function main() {
  const server = await new ConfabServer({ CONFAB_WS_REQUESTS_PER_S: "100000" }).start();
  const browser = await launch();
  try {
    const ada = await signUp(browser, server.url, "ada", { displayName: "Ada Reader" });
    const bob = await signUp(browser, server.url, "bob", { displayName: "Bob Sender" });
    await becomeContacts(ada.page, bob.page, "bob", "Ada Reader");
    const [snapshot] = await bob.page.evaluate(inPage, { requests: [["$snapshot", {}]], window: 1 });
    const conversation = snapshot.conversations.find((/** @type {any} */ s) => s.conversation.kind === "direct").conversation.id;

    const seedStart = Date.now();
    /** @type {[string, any][]} */
    const sends = [];
    for (let n = 1; n <= MESSAGES; n++) sends.push(["message.send", { conversation, body: body(n) }]);
    const sent = await bob.page.evaluate(inPage, { requests: sends, window: 1 });
    const newest = sent.at(-1).id;
    await ada.page.evaluate(inPage, { requests: [["message.read", { conversation, message: newest }]], window: 1 });
    console.log(`seeded ${MESSAGES} messages in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);

    // The reader reloads with everything read, then opens the conversation.
    let historyRequests = 0;
    ada.page.on("websocket", (ws) =>
      ws.on("framesent", (frame) => {
        if (typeof frame.payload === "string" && frame.payload.includes('"message.history"')) historyRequests += 1;
      }),
    );
    await ada.page.addInitScript(recorder);
    await ada.page.reload();
    await ada.page.getByRole("button", { name: "Your profile" }).waitFor();
    const openStart = Date.now();
    await openChat(ada.page, "Bob Sender");
    await ada.page.locator(".messages article[data-id]").filter({ hasText: `#${MESSAGES} ` }).waitFor();
    console.log(`open: ${Date.now() - openStart} ms to the newest message`);

    // Older pages: scroll to the top until the first message is shown.
    /** @type {{loaded: number, ms: number, shift: number, network: boolean}[]} */
    const steps = [];
    for (let i = 0; i < 400; i++) {
      const requestsBefore = historyRequests;
      const step = await ada.page.evaluate(olderStep);
      if (!step.grew) break;
      steps.push({ loaded: MESSAGES - step.smallest + 1, ms: step.ms, shift: step.shift, network: historyRequests > requestsBefore });
      if (step.smallest <= 1) break;
    }
    const late = steps.filter((s) => s.loaded > 1400);
    console.log(`older: ${steps.length} steps to reach message #1`);
    console.log(`older, all steps: ${stats(steps.map((s) => s.ms))}`);
    console.log(`older, steps with a server page: ${stats(steps.filter((s) => s.network).map((s) => s.ms))}`);
    console.log(`older, after 1,400 loaded: ${stats(late.map((s) => s.ms))}`);
    const shifts = steps.map((s) => Math.abs(s.shift)).filter((x) => !Number.isNaN(x));
    console.log(`older, scroll jump of the top row: max ${Math.max(0, ...shifts).toFixed(1)} px, steps with a jump > 2 px: ${shifts.filter((x) => x > 2).length} of ${shifts.length}`);
    const atTop = await ada.page.evaluate(census);
    console.log(`DOM at the oldest message: ${atTop.elements} elements, ${atTop.rows} message rows`);

    // Back to the newest message.
    const jump = ada.page.getByRole("button", { name: /^Jump to latest/ });
    if (await jump.isVisible()) await jump.click();
    for (let i = 0; i < 200; i++) {
      const c = await ada.page.evaluate(() => {
        const list = /** @type {HTMLElement} */ (document.querySelector(".messages"));
        list.scrollTop = list.scrollHeight;
        return list.scrollHeight - list.scrollTop - list.clientHeight;
      });
      const now = await ada.page.evaluate(census);
      if (now.max >= MESSAGES && c < 2) break;
      await ada.page.waitForTimeout(50);
    }
    await ada.page.waitForTimeout(500);
    const atBottom = await ada.page.evaluate(census);
    console.log(`DOM at the newest message: ${atBottom.elements} elements, ${atBottom.rows} message rows`);

    // Incoming messages.
    const incoming = [];
    const roundTrips = [];
    for (let i = 1; i <= INCOMING; i++) {
      const mark = `#${MESSAGES + i} `;
      await ada.page.evaluate(whenShown, mark);
      const sentAt = await bob.page.evaluate(
        async ({ conversation, text }) => {
          const token = localStorage.getItem("confab.token");
          const ws = new WebSocket(`ws://${location.host}/api/v1/ws`, ["confab.v1", token || ""]);
          const id = crypto.randomUUID();
          return await new Promise((resolve) => {
            let t0 = 0;
            ws.onmessage = (event) => {
              const frame = JSON.parse(event.data);
              if (frame.type === "session.ready") {
                t0 = performance.timeOrigin + performance.now();
                // The request id is the message's client_id: a repeated one would be the same message.
                ws.send(JSON.stringify({ type: "message.send", id, data: { conversation, body: text } }));
              } else if (frame.id === id) {
                const t1 = performance.timeOrigin + performance.now();
                ws.close();
                resolve({ t0, t1 });
              }
            };
            ws.onclose = () => resolve({ t0, t1: NaN });
          });
        },
        { conversation, text: `${mark}incoming` },
      );
      const shownAt = await ada.page.evaluate(() => /** @type {any} */ (window).__shown);
      incoming.push(shownAt - sentAt.t0);
      roundTrips.push(sentAt.t1 - sentAt.t0);
      await ada.page.waitForTimeout(300);
    }
    console.log(`incoming message, send to shown: ${stats(incoming)} (the sender's round trip: ${stats(roundTrips)})`);

    // Keystrokes.
    const box = ada.page.getByRole("textbox", { name: "Message" });
    await box.click();
    const typeStart = await ada.page.evaluate(() => {
      /** @type {any} */
      const w = window;
      w.__keys = [];
      document.addEventListener(
        "keydown",
        () => {
          const t0 = performance.now();
          requestAnimationFrame(() => setTimeout(() => w.__keys.push(performance.now() - t0), 0));
        },
        true,
      );
      return performance.now();
    });
    await ada.page.keyboard.type(KEYS, { delay: 60 });
    await ada.page.waitForTimeout(300);
    const typing = await ada.page.evaluate((start) => {
      /** @type {any} */
      const w = window;
      return {
        keys: /** @type {number[]} */ (w.__keys),
        long: w.__long.filter((/** @type {any} */ e) => e.start >= start),
      };
    }, typeStart);
    console.log(`keystroke to next frame: ${stats(typing.keys)}`);
    console.log(`while typing ${KEYS.length} keys: ${typing.long.length} long tasks (max ${Math.max(0, ...typing.long.map((/** @type {any} */ e) => e.duration)).toFixed(0)} ms)`);

    // One's own send, Enter to the confirmed row.
    const own = [];
    for (let i = 1; i <= 3; i++) {
      const mark = `#own${i} `;
      await box.fill(`${mark}sent by the reader`);
      await ada.page.evaluate(whenShown, mark);
      const t0 = await ada.page.evaluate(() => performance.timeOrigin + performance.now());
      await box.press("Enter");
      const t1 = await ada.page.evaluate(() => /** @type {any} */ (window).__shown);
      own.push(t1 - t0);
      await ada.page.waitForTimeout(300);
    }
    console.log(`own send, Enter to confirmed row: ${stats(own)}`);
    const all = await ada.page.evaluate(() => /** @type {any} */ (window).__long);
    console.log(`long tasks in the reader's page since load: ${all.length}, longest ${Math.max(0, ...all.map((/** @type {any} */ e) => e.duration)).toFixed(0)} ms`);
  } finally {
    await browser.close();
    await server.dispose();
  }
}

await main();
