// The connection notice: while the socket is down, a banner that says so,
// with a "Retry now" button. The sidebar and the open chat each carry one,
// so the state shows on every layout (on a phone the chat hides the
// sidebar).

import { h } from "../format.js";

/** @typedef {import("../client.js").Client} Client */

/**
 * @param {Client} client
 * @param {string} place a class naming where the notice sits
 */
export function connectionNotice(client, place) {
  const store = client.store;
  const text = h("span");
  const retry = h("button", { class: "small", text: "Retry now", attrs: { type: "button" } });
  retry.addEventListener("click", () => {
    retry.disabled = true;
    client.retryNow();
  });
  const root = h("div", { class: `connection ${place}`, attrs: { role: "status" } }, text, retry);

  function render() {
    const state = store.connection;
    root.hidden = state === "online";
    root.dataset.state = state;
    text.textContent = state === "connecting" ? "Connecting…" : "Offline — reconnecting…";
    retry.hidden = state !== "offline";
    retry.disabled = false;
  }

  render();
  return { root, render };
}
