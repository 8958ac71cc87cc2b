// The REST API v1 (docs/api.md): accounts, profiles, user lookup, media
// uploads and the delivery state of messages; and the public id of a group
// (its ActivityPub document, docs/federation.md). Chat changes go through
// the WebSocket.

/** @typedef {import("./types.js").User} User */
/** @typedef {import("./types.js").Delivery} Delivery */
/** @typedef {import("./types.js").Media} Media */
/** @typedef {import("./types.js").Report} Report */
/** @typedef {import("./types.js").ReportDetail} ReportDetail */
/** @typedef {import("./types.js").ReportAction} ReportAction */

/** An error answer of the server, with its stable `code`. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * @param {string} method
 * @param {string} path
 * @param {string | null} token
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
async function call(method, path, token, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached.");
  }
  if (response.status === 204) return null;
  const json = await response.json().catch(() => null);
  if (!response.ok) throw answerError(response.status, response.statusText, json);
  return json;
}

/**
 * The error of a failed answer: the server's `{"error": {code, message}}`,
 * or the status text when the body is not that.
 * @param {number} status
 * @param {string} statusText
 * @param {any} json
 */
function answerError(status, statusText, json) {
  const error = json && json.error;
  return new ApiError(status, error ? error.code : "http", error ? error.message : statusText || `HTTP ${status}`);
}

/**
 * Uploads a file as the raw body of `POST /api/v1/media`. It goes through
 * XMLHttpRequest, whose `upload.onprogress` reports the bytes sent (fetch
 * has no upload progress).
 * @param {string} token
 * @param {Blob} file
 * @param {{progress: (sent: number, total: number) => void, signal?: AbortSignal}} options
 * @returns {Promise<Media>}
 */
export function uploadMedia(token, file, options) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/media");
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => options.progress(event.loaded, event.lengthComputable ? event.total : file.size));
    xhr.addEventListener("load", () => {
      if (xhr.status === 201 || xhr.status === 200) resolve(xhr.response);
      else reject(answerError(xhr.status, xhr.statusText, xhr.response));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", "The server cannot be reached.")));
    xhr.addEventListener("abort", () => reject(new ApiError(0, "aborted", "The upload was cancelled.")));
    options.signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(file);
  });
}

/**
 * @typedef {object} Session
 * @property {string} access_token
 * @property {User} user
 */

/**
 * @param {string} name
 * @param {string} password
 * @param {string} displayName
 * @returns {Promise<Session>}
 */
export function register(name, password, displayName) {
  /** @type {Record<string, string>} */
  const body = { name, password };
  if (displayName) body.display_name = displayName;
  return call("POST", "/api/v1/auth/register", null, body);
}

/**
 * @param {string} name
 * @param {string} password
 * @returns {Promise<Session>}
 */
export function login(name, password) {
  return call("POST", "/api/v1/auth/login", null, { name, password });
}

/**
 * Changes one's own password; every other session ends, and the answer
 * carries a fresh token for this one.
 * @param {string} token
 * @param {string} oldPassword
 * @param {string} newPassword
 * @returns {Promise<Session>}
 */
export function changePassword(token, oldPassword, newPassword) {
  return call("POST", "/api/v1/account/password", token, { old_password: oldPassword, new_password: newPassword });
}

/**
 * Logs out every other session; the answer carries a fresh token.
 * @param {string} token
 * @returns {Promise<Session>}
 */
export function revokeSessions(token) {
  return call("POST", "/api/v1/account/sessions/revoke", token);
}

/**
 * A user by id, name or `@name@host` handle (remote users are looked up).
 * @param {string} token
 * @param {string} ref
 * @returns {Promise<User>}
 */
export function user(token, ref) {
  return call("GET", `/api/v1/users/${encodeURIComponent(ref)}`, token);
}

/**
 * Local users whose names start with `prefix`.
 * @param {string} token
 * @param {string} prefix
 * @returns {Promise<User[]>}
 */
export async function search(token, prefix) {
  const query = new URLSearchParams({ q: prefix, limit: "20" });
  const page = await call("GET", `/api/v1/users?${query}`, token);
  return page.users;
}

