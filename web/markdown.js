// The Markdown subset of messages as DOM nodes: bold, italic, strike,
// inline code, code blocks, quotes, lists and links, and the tone
// indicators that end a message. Parsed here and built with `h()`: every
// piece of the text reaches the page as a text node, links only for
// http(s) and mailto URLs, and nothing is ever parsed as HTML.

import { h, linkify } from "./format.js";

/** Quotes and lists nested deeper than this are shown as text. */
const MAX_DEPTH = 8;
/** How many closing delimiters are tried for one opening one. */
const MAX_TRIES = 16;

const FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([\w+#.-]{0,32})[ \t]*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])[ \t]+(.*)$/;
const AUTOLINK = /^<((?:https?|mailto):[^\s<>]*)>/i;

/**
 * A link target we show: an http(s) or mailto URL, normalised; else null
 * (javascript:, data:, relative, …).
 * @param {string} text
 * @returns {string | null}
 */
export function safeHref(text) {
  try {
    const url = new URL(text);
    return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * The Markdown of a message as block nodes.
 * @param {string} text
 * @returns {DocumentFragment}
 */
export function markdown(text) {
  const out = document.createDocumentFragment();
  out.append(...blocks(text.split(/\r?\n/), 0));
  return out;
}

/**
 * The text a message shows, without its markup (for previews).
 * @param {string} text
 */
export function plain(text) {
  return [...markdown(text).childNodes].map((n) => n.textContent).join(" ");
}

/**
 * @param {string[]} lines
 * @param {number} depth
 * @returns {HTMLElement[]}
 */
function blocks(lines, depth) {
  /** @type {HTMLElement[]} */
  const out = [];
  /** @type {string[]} */
  let para = [];
  const endPara = () => {
    if (para.length) out.push(h("p", {}, ...inline(para.join("\n"), 0)));
    para = [];
  };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = FENCE.exec(line);
    const nested = depth < MAX_DEPTH;
    if (fence) {
      endPara();
      const [, marks, language] = fence;
      const body = [];
      i++;
      while (i < lines.length && !closesFence(lines[i], marks)) body.push(lines[i++]);
      i++;
      const code = h("code", { text: body.join("\n") });
      if (language) code.dataset.language = language;
      out.push(h("pre", { attrs: { tabindex: "0" } }, code));
    } else if (nested && QUOTE.test(line)) {
      endPara();
      const inner = [];
      for (let m; i < lines.length && (m = QUOTE.exec(lines[i])); i++) inner.push(m[1]);
      out.push(h("blockquote", {}, ...blocks(inner, depth + 1)));
    } else if (nested && ITEM.test(line)) {
      endPara();
      i = list(lines, i, depth, out);
    } else if (!line.trim()) {
      endPara();
      i++;
    } else {
      para.push(line);
      i++;
    }
  }
  endPara();
  return out;
}

/**
 * @param {string} line
 * @param {string} marks the opening fence
 */
function closesFence(line, marks) {
  const trimmed = line.trim();
  return trimmed.length >= marks.length && [...trimmed].every((c) => c === marks[0]);
}

/**
 * A list starting at `lines[start]`: its items, with the indented lines
 * under each; returns the index after it.
 * @param {string[]} lines
 * @param {number} start
 * @param {number} depth
 * @param {HTMLElement[]} out
 */
function list(lines, start, depth, out) {
  const first = /** @type {RegExpExecArray} */ (ITEM.exec(lines[start]));
  const ordered = /\d/.test(first[2]);
  const el = ordered ? h("ol") : h("ul");
  if (ordered && parseInt(first[2], 10) !== 1) el.setAttribute("start", String(parseInt(first[2], 10)));
  let i = start;
  while (i < lines.length) {
    const m = ITEM.exec(lines[i]);
    if (!m || /\d/.test(m[2]) !== ordered) break;
    const indent = m[1].length + m[2].length + 1;
    const body = [m[3]];
    i++;
    while (i < lines.length && /^\s/.test(lines[i]) && lines[i].trim()) {
      body.push(lines[i].slice(Math.min(indent, lines[i].length - lines[i].trimStart().length)));
      i++;
    }
    const item = blocks(body, depth + 1);
    // An item holds its first line as text, not as a paragraph.
    const children = item[0]?.tagName === "P" ? [...item[0].childNodes, ...item.slice(1)] : item;
    el.append(h("li", {}, ...children));
  }
  out.push(el);
  return i;
}

/**
 * Inline Markdown as nodes; text (with its bare URLs linked) in between.
 * @param {string} text
 * @param {number} depth
 * @returns {Node[]}
 */
function inline(text, depth) {
  /** @type {Node[]} */
  const out = [];
  let buffer = "";
  const flush = () => {
    if (buffer) out.push(linkify(buffer));
    buffer = "";
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const found = depth < MAX_DEPTH ? span(text, i, depth) : null;
    if (found) {
      flush();
      out.push(found.node);
      i = found.end;
    } else if (ch === "\\" && i + 1 < text.length && /[!-/:-@[-`{-~]/.test(text[i + 1])) {
      buffer += text[i + 1];
      i += 2;
    } else {
      buffer += ch;
      i++;
    }
  }
  flush();
  return out;
}

/**
 * The span (code, emphasis, link) that starts at `text[i]`, if any.
 * @param {string} text
 * @param {number} i
 * @param {number} depth
 * @returns {{node: Node, end: number} | null}
 */
function span(text, i, depth) {
  const ch = text[i];
  if (ch === "`") return codeSpan(text, i);
  if (ch === "<") {
    const m = AUTOLINK.exec(text.slice(i, i + 2048));
    const href = m ? safeHref(m[1]) : null;
    return m && href ? { node: anchor(href, [document.createTextNode(m[1])]), end: i + m[0].length } : null;
  }
  if (ch === "[" || (ch === "!" && text[i + 1] === "[")) return linkSpan(text, ch === "!" ? i + 1 : i, depth);
  for (const [marks, tag] of /** @type {const} */ ([["**", "strong"], ["__", "strong"], ["~~", "del"], ["*", "em"], ["_", "em"]])) {
    if (!text.startsWith(marks, i)) continue;
    // `_` emphasis does not start or end inside a word.
    if (marks[0] === "_" && /\w/.test(text[i - 1] || "")) return null;
    const end = closing(text, i + marks.length, marks);
    if (end < 0) continue;
    const node = h(tag, {}, ...inline(text.slice(i + marks.length, end), depth + 1));
    return { node, end: end + marks.length };
  }
  return null;
}

/**
 * Where the delimiter `marks` that closes a span opened before `from` is,
 * or -1: the content is not empty and neither starts nor ends with space.
 * @param {string} text
 * @param {number} from
 * @param {string} marks
 */
function closing(text, from, marks) {
  if (/\s/.test(text[from] || " ")) return -1;
  let at = from;
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    at = text.indexOf(marks, at + 1);
    if (at < 0) return -1;
    const escaped = text[at - 1] === "\\";
    const doubled = marks.length === 1 && (text[at + 1] === marks || text[at - 1] === marks);
    const wordy = marks[0] === "_" && /\w/.test(text[at + marks.length] || "");
    if (!escaped && !doubled && !wordy && !/\s/.test(text[at - 1])) return at;
  }
  return -1;
}

/**
 * @param {string} text
 * @param {number} i
 * @returns {{node: Node, end: number}}
 */
function codeSpan(text, i) {
  let n = 0;
  while (text[i + n] === "`") n++;
  const fence = "`".repeat(n);
  let at = i + n;
  for (;;) {
    at = text.indexOf(fence, at);
    if (at < 0) return { node: document.createTextNode(fence), end: i + n };
    if (text[at + n] !== "`") break;
    while (text[at] === "`") at++;
  }
  let code = text.slice(i + n, at).replace(/\n/g, " ");
  if (code.length > 2 && code.startsWith(" ") && code.endsWith(" ") && code.trim()) code = code.slice(1, -1);
  return { node: h("code", { text: code }), end: at + n };
}

/**
 * `[label](target)`; a target we do not link keeps the label as text.
 * @param {string} text
 * @param {number} i at the `[`
 * @param {number} depth
 * @returns {{node: Node, end: number} | null}
 */
function linkSpan(text, i, depth) {
  let level = 0;
  let close = -1;
  for (let j = i; j < text.length && j < i + 1024; j++) {
    if (text[j] === "\\") j++;
    else if (text[j] === "[") level++;
    else if (text[j] === "]" && --level === 0) {
      close = j;
      break;
    }
  }
  if (close < 0 || text[close + 1] !== "(") return null;
  const rest = text.slice(close + 2, close + 2 + 2048);
  const m = /^[ \t]*(?:<([^<>\n]*)>|([^\s()]*(?:\([^\s()]*\)[^\s()]*)*))(?:[ \t]+(?:"[^"]*"|'[^']*'|\([^)]*\)))?[ \t]*\)/.exec(rest);
  if (!m) return null;
  const label = inline(text.slice(i + 1, close), depth + 1);
  const href = safeHref(m[1] ?? m[2]);
  const end = close + 2 + m[0].length;
  const node = href ? anchor(href, label) : h("span", {}, ...label);
  return { node, end };
}

/**
 * A link that opens in a new tab without giving it this page.
 * @param {string} href
 * @param {Node[]} label
 */
function anchor(href, label) {
  // A link inside a label would nest links: keep only its text.
  const text = label.map((n) => (n instanceof HTMLAnchorElement ? document.createTextNode(n.textContent || "") : n));
  return h("a", { attrs: { href, target: "_blank", rel: "nofollow noopener noreferrer" } }, ...text);
}

/**
 * Tone indicators, from the list published at https://toneindicators.carrd.co
 * (the one most tone-indicator guides copy).
 * @type {Record<string, string>}
 */
export const TONES = {
  j: "joking",
  hj: "half-joking",
  s: "sarcastic",
  sarc: "sarcastic",
  srs: "serious",
  nsrs: "not serious",
  lh: "light-hearted",
  g: "genuine",
  gen: "genuine",
  genq: "genuine question",
  pos: "positive connotation",
  pc: "positive connotation",
  neg: "negative connotation",
  nc: "negative connotation",
  neu: "neutral connotation",
  nm: "not mad",
  nbh: "nobody here",
  nay: "not at you",
  ay: "at you",
  nbr: "not being rude",
  t: "teasing",
  rh: "rhetorical",
  rt: "rhetorical",
  p: "platonic",
  r: "romantic",
  c: "copypasta",
  l: "lyrics",
  ly: "lyrics",
  ref: "reference",
  q: "quote",
  ot: "off topic",
  th: "threat",
  cb: "clickbait",
  f: "fake",
  m: "metaphorically",
  li: "literally",
  hyp: "hyperbole",
  ex: "exaggeration",
  sx: "sexual intent",
  nsx: "non-sexual intent",
  x: "sexual intent",
  ij: "inside joke",
  mj: "mean joke",
  op: "opinion",
  pf: "playful",
};

const TRAILING_TONE = /(^|\s)\/([a-z]{1,4})\s*$/i;

/**
 * The tone indicators a message ends with (one or more, each after a
 * space), and the text before them.
 * @param {string} text
 * @returns {{text: string, tones: string[]}}
 */
export function tones(text) {
  /** @type {string[]} */
  const found = [];
  let rest = text;
  for (let m; found.length < 8 && (m = TRAILING_TONE.exec(rest)) && TONES[m[2].toLowerCase()]; ) {
    found.unshift(m[2].toLowerCase());
    rest = rest.slice(0, m.index + m[1].length).trimEnd();
  }
  return { text: found.length ? rest : text, tones: found };
}

/**
 * A message's body: its Markdown, then its tone indicators as labelled
 * tags ("/j" with "joking" as its title and spoken name).
 * @param {string} text
 * @returns {DocumentFragment}
 */
export function messageBody(text) {
  const parsed = tones(text);
  const out = markdown(parsed.text);
  if (parsed.tones.length) {
    const tags = parsed.tones.map((t) =>
      h("span", { class: "tone", attrs: { title: TONES[t] } }, `/${t}`, h("span", { class: "visually-hidden", text: ` (${TONES[t]})` })),
    );
    out.append(h("p", { class: "tones" }, ...tags));
  }
  return out;
}
