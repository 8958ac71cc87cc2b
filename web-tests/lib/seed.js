// Sets up data quickly through the public WebSocket protocol, from inside
// a signed-in page (the same socket API the client uses), for tests whose
// subject is not the set-up itself.

/**
 * Runs requests in order on a fresh socket of the page's signed-in user
 * and returns their results. A string `"$N.path"` in data is replaced by
 * that field of the N-th result (e.g. "$0.id").
 * @param {import("playwright-core").Page} page
 * @param {[string, object][]} requests
 * @returns {Promise<any[]>}
 */
export function wsRequests(page, requests) {
  return page.evaluate(async (list) => {
    const token = localStorage.getItem("confab.token");
    const ws = new WebSocket(`ws://${location.host}/api/v1/ws`, ["confab.v1", token || ""]);
    /** @type {Map<string, (frame: any) => void>} */
    const waiting = new Map();
    await new Promise((ready, fail) => {
      ws.onclose = (event) => fail(new Error(`socket closed: ${event.code}`));
      ws.onmessage = (event) => {
        const frame = JSON.parse(event.data);
        if (frame.type === "session.ready") ready(null);
        const done = waiting.get(frame.id);
        if (done) done(frame);
      };
    });
    /** @type {any[]} */
    const results = [];
    /** @param {any} value */
    const fill = (value) => {
      if (typeof value === "string" && /^\$\d+\./.test(value)) {
        const [index, ...path] = value.slice(1).split(".");
        return path.reduce((v, k) => v[k], results[Number(index)]);
      }
      if (Array.isArray(value)) return value.map(fill);
      if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
      return value;
    };
    for (const [type, data] of list) {
      const id = crypto.randomUUID();
      const frame = await new Promise((done) => {
        waiting.set(id, done);
        ws.send(JSON.stringify({ type, id, data: fill(data) }));
      });
      if (frame.type === "error") throw new Error(`${type}: ${frame.error.message}`);
      results.push(frame.data);
    }
    ws.close();
    return results;
  }, requests);
}

/**
 * Changes the signed-in user's profile through the REST API.
 * @param {import("playwright-core").Page} page
 * @param {object} fields
 */
export function patchProfile(page, fields) {
  return page.evaluate(async (body) => {
    const response = await fetch("/api/v1/users/me", {
      method: "PATCH",
      headers: { Authorization: `Bearer ${localStorage.getItem("confab.token")}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(await response.text());
  }, fields);
}

/**
 * Runs in the page: sends message.send over a WebSocket of its own, with
 * the stored token, to the open conversation, and returns the error.
 * @param {{body: string}} args
 */
export async function rawSend({ body }) {
  const token = localStorage.getItem("confab.token");
  const conversation = document.querySelector('.conversation-item[aria-current="true"]')?.getAttribute("data-conversation");
  const ws = new WebSocket(`ws://${location.host}/api/v1/ws`, ["confab.v1", token || ""]);
  return await new Promise((resolve) => {
    ws.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "session.ready") ws.send(JSON.stringify({ type: "message.send", id: crypto.randomUUID(), data: { conversation, body } }));
      if (frame.type === "result" || frame.type === "error") {
        ws.close();
        resolve(frame.type === "error" ? frame.error : { code: "sent" });
      }
    };
    ws.onclose = (event) => resolve({ code: `closed ${event.code}` });
  });
}

/**
 * Runs in a page of the server's origin: sends one message with the given
 * token over a WebSocket of its own and returns the stored message.
 * @param {{token: string, conversation: string, body: string}} args
 */
export async function sendWithToken({ token, conversation, body }) {
  const ws = new WebSocket(`ws://${location.host}/api/v1/ws`, ["confab.v1", token]);
  return await new Promise((resolve, reject) => {
    ws.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "session.ready") ws.send(JSON.stringify({ type: "message.send", id: crypto.randomUUID(), data: { conversation, body } }));
      if (frame.type === "result") {
        ws.close();
        resolve(frame.data);
      }
      if (frame.type === "error") reject(new Error(frame.error.message));
    };
    ws.onclose = (event) => reject(new Error(`socket closed: ${event.code}`));
  });
}

/**
 * A PNG of one colour with a red square in the middle, drawn by the page's canvas.
 * @param {import("playwright-core").Page} page
 * @param {number} width
 * @param {number} height
 * @param {string} color
 * @returns {Promise<Buffer>}
 */
export async function png(page, width, height, color) {
  const base64 = await page.evaluate(
    async ({ width, height, color }) => {
      const canvas = new OffscreenCanvas(width, height);
      const g = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext("2d"));
      g.fillStyle = color;
      g.fillRect(0, 0, width, height);
      g.fillStyle = "#c00";
      g.fillRect(width / 4, height / 4, width / 2, height / 2);
      const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer());
      let text = "";
      for (const b of bytes) text += String.fromCharCode(b);
      return btoa(text);
    },
    { width, height, color },
  );
  return Buffer.from(base64, "base64");
}

/**
 * Uploads bytes as the signed-in user (`POST /api/v1/media`) and returns the media object.
 * @param {import("playwright-core").Page} page
 * @param {Buffer} bytes
 * @returns {Promise<any>}
 */
export function uploadMedia(page, bytes) {
  return page.evaluate(async (base64) => {
    const response = await fetch("/api/v1/media", {
      method: "POST",
      headers: { Authorization: `Bearer ${localStorage.getItem("confab.token")}` },
      body: Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)),
    });
    if (response.status !== 201) throw new Error(await response.text());
    return response.json();
  }, bytes.toString("base64"));
}

/**
 * Makes a sticker pack "Greetings" with one sticker (`wave`, 👋) as the
 * signed-in admin, through the REST API.
 * @param {import("playwright-core").Page} page
 * @param {Buffer} image
 * @returns {Promise<any>} the sticker
 */
export function makePack(page, image) {
  return page.evaluate(async (base64) => {
    const auth = { Authorization: `Bearer ${localStorage.getItem("confab.token")}` };
    const made = await fetch("/api/v1/admin/sticker-packs", {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Greetings" }),
    });
    if (made.status !== 201) throw new Error(await made.text());
    const pack = await made.json();
    const added = await fetch(`/api/v1/admin/sticker-packs/${pack.id}/stickers?shortcode=wave&emoji=${encodeURIComponent("👋")}`, {
      method: "POST",
      headers: auth,
      body: Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)),
    });
    if (added.status !== 201) throw new Error(await added.text());
    return added.json();
  }, image.toString("base64"));
}