/**
 * Changes the caller's profile fields present in `fields`.
 * @param {string} token
 * @param {Partial<Pick<User, "display_name" | "bio" | "avatar_url" | "profile_links">>} fields
 * @returns {Promise<User>}
 */
export function updateProfile(token, fields) {
  return call("PATCH", "/api/v1/users/me", token, fields);
}

/**
 * The caller's privacy settings.
 * @param {string} token
 * @returns {Promise<{share_presence_remote: boolean, share_read_receipts: boolean}>}
 */
export function settings(token) {
  return call("GET", "/api/v1/account/settings", token);
}

/**
 * Changes the caller's privacy settings present in `change`.
 * @param {string} token
 * @param {{share_presence_remote?: boolean, share_read_receipts?: boolean}} change
 * @returns {Promise<{share_presence_remote: boolean, share_read_receipts: boolean}>}
 */
export function changeSettings(token, change) {
  return call("PATCH", "/api/v1/account/settings", token, change);
}

/**
 * Delivery state of one's own message to remote inboxes.
 * @param {string} token
 * @param {string} message
 * @returns {Promise<Delivery[]>}
 */
export function deliveries(token, message) {
  return call("GET", `/api/v1/messages/${encodeURIComponent(message)}/deliveries`, token);
}

/**
 * The server's sticker packs with their stickers.
 * @param {string} token
 * @returns {Promise<import("./types.js").StickerPack[]>}
 */
export function stickerPacks(token) {
  return call("GET", "/api/v1/sticker-packs", token);
}

/**
 * Makes an empty sticker pack (admins).
 * @param {string} token
 * @param {string} name
 * @returns {Promise<import("./types.js").StickerPack>}
 */
export function createStickerPack(token, name) {
  return call("POST", "/api/v1/admin/sticker-packs", token, { name });
}

/**
 * Adds a sticker to a pack (admins): the image is the raw body.
 * @param {string} token
 * @param {string} pack
 * @param {string} shortcode
 * @param {string} emoji may be empty
 * @param {Blob} image
 * @returns {Promise<import("./types.js").Sticker>}
 */
export async function addSticker(token, pack, shortcode, emoji, image) {
  const query = new URLSearchParams({ shortcode });
  if (emoji) query.set("emoji", emoji);
  let response;
  try {
    response = await fetch(`/api/v1/admin/sticker-packs/${encodeURIComponent(pack)}/stickers?${query}`, {
      method: "POST",
      headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
      body: image,
    });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached.");
  }
  const json = await response.json().catch(() => null);
  if (!response.ok) throw answerError(response.status, response.statusText, json);
  return json;
}

/**
 * Reports a user or a message (its author), with a reason.
 * @param {string} token
 * @param {{user?: string, message_id?: string, comment: string, forward: boolean}} body
 * @returns {Promise<Report>}
 */
export function report(token, body) {
  return call("POST", "/api/v1/reports", token, body);
}

/**
 * The moderators' queue.
 * @param {string} token
 * @param {"open" | "resolved"} state
 * @returns {Promise<Report[]>}
 */
export function reports(token, state) {
  return call("GET", `/api/v1/admin/reports?state=${state}`, token);
}

/**
 * One report with the reported messages (moderators).
 * @param {string} token
 * @param {string} id
 * @returns {Promise<ReportDetail>}
 */
export function reportDetail(token, id) {
  return call("GET", `/api/v1/admin/reports/${encodeURIComponent(id)}`, token);
}

/**
 * Acts on a report and closes it (moderators).
 * @param {string} token
 * @param {string} id
 * @param {ReportAction} action
 * @returns {Promise<ReportDetail>}
 */
export function resolveReport(token, id, action) {
  return call("POST", `/api/v1/admin/reports/${encodeURIComponent(id)}/resolve`, token, { action });
}

/**
 * The public URL of a group hosted here (its ActivityPub id), which names
 * this server by its public domain: the address the page was loaded from
 * may differ.
 * @param {string} conversation
 * @returns {Promise<string>}
 */
export async function groupUrl(conversation) {
  const group = await call("GET", `/groups/${encodeURIComponent(conversation)}`, null);
  return group.id;
}
