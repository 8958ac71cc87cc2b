// Where the access token lives, and how one arrives from outside.
//
// Tokens are stateless JWTs: logging out forgets the token in this browser
// (every tab of this origin, through the storage event) and closes the
// sockets. An external auth service hands a token over either
//   - in the URL fragment: `/#token=<jwt>`; the fragment never reaches the
//     server, and the client removes it from the address bar and history
//     at once; or
//   - by postMessage from a window of this origin (the page that opened
//     the client, or the page that frames it): `{type: "confab.token",
//     token: "<jwt>"}`. The client announces itself first with
//     `{type: "confab.ready"}` to its opener or parent.
// See docs/web-client.md.

const KEY = "confab.token";

/** @returns {string | null} */
export function storedToken() {
  return localStorage.getItem(KEY);
}

/** @param {string} token */
export function storeToken(token) {
  localStorage.setItem(KEY, token);
}

export function forgetToken() {
  localStorage.removeItem(KEY);
}

/**
 * Takes a token from the URL fragment, if there is one, and removes the
 * fragment from the address bar and the history entry.
 * @returns {string | null}
 */
export function takeFragmentToken() {
  if (!location.hash.startsWith("#token=")) return null;
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  history.replaceState(history.state, "", location.pathname + location.search);
  return token && token.split(".").length === 3 ? token : null;
}

/**
 * Listens for tokens posted by a window of this origin and announces that
 * the client is ready to receive one.
 * @param {(token: string) => void} onToken
 */
export function listenForHandoff(onToken) {
  window.addEventListener("message", (event) => {
    if (event.origin !== location.origin) return;
    const data = event.data;
    if (!data || typeof data !== "object" || data.type !== "confab.token") return;
    if (typeof data.token === "string" && data.token.split(".").length === 3) onToken(data.token);
  });
  const host = window.opener || (window.parent !== window ? window.parent : null);
  if (host) host.postMessage({ type: "confab.ready" }, location.origin);
}

/**
 * Calls `onChange` when another tab logs in or out.
 * @param {(token: string | null) => void} onChange
 */
export function watchOtherTabs(onChange) {
  window.addEventListener("storage", (event) => {
    if (event.key === KEY) onChange(event.newValue);
  });
}
