// Stickers: the picker the composer's sticker button opens (a dialog with
// the server's packs as tabs, each a grid of stickers; arrow keys move
// between tabs, Esc closes) and the image a `sticker` message shows in
// place of a bubble. Packs are made by admins through the REST API
// (docs/api.md, "Stickers").

import * as api from "../api.js";
import { h, safeUrl } from "../format.js";
import { openDialog } from "./common.js";

/** @typedef {import("../client.js").Client} Client */
/** @typedef {import("../types.js").Sticker} Sticker */
/** @typedef {import("../types.js").StickerPack} StickerPack */

/** The side a sticker is drawn at, in CSS pixels (at most). */
const SHOWN_SIDE = 160;

/**
 * Asks for one sticker; resolves to it, or null when dismissed.
 * @param {Client} client
 * @returns {Promise<Sticker | null>}
 */
export async function pickSticker(client) {
  /** @type {StickerPack[]} */
  const packs = (await api.stickerPacks(client.token)).filter((p) => p.stickers.length > 0);
  return new Promise((resolve) => {
    /** @type {Sticker | null} */
    let chosen = null;
    const panel = h("div", { class: "sticker-grid", attrs: { role: "tabpanel", id: "sticker-panel" } });
    const tabs = packs.map((pack, i) =>
      h("button", {
        class: "sticker-tab",
        text: pack.name,
        attrs: { type: "button", role: "tab", "aria-controls": "sticker-panel", "aria-selected": String(i === 0), tabindex: i === 0 ? "0" : "-1" },
        on: { click: () => show(i) },
      }),
    );
    const tablist = h("div", { class: "sticker-tabs", attrs: { role: "tablist", "aria-label": "Sticker packs" } }, ...tabs);
    tablist.addEventListener("keydown", (event) => {
      const at = tabs.findIndex((t) => t === document.activeElement);
      if (at < 0 || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) return;
      event.preventDefault();
      const next = (at + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length;
      show(next);
      tabs[next].focus();
    });
    const content = packs.length ? [tablist, panel] : [h("p", { class: "empty", text: "This server has no stickers yet." })];
    const dialog = openDialog("Stickers", content);
    dialog.classList.add("sticker-picker");
    dialog.addEventListener("close", () => resolve(chosen));
    if (packs.length) show(0);

    /** @param {number} index the pack to show */
    function show(index) {
      tabs.forEach((tab, i) => {
        tab.setAttribute("aria-selected", String(i === index));
        tab.tabIndex = i === index ? 0 : -1;
      });
      panel.setAttribute("aria-label", packs[index].name);
      panel.replaceChildren(...packs[index].stickers.map(choice));
      /** @type {HTMLElement | null} */ (panel.firstElementChild)?.focus();
    }

    /** @param {Sticker} sticker */
    function choice(sticker) {
      const label = `:${sticker.shortcode}:${sticker.emoji ? ` ${sticker.emoji}` : ""}`;
      return h(
        "button",
        { class: "sticker-choice", attrs: { type: "button", title: label, "aria-label": `Sticker ${label}`, "data-sticker": sticker.id }, on: { click: () => choose(sticker) } },
        h("img", { attrs: { src: safeUrl(sticker.url) || "", alt: "", loading: "lazy", decoding: "async" } }),
      );
    }

    /** @param {Sticker} sticker */
    function choose(sticker) {
      chosen = sticker;
      dialog.close();
    }
  });
}

/**
 * The image of a `sticker` message, with its shortcode as alt text.
 * @param {Sticker} sticker
 */
export function stickerImage(sticker) {
  const w = sticker.width || SHOWN_SIDE;
  const hgt = sticker.height || SHOWN_SIDE;
  const scale = Math.min(1, SHOWN_SIDE / Math.max(w, hgt));
  return h("img", {
    class: "sticker",
    attrs: {
      src: safeUrl(sticker.url) || "",
      alt: `Sticker :${sticker.shortcode}:${sticker.emoji ? ` ${sticker.emoji}` : ""}`,
      width: String(Math.round(w * scale)),
      height: String(Math.round(hgt * scale)),
      loading: "lazy",
      decoding: "async",
    },
  });
}
