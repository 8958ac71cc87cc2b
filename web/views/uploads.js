// The files waiting above the composer, and the ways they come: the
// attach button's file picker, a paste into the message box, a drop on
// the conversation. Each is uploaded as soon as it comes (POST
// /api/v1/media), shown as a card with its progress, a remove button
// (which also cancels a running upload), an alt text field (a description
// for other files, filled with the file's name, which the server does not
// keep) and, if the server refused it, the server's reason. The chat sends
// the uploaded ones with the message. Each conversation has its own tray:
// switching conversations keeps the files (running uploads go on) and
// brings them back on return, like drafts (../drafts.js), for as long as
// the page lives.

import { h, safeUrl } from "../format.js";
import { icon } from "../icons.js";
import { toast } from "./common.js";
import { formatBytes } from "./attachments.js";

/** @typedef {import("../client.js").Client} Client */
/** @typedef {import("../types.js").Media} Media */

/** Most attachments of one message (the server's limit). */
export const MAX_ATTACHMENTS = 10;
/** Longest alt text the server takes, in characters. */
const MAX_ALT_CHARS = 1500;

/**
 * @typedef {object} Upload
 * @property {File} file
 * @property {"uploading" | "done" | "failed"} state
 * @property {Media | null} media the server's answer, once uploaded
 * @property {AbortController} abort
 * @property {HTMLInputElement} alt
 * @property {HTMLElement} el
 * @property {string | null} conversation whose tray it is in
 */

/**
 * @param {Client} client
 * @param {() => void} changed called whenever an upload starts, ends or goes
 */
