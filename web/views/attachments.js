// The media a message carries, as the chat draws them: images as
// thumbnails whose box is reserved from the media's width and height (so
// the list does not move when they load), a click opening them in a
// viewer dialog (Esc closes, the arrow keys go between the message's
// images, the focus returns to the thumbnail); other files as cards with
// their type, size and a download link. Links come from the server (or,
// for remote messages, from the sender's server): only http(s) ones are
// used, and every text goes in as text.

import { h, safeUrl } from "../format.js";
import { icon } from "../icons.js";
import { openDialog } from "./common.js";

/** @typedef {import("../types.js").Media} Media */

/** The largest side of a thumbnail in the list, in CSS pixels. */
const THUMB_PX = 280;
/** The largest side of each thumbnail when a message carries several images. */
const THUMB_MANY_PX = 180;

/**
 * A size in words: "812 B", "14.2 KB", "3.1 MB".
 * @param {number} bytes
 */
export function formatBytes(bytes) {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/**
 * What a message's attachments are, in a few words, for previews and
 * quotes of a message without text: "Image", "3 files".
 * @param {Media[] | undefined} list
 */
export function describeAttachments(list) {
  if (!list || list.length === 0) return "";
  const images = list.every((m) => m.kind === "image");
  if (list.length === 1) return images ? "Image" : "File";
  return `${list.length} ${images ? "images" : "files"}`;
}

/**
 * The box a thumbnail takes: the image's proportions within `max` pixels.
 * Without known sizes (some remote media), a square.
 * @param {Media} media
 * @param {number} max
 */
function thumbSize(media, max) {
  const w = media.width || 0;
  const hgt = media.height || 0;
  if (w <= 0 || hgt <= 0) return { width: max, height: max };
  const scale = Math.min(1, max / Math.max(w, hgt));
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(hgt * scale)) };
}

/**
 * The attachments of a message, or null when it has none.
 * @param {Media[] | undefined} list
 */
export function attachmentList(list) {
  if (!list || list.length === 0) return null;
  const images = list.filter((m) => m.kind === "image" && safeUrl(m.thumbnail_url || m.url));
  const files = list.filter((m) => !images.includes(m));
  const box = h("div", { class: "attachments" });
  if (images.length) {
    const max = images.length > 1 ? THUMB_MANY_PX : THUMB_PX;
    box.append(h("div", { class: `attachment-images${images.length > 1 ? " many" : ""}` }, ...images.map((m, i) => thumbnail(images, i, max))));
  }
  for (const m of files) box.append(playable(m) || fileCard(m));
  return box;
}

/**
 * A video or audio attachment: a player on its signed link (the server
 * answers range requests, so it seeks without loading it all), above its
 * file card with the download link; null for other kinds.
 * @param {Media} media
 */
function playable(media) {
  const src = safeUrl(media.url);
  if (!src || (media.kind !== "video" && media.kind !== "audio")) return null;
  const label = media.alt_text || (media.kind === "video" ? "Video" : "Audio");
  const player = h(media.kind, { class: `attachment-${media.kind}`, attrs: { src, controls: "", preload: "metadata", "aria-label": label } });
  return h("div", { class: "attachment-player" }, player, fileCard(media));
}

/**
 * One image of a message, as a button that opens the viewer.
 * @param {Media[]} images the message's images
 * @param {number} index
 * @param {number} max
 */
function thumbnail(images, index, max) {
  const media = images[index];
  const { width, height } = thumbSize(media, max);
  const alt = media.alt_text || "";
  const img = h("img", {
    attrs: { src: safeUrl(media.thumbnail_url || media.url), alt, width: String(width), height: String(height), loading: "lazy", decoding: "async" },
  });
  const label = alt ? `View image: ${alt}` : images.length > 1 ? `View image ${index + 1} of ${images.length}` : "View image";
  const button = h("button", { class: "attachment-image", attrs: { type: "button", "aria-label": label, title: alt || "View image", "data-media": media.id } }, img);
  button.addEventListener("click", () => openViewer(images, index, button));
  return button;
}

/**
 * A file that is not shown inline: its kind, type, size and a download link.
 * @param {Media} media
 */
function fileCard(media) {
  const href = safeUrl(media.url);
  const kind = { image: "Image", video: "Video", audio: "Audio", file: "File" }[media.kind] || "File";
  const details = `${media.content_type} · ${formatBytes(media.size_bytes)}`;
  const name = media.alt_text || kind;
  return h(
    "div",
    { class: "file-card", attrs: { role: "group", "aria-label": `${kind}: ${name}` } },
    h("span", { class: "file-icon" }, icon("file")),
    h("span", { class: "file-text" }, h("strong", { text: name }), h("span", { class: "file-details", text: details })),
    href
      ? h("a", { class: "file-download", attrs: { href, download: "", rel: "noopener noreferrer", "aria-label": `Download ${name} (${details})`, title: "Download" } }, icon("download"))
      : null,
  );
}

/**
 * Shows a message's images one at a time, full size, in a dialog. Esc and
 * the close button close it; the arrow keys and buttons go to the previous
 * or next image; the focus goes back to `opener` afterwards.
 * @param {Media[]} images
 * @param {number} start
 * @param {HTMLElement} opener
 */
function openViewer(images, start, opener) {
  let index = start;
  const img = h("img", { class: "viewer-image" });
  const caption = h("figcaption", { class: "viewer-caption" });
  const position = h("span", { class: "viewer-position", attrs: { "aria-live": "polite" } });
  const prev = h("button", { class: "icon-button", attrs: { type: "button", "aria-label": "Previous image" } }, icon("back"));
  const next = h("button", { class: "icon-button", attrs: { type: "button", "aria-label": "Next image" } }, icon("forward"));
  const open = h("a", { class: "viewer-original", text: "Open original", attrs: { target: "_blank", rel: "noopener noreferrer" } });
  const nav = h("div", { class: "viewer-nav" }, prev, position, next, open);
  const dialog = openDialog("Image", [h("figure", { class: "viewer-figure" }, img, caption), nav], { wide: true });
  dialog.classList.add("viewer");

  function show() {
    const media = images[index];
    const { width, height } = thumbSize(media, 1600);
    img.setAttribute("src", safeUrl(media.url) || "");
    img.setAttribute("alt", media.alt_text || "");
    img.setAttribute("width", String(width));
    img.setAttribute("height", String(height));
    caption.textContent = media.alt_text || "";
    caption.hidden = !media.alt_text;
    position.textContent = images.length > 1 ? `${index + 1} of ${images.length}` : "";
    prev.hidden = next.hidden = images.length < 2;
    prev.disabled = index === 0;
    next.disabled = index === images.length - 1;
    open.setAttribute("href", safeUrl(media.url) || "#");
  }
  /** @param {number} step */
  function go(step) {
    const to = index + step;
    if (to < 0 || to >= images.length) return;
    index = to;
    show();
  }
  prev.addEventListener("click", () => go(-1));
  next.addEventListener("click", () => go(1));
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft") go(-1);
    else if (event.key === "ArrowRight") go(1);
    else return;
    event.preventDefault();
  });
  // The row may have been drawn again meanwhile (a read receipt, an
  // edit): then the focus goes to the same image's new button.
  dialog.addEventListener("close", () => {
    const id = opener.dataset.media;
    const target = opener.isConnected ? opener : id ? document.querySelector(`button[data-media="${CSS.escape(id)}"]`) : null;
    if (target instanceof HTMLElement) target.focus();
  });
  show();
  return dialog;
}
