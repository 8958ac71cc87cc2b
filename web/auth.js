// Where the access token lives, and how one arrives from outside.
//
// Tokens are stateless JWTs: logging out forgets the token in this browser
// (every tab of this origin, through the storage event) and closes the
// sockets. An external auth service hands a token over either
//   - in the URL fragment: `/#token=<jwt>`; the fragment never reaches the
//     server, and the client removes it from the address bar and history
//     at once; or
//   - by postMessage from the page that opened the client or frames it, if
//     that page is of this origin or of one the server lists in
//     `web_embed_origins` (the page's `confab-embed-origins` meta):
//     `{type: "confab.token", token: "<jwt>"}`. The client announces itself
//     first with `{type: "confab.ready"}` to its opener or parent.
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

/** This origin and the embedding origins the server allows. */
function trustedOrigins() {
  const meta = document.querySelector('meta[name="confab-embed-origins"]');
  const listed = (meta?.getAttribute("content") || "").split(/\s+/).filter(Boolean);
  return [location.origin, ...listed];
}

/**
 * Listens for tokens posted by a trusted window and announces to the
 * opener or parent that the client is ready to receive one.
 * @param {(token: string) => void} onToken
 */
export function listenForHandoff(onToken) {
  const trusted = trustedOrigins();
  window.addEventListener("message", (event) => {
    if (!trusted.includes(event.origin)) return;
    const host = window.opener || (window.parent !== window ? window.parent : null);
    if (event.source !== host && event.source !== window) return;
    const data = event.data;
    if (!data || typeof data !== "object" || data.type !== "confab.token") return;
    if (typeof data.token === "string" && data.token.split(".").length === 3) onToken(data.token);
  });
  const host = window.opener || (window.parent !== window ? window.parent : null);
  // Only a host of a trusted origin receives it; for the others it is dropped.
  if (host) for (const origin of trusted) host.postMessage({ type: "confab.ready" }, origin);
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
