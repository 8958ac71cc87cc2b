// Safe rendering helpers. Every user-supplied string reaches the page as a
// text node or an attribute set through the DOM, never as HTML; links are
// made only for http(s) URLs.

/**
 * @typedef {object} Props
 * @property {string} [class]
 * @property {string} [text]
 * @property {Record<string, string | boolean | null | undefined>} [attrs]
 * @property {Record<string, EventListener>} [on]
 */

/**
 * Creates an element. Strings among `children` become text nodes.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {(Node | string | null | undefined | false)[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.text !== undefined) el.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? "" : value);
  }
  for (const [event, listener] of Object.entries(props.on || {})) {
    el.addEventListener(event, listener);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;

/**
 * An http(s) URL as given, or null for anything else (javascript:, data:, …).
 * @param {string} text
 * @returns {string | null}
 */
export function safeUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * The host (and port) of a URL the server gave.
 * @param {string} url
 */
export function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * A link that opens in a new tab without giving it this page.
 * @param {string} href an http(s) URL
 * @param {string} label
 */
export function link(href, label) {
  return h("a", {
    text: label,
    attrs: { href, target: "_blank", rel: "noopener noreferrer" },
  });
}

/**
 * Plain text with its http(s) URLs turned into links; the rest stays text.
 * @param {string} text
 * @returns {DocumentFragment}
 */
export function linkify(text) {
  const out = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let raw = match[0];
    // Sentence punctuation right after a URL is not part of it.
    const trimmed = raw.replace(/[.,;:!?)\]]+$/, "");
    const start = match.index ?? 0;
    raw = trimmed;
    const href = safeUrl(raw);
    if (!href) continue;
    out.append(document.createTextNode(text.slice(last, start)));
    out.append(link(href, raw));
    last = start + raw.length;
  }
  out.append(document.createTextNode(text.slice(last)));
  return out;
}

/**
 * Up to two letters standing for a name.
 * @param {string} name
 */
export function initials(name) {
  const words = name.replace(/[@._-]+/g, " ").trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0][0], words[1][0]] : [...(words[0] || "?").slice(0, 2)];
  return letters.join("").toUpperCase();
}

/** A stable hue for a string, so a person's initials keep their colour. */
/** @param {string} key */
export function hue(key) {
  let n = 0;
  for (const ch of key) n = (n * 31 + ch.charCodeAt(0)) % 360;
  return n;
}

/**
 * An avatar: the image when the URL is https (the page's CSP allows no
 * other remote images), initials otherwise or when the image fails.
 * @param {string} name
 * @param {string | null | undefined} url
 * @param {string} key
 * @param {string} [size] "s" | "m" | "l"
 */
export function avatar(name, url, key, size = "m") {
  const box = h("span", { class: `avatar avatar-${size}`, attrs: { "aria-hidden": "true" } });
  box.dataset.hue = String(hue(key) % 12);
  const fallback = () => {
    box.textContent = initials(name);
  };
  const href = url ? safeUrl(url) : null;
  if (href && href.startsWith("https:")) {
    const img = h("img", { attrs: { src: href, alt: "", loading: "lazy", referrerpolicy: "no-referrer" } });
    img.addEventListener("error", fallback, { once: true });
    box.append(img);
  } else {
    fallback();
  }
  return box;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });
const yearFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "long", year: "numeric" });
const shortDay = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });

/** @param {string} iso */
export function timeLabel(iso) {
  return timeFormat.format(new Date(iso));
}

/** @param {Date} date */
function dayKey(date) {
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

/** @param {string} iso */
export function sameDayKey(iso) {
  return dayKey(new Date(iso));
}

/**
 * "Today", "Yesterday", or the date.
 * @param {string} iso
 * @param {Date} [now]
 */
export function dayLabel(iso, now = new Date()) {
  const date = new Date(iso);
  if (dayKey(date) === dayKey(now)) return "Today";
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (dayKey(date) === dayKey(yesterday)) return "Yesterday";
  return date.getFullYear() === now.getFullYear() ? dayFormat.format(date) : yearFormat.format(date);
}

/**
 * A compact time for lists: the time today, else the date.
 * @param {string} iso
 */
export function listTime(iso) {
  const date = new Date(iso);
  return dayKey(date) === dayKey(new Date()) ? timeFormat.format(date) : shortDay.format(date);
}

/**
 * The nodes of a list that may hold gaps (for replaceChildren).
 * @param {(Node | string | null | undefined | false)[]} nodes
 * @returns {(Node | string)[]}
 */
export function present(nodes) {
  return /** @type {(Node | string)[]} */ (nodes.filter((n) => n !== null && n !== undefined && n !== false));
}