export function createUploads(client, changed) {
  /** @type {Map<string | null, Upload[]>} each conversation's tray */
  const trays = new Map();
  /** @type {string | null} the conversation shown */
  let shown = null;
  /** @type {Upload[]} the tray shown */
  let items = [];
  const list = h("ul", { class: "uploads", attrs: { "aria-label": "Attachments" } });
  list.hidden = true;
  const button = h("button", { class: "icon-button", attrs: { type: "button", "aria-label": "Attach files", title: "Attach files" } }, icon("attach"));
  const picker = h("input", { attrs: { type: "file", multiple: true, hidden: true, "aria-label": "Files to attach" } });
  const dropHint = h("div", { class: "drop-hint", attrs: { "aria-hidden": "true" } }, icon("attach"), h("span", { text: "Drop files to attach them" }));
  dropHint.hidden = true;
  button.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    if (picker.files) add(picker.files);
    picker.value = "";
  });

  /**
   * Starts uploading files (beyond the limit of a message, they are refused).
   * @param {Iterable<File>} files
   */
  function add(files) {
    for (const file of files) {
      if (items.length >= MAX_ATTACHMENTS) {
        toast(`A message carries at most ${MAX_ATTACHMENTS} files.`);
        break;
      }
      start(file);
    }
  }

  /** @param {File} file */
  function start(file) {
    const image = file.type.startsWith("image/");
    const name = file.name || (image ? "Pasted image" : "File");
    const alt = h("input", {
      class: "upload-alt",
      attrs: { type: "text", maxlength: String(MAX_ALT_CHARS), "aria-label": `${image ? "Alt text" : "Description"} for ${name}`, placeholder: image ? "Alt text (describe the image)" : "Description" },
    });
    if (!image) alt.value = name;
    const bar = h("progress", { attrs: { max: "100", value: "0", "aria-label": `Uploading ${name}` } });
    const status = h("span", { class: "upload-status", text: "Uploading…" });
    const preview = h("span", { class: "upload-preview" }, icon(image ? "image" : "file"));
    const remove = h("button", { class: "icon-button small", attrs: { type: "button", "aria-label": `Remove ${name}`, title: "Remove" } }, icon("close"));
    const el = h(
      "li",
      { class: "upload uploading" },
      preview,
      h("div", { class: "upload-main" }, h("div", { class: "upload-head" }, h("strong", { class: "upload-name", text: name }), h("span", { class: "upload-size", text: formatBytes(file.size) })), bar, status, alt),
      remove,
    );
    /** @type {Upload} */
    const item = { file, state: "uploading", media: null, abort: new AbortController(), alt, el, conversation: shown };
    items.push(item);
    trays.set(shown, items);
    remove.addEventListener("click", () => drop(item));
    list.append(el);
    render();
    client
      .upload(file, {
        signal: item.abort.signal,
        progress(sent, total) {
          const percent = total > 0 ? Math.min(100, Math.round((sent / total) * 100)) : 0;
          bar.value = percent;
          status.textContent = `Uploading… ${percent}%`;
        },
      })
      .then((media) => {
        item.state = "done";
        item.media = media;
        bar.value = 100;
        bar.hidden = true;
        status.textContent = "Uploaded";
        const thumb = media.kind === "image" ? safeUrl(media.thumbnail_url || "") : null;
        if (thumb) preview.replaceChildren(h("img", { attrs: { src: thumb, alt: "" } }));
      })
      .catch((/** @type {Error} */ e) => {
        if (item.abort.signal.aborted) return;
        item.state = "failed";
        bar.hidden = true;
        status.textContent = e.message;
        status.setAttribute("role", "alert");
        alt.hidden = true;
      })
      .finally(() => {
        el.classList.remove("uploading");
        el.classList.toggle("failed", item.state === "failed");
        render();
      });
  }

  /** @param {Upload} item */
  function drop(item) {
    item.abort.abort();
    const tray = (trays.get(item.conversation) || []).filter((i) => i !== item);
    trays.set(item.conversation, tray);
    if (item.conversation === shown) items = tray;
    item.el.remove();
    render();
  }

  /**
   * Shows the tray of conversation `id`; the one shown before is kept.
   * @param {string | null} id
   */
  function show(id) {
    shown = id;
    items = trays.get(id) || [];
    list.replaceChildren(...items.map((i) => i.el));
    render();
  }

  function render() {
    list.hidden = items.length === 0;
    changed();
  }

  /**
   * Takes files pasted into `input` (text pastes as usual) and dropped on
   * `area` (showing the drop hint while they are dragged over it), while
   * `open()` says files may come.
   * @param {HTMLTextAreaElement} input
   * @param {HTMLElement} area
   * @param {() => boolean} open
   */
  function accept(input, area, open) {
    input.addEventListener("paste", (event) => {
      const files = event.clipboardData ? [...event.clipboardData.files] : [];
      if (files.length === 0 || !open()) return;
      event.preventDefault();
      add(files);
    });
    /** @param {DragEvent} event */
    const carriesFiles = (event) => !!event.dataTransfer && [...event.dataTransfer.types].includes("Files");
    area.addEventListener("dragover", (event) => {
      if (!carriesFiles(event) || !open()) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
      dropHint.hidden = false;
    });
    area.addEventListener("dragleave", (event) => {
      if (!event.relatedTarget || !area.contains(/** @type {Node} */ (event.relatedTarget))) dropHint.hidden = true;
    });
    area.addEventListener("drop", (event) => {
      dropHint.hidden = true;
      if (!carriesFiles(event) || !open() || !event.dataTransfer) return;
      event.preventDefault();
      add(event.dataTransfer.files);
      input.focus();
    });
    // Files dropped anywhere else are not opened in place of the app.
    for (const type of /** @type {const} */ (["dragover", "drop"])) {
      window.addEventListener(type, (event) => {
        if (event.defaultPrevented || !carriesFiles(event) || !event.dataTransfer) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "none";
      });
    }
  }

  return {
    root: list,
    /** The paper clip that opens the file picker. */
    button,
    /** The hidden file input behind the button. */
    picker,
    /** The frame shown while files are dragged over the conversation. */
    dropHint,
    accept,
    show,
    /** Whether an upload is still running (the message waits for it). */
    busy: () => items.some((i) => i.state === "uploading"),
    /**
     * The uploaded media with their alt text, in the order added (failed
     * ones are left out: their card said why).
     * @returns {Media[]}
     */
    ready: () =>
      items.flatMap((i) => (i.state === "done" && i.media ? [{ ...i.media, alt_text: i.alt.value.trim() || null }] : [])),
    /** Empties the tray shown, cancelling its running uploads. */
    clear() {
      for (const item of items) item.abort.abort();
      items = [];
      trays.delete(shown);
      list.replaceChildren();
      render();
    },
  };
}
