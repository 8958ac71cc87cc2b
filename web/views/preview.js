// Link previews under a message (the card the server made of its first
// link), and the question asked before following a link whose text says
// something other than where it goes. Everything the page said is shown
// as text; the card's link opens in a new tab without this page.

import { h, hostOf, link, safeUrl } from "../format.js";
import { openDialog } from "./common.js";

/**
 * The card of a message's link preview.
 * @param {import("../types.js").LinkPreview} preview
 * @returns {HTMLElement | null}
 */
export function previewCard(preview) {
  const href = safeUrl(preview.url);
  if (!href) return null;
  const card = h("aside", { class: "link-preview", attrs: { "aria-label": `Link preview: ${preview.title || hostOf(href)}` } });
  const image = preview.image?.thumbnail_url || preview.image?.url;
  if (image) card.append(h("img", { attrs: { src: image, alt: "", loading: "lazy", referrerpolicy: "no-referrer" } }));
  const text = h("div", { class: "link-preview-text" });
  text.append(h("span", { class: "link-preview-site", text: preview.site_name || hostOf(href) }));
  if (preview.title) text.append(link(href, preview.title));
  if (preview.description) text.append(h("p", { class: "link-preview-description", text: preview.description }));
  card.append(text);
  return card;
}

/**
 * Whether a link's visible text names somewhere other than its target:
 * anything but the URL itself (with or without its scheme or a final
 * slash) counts.
 * @param {HTMLAnchorElement} anchor
 */
export function misleading(anchor) {
  const shown = (anchor.textContent || "").trim().replace(/\/$/, "");
  const target = anchor.href.replace(/\/$/, "");
  return shown !== target && shown !== target.replace(/^https?:\/\//, "");
}

/**
 * Makes the links inside `container` whose text differs from their target
 * ask first, showing the real destination.
 * @param {HTMLElement} container
 */
export function guardLinks(container) {
  container.addEventListener("click", (event) => {
    const anchor = /** @type {Element} */ (event.target).closest?.("a[href]");
    if (!(anchor instanceof HTMLAnchorElement) || !container.contains(anchor)) return;
    // Links inside the app (mentions, `#`) do not leave it.
    if (event.defaultPrevented || anchor.origin === location.origin) return;
    if (!/^https?:/.test(anchor.href) || !misleading(anchor)) return;
    event.preventDefault();
    confirmLeave(anchor.href);
  });
}

/**
 * Asks before leaving for `href`, saying where it goes.
 * @param {string} href
 */
function confirmLeave(href) {
  const go = h("a", {
    class: "button primary",
    text: `Open ${hostOf(href)}`,
    attrs: { href, target: "_blank", rel: "noopener noreferrer" },
  });
  const stay = h("button", { text: "Cancel", attrs: { type: "button" } });
  const dialog = openDialog("This link leaves Confab", [
    h("p", { text: "It goes to:" }),
    h("p", { class: "leave-target", text: href }),
    h("div", { class: "actions" }, stay, go),
  ]);
  dialog.classList.add("leave-dialog");
  go.addEventListener("click", () => dialog.close());
  stay.addEventListener("click", () => dialog.close());
  stay.focus();
}
