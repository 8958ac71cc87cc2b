// One WebSocket session (docs/protocol.md): requests with ids and their
// replies, pushes, and reconnecting with a growing, jittered delay after
// any close that was not asked for. The token travels as a subprotocol,
// never in the URL or a cookie.

/** A request the server answered with an error frame, or one cut off. */
export class RequestError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {number} status
   */
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/** @typedef {"connecting" | "online" | "offline"} ConnectionState */

/**
 * @typedef {object} SocketHandlers
 * @property {(data: any, reconnected: boolean) => void} ready the session.ready snapshot
 * @property {(type: string, data: any) => void} push
 * @property {(state: ConnectionState) => void} state
 * @property {(reason: string) => void} ended the server ended the session for good, with its reason
 * @property {() => Promise<string | null>} refusal why REST refuses the token (its error code), or null when it works
 */

/** Close reasons after which the token may no longer work (docs/protocol.md). */
const CREDENTIAL_CLOSES = ["password_changed", "sessions_revoked", "token_revoked", "role_changed"];

const MAX_DELAY_MS = 30_000;

/** Attempts retried about once a second before the delay starts doubling. */
const QUICK_ATTEMPTS = 8;

/**
 * How long to wait before attempt `failures + 1`: a quarter to half a
 * second after a drop, then about a second for the first few failed
 * attempts (a server restart takes a few seconds), then doubling up to 30 s.
 * Jittered so that many clients do not come back at once.
 * @param {number} failures attempts in a row that did not open
 */
export function retryDelay(failures) {
  const base = failures === 0 ? 500 : failures <= QUICK_ATTEMPTS ? 1000 : Math.min(MAX_DELAY_MS, 1000 * 2 ** (failures - QUICK_ATTEMPTS));
  return base / 2 + Math.random() * (base / 2);
}

/** A request id that is never reused (message ids double as idempotency keys). */
export function newRequestId() {
  return crypto.randomUUID();
}

export class Socket {
  /**
   * @param {string} token
   * @param {SocketHandlers} handlers
   */
  constructor(token, handlers) {
    this.token = token;
    this.handlers = handlers;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {Map<string, {resolve: (data: any) => void, reject: (error: RequestError) => void}>} */
    this.pending = new Map();
    this.failures = 0;
    this.stopped = false;
    this.everReady = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.onOnline = () => this.retryNow();
    window.addEventListener("online", this.onOnline);
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  /** Closes the socket for good (logout). */
  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    if (this.timer) clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, "logout");
    this.ws = null;
  }

  connect() {
    if (this.stopped) return;
    // Once connected, the page stays "offline" until the next session is
    // ready, rather than flickering with every attempt.
    if (!this.everReady) this.handlers.state("connecting");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/api/v1/ws`, ["confab.v1", this.token]);
    this.ws = ws;
    let opened = false;
    ws.addEventListener("open", () => {
      opened = true;
    });
    ws.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.receive(frame);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const { reject } of this.pending.values()) {
        reject(new RequestError("disconnected", "The connection was lost.", 0));
      }
      this.pending.clear();
      if (this.stopped) return;
      this.handlers.state("offline");
      if (event.code === 1008 && (event.reason === "account_deleted" || event.reason === "account_suspended")) {
        this.end(event.reason);
        return;
      }
      if (event.code === 1008 && CREDENTIAL_CLOSES.includes(event.reason)) {
        // A fresh token may already be in place (this tab changed the
        // password); otherwise the session is over.
        this.checkThenReconnect();
        return;
      }
      if (!opened) this.failures += 1;
      this.schedule();
    });
  }

  /** @param {any} frame */
  receive(frame) {
    if (frame.type === "result" || frame.type === "error") {
      const waiter = frame.id === null ? undefined : this.pending.get(frame.id);
      if (!waiter) return;
      this.pending.delete(frame.id);
      if (frame.type === "result") waiter.resolve(frame.data);
      else waiter.reject(new RequestError(frame.error.code, frame.error.message, frame.error.status));
      return;
    }
    if (frame.type === "session.ready") {
      const reconnected = this.everReady;
      this.everReady = true;
      this.failures = 0;
      this.handlers.state("online");
      this.handlers.ready(frame.data, reconnected);
      return;
    }
    this.handlers.push(frame.type, frame.data);
  }

  /** @param {string} reason */
  end(reason) {
    this.stopped = true;
    this.handlers.ended(reason);
  }

  /** Reconnects at once if the current token still works, ends otherwise. */
  async checkThenReconnect() {
    const refused = await this.handlers.refusal();
    if (this.stopped || this.ws !== null) return;
    if (refused) this.end(refused);
    else this.connect();
  }

  async schedule() {
    // After a few refused attempts, ask REST whether the token still works:
    // an expired token or a deleted account cannot reconnect.
    if (this.failures >= 3 && this.failures % 3 === 0) {
      const refused = await this.handlers.refusal();
      if (refused) return this.end(refused);
    }
    const delay = retryDelay(this.failures);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  /** Skips the wait (the network is back, or the person asked to retry). */
  retryNow() {
    if (this.stopped || this.ws || !this.timer) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.connect();
  }

  get connected() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.everReady;
  }

  /**
   * Sends a request and resolves with its result.
   * @param {string} type
   * @param {object} [data]
   * @param {string} [id] the request id; give one to make a send idempotent
   * @returns {Promise<any>}
   */
  request(type, data = {}, id = newRequestId()) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new RequestError("disconnected", "Not connected; retrying…", 0));
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ type, id, data }));
    });
  }
}
