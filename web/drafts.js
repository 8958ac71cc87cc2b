// Half-written messages, kept per account and conversation in
// localStorage, so that switching chats or reloading the page keeps them.
// Writes are debounced (a keystroke costs no storage write) and flushed
// when the conversation changes or the page is hidden.

/** localStorage key prefix; the account id and the conversation id follow. */
const PREFIX = "confab.draft.";
/** How long typing may pause before the draft is written, in ms. */
const SAVE_DELAY_MS = 400;
/** Longest draft kept, in characters (the composer's own limit is lower). */
const MAX_CHARS = 20000;

export class Drafts {
  constructor() {
    /** @type {{key: string, text: string} | null} the write waiting for the debounce */
    this.waiting = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    addEventListener("pagehide", () => this.flush());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") this.flush();
    });
  }

  /**
   * @param {string} account
   * @param {string} conversation
   */
  static key(account, conversation) {
    return `${PREFIX}${account}.${conversation}`;
  }

  /**
   * The draft of a conversation, or "".
   * @param {string} account
   * @param {string} conversation
   */
  load(account, conversation) {
    const key = Drafts.key(account, conversation);
    if (this.waiting && this.waiting.key === key) return this.waiting.text;
    try {
      return localStorage.getItem(key) || "";
    } catch {
      return "";
    }
  }

  /**
   * Notes the composer's text; it is written a little later.
   * @param {string} account
   * @param {string} conversation
   * @param {string} text
   */
  save(account, conversation, text) {
    const key = Drafts.key(account, conversation);
    if (this.waiting && this.waiting.key !== key) this.flush();
    this.waiting = { key, text: text.slice(0, MAX_CHARS) };
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), SAVE_DELAY_MS);
  }

  /**
   * Writes (or removes, when empty) the waiting draft now.
   */
  flush() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const waiting = this.waiting;
    this.waiting = null;
    if (!waiting) return;
    try {
      if (waiting.text.trim()) localStorage.setItem(waiting.key, waiting.text);
      else localStorage.removeItem(waiting.key);
    } catch {
      // Storage full or refused: the draft lives as long as the page.
    }
  }

  /**
   * Forgets a conversation's draft (it was sent).
   * @param {string} account
   * @param {string} conversation
   */
  clear(account, conversation) {
    this.save(account, conversation, "");
    this.flush();
  }
}
