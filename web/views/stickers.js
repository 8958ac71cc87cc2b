// Stickers: the picker the composer's sticker button opens (a dialog with
// the server's packs as tabs, each a grid of stickers; arrow keys move
// between tabs, Esc closes; admins also make packs and add stickers there)
// and the image a `sticker` message shows in place of a bubble. Removing
// stickers and packs is done through the REST API (docs/api.md,
// "Stickers").

import * as api from "../api.js";
import { h, safeUrl } from "../format.js";
import { attempt, field, openDialog } from "./common.js";

/** @typedef {import("../client.js").Client} Client */
/** @typedef {import("../types.js").Sticker} Sticker */
/** @typedef {import("../types.js").StickerPack} StickerPack */

/** The side a sticker is drawn at, in CSS pixels (at most). */
const SHOWN_SIDE = 160;

/**
 * Asks for one sticker; resolves to it, or null when dismissed. Admins
 * also get forms to make a pack and to add a sticker to the pack shown.
 * @param {Client} client
 * @returns {Promise<Sticker | null>}
 */
export async function pickSticker(client) {
  const admin = client.store.me?.role === "admin";
  /** Packs to show: empty ones only to admins, who fill them. */
  const load = async () => (await api.stickerPacks(client.token)).filter((p) => admin || p.stickers.length > 0);
  /** @type {StickerPack[]} */
  let packs = await load();
  return new Promise((resolve) => {
    /** @type {Sticker | null} */
    let chosen = null;
    let current = 0;
    const body = h("div", { class: "sticker-body" });
    const dialog = openDialog("Stickers", [body]);
    dialog.classList.add("sticker-picker");
    dialog.addEventListener("close", () => resolve(chosen));
    render();

    /** Draws the tabs, the pack shown and (for admins) the forms. */
    function render() {
      body.replaceChildren();
      if (packs.length === 0) body.append(h("p", { class: "empty", text: "This server has no stickers yet." }));
      else body.append(...picker());
      if (admin) body.append(manage());
      // The first sticker has the focus (the panel is in the page now).
      /** @type {HTMLElement | null} */ (body.querySelector(".sticker-choice"))?.focus();
    }

    function picker() {
      const panel = h("div", { class: "sticker-grid", attrs: { role: "tabpanel", id: "sticker-panel" } });
      const tabs = packs.map((pack, i) =>
        h("button", {
          class: "sticker-tab",
          text: pack.name,
          attrs: { type: "button", role: "tab", "aria-controls": "sticker-panel" },
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
      show(Math.min(current, packs.length - 1));
      return [tablist, panel];

      /** @param {number} index the pack to show */
      function show(index) {
        current = index;
        tabs.forEach((tab, i) => {
          tab.setAttribute("aria-selected", String(i === index));
          tab.tabIndex = i === index ? 0 : -1;
        });
        panel.setAttribute("aria-label", packs[index].name);
        const stickers = packs[index].stickers;
        panel.replaceChildren(...(stickers.length ? stickers.map(choice) : [h("p", { class: "empty", text: "No stickers in this pack yet." })]));
        /** @type {HTMLElement | null} */ (panel.querySelector("button"))?.focus();
      }
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

    /** The admins' forms: a new pack; a sticker added to the pack shown. */
    function manage() {
      const name = h("input", { attrs: { type: "text", maxlength: "64", required: true } });
      const newPack = h("form", { class: "sticker-admin", attrs: { "aria-label": "New sticker pack" } }, field("Pack name", /** @type {HTMLInputElement} */ (name)), h("button", { class: "small", text: "Create pack", attrs: { type: "submit" } }));
      newPack.addEventListener("submit", async (event) => {
        event.preventDefault();
        const made = await attempt(() => api.createStickerPack(client.token, /** @type {HTMLInputElement} */ (name).value.trim()));
        if (made) await reload(packs.length);
      });
      const section = h("section", { class: "sticker-manage", attrs: { "aria-label": "Manage stickers" } }, h("h3", { text: "Manage stickers (admins)" }), newPack);
      const pack = packs[current];
      if (!pack) return section;
      const shortcode = /** @type {HTMLInputElement} */ (h("input", { attrs: { type: "text", maxlength: "32", pattern: "[A-Za-z0-9_]{2,32}", required: true } }));
      const emoji = /** @type {HTMLInputElement} */ (h("input", { attrs: { type: "text", maxlength: "16" } }));
      const file = /** @type {HTMLInputElement} */ (h("input", { attrs: { type: "file", accept: "image/png,image/jpeg,image/gif,image/webp", required: true } }));
      const add = h(
        "form",
        { class: "sticker-admin", attrs: { "aria-label": `Add a sticker to ${pack.name}` } },
        field("Shortcode", shortcode),
        field("Emoji (optional)", emoji),
        field("Image (at most 512 KiB, 512×512)", file),
        h("button", { class: "small", text: `Add to ${pack.name}`, attrs: { type: "submit" } }),
      );
      add.addEventListener("submit", async (event) => {
        event.preventDefault();
        const image = file.files?.[0];
        if (!image) return;
        const added = await attempt(() => api.addSticker(client.token, pack.id, shortcode.value.trim(), emoji.value.trim(), image));
        if (added) await reload(current);
      });
      section.append(add);
      return section;
    }

    /** @param {number} show the pack to show after reloading */
    async function reload(show) {
      if (!(await attempt(async () => void (packs = await load())))) return;
      current = Math.max(0, Math.min(show, packs.length - 1));
      render();
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
