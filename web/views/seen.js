// Read as seen: watches the message rows of the open conversation and
// moves the read marker to the newest message that was actually on
// screen while the tab was visible, a little after it was seen (so that
// scrolling through a screenful sends one marker, not one per row).

/** @typedef {import("../client.js").Client} Client */
/** @typedef {import("../types.js").Summary} Summary */

/** How long the read marker waits for more messages to be seen, in ms. */
const READ_DEBOUNCE_MS = 300;

export class SeenTracker {
  /**
   * @param {Client} client
   * @param {HTMLElement} list the scrolling list the rows are seen in
   * @param {() => Summary | null} summary the open conversation
   */
  constructor(client, list, summary) {
    this.client = client;
    this.summary = summary;
    /** @type {Set<string>} ids of the rows on screen now */
    this.visible = new Set();
    /** @type {string | null} newest message seen since the conversation opened */
    this.newest = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.observer = new IntersectionObserver((entries) => this.intersect(entries), { root: list, threshold: [0, 0.1, 0.25, 0.5, 0.75, 1] });
    document.addEventListener("visibilitychange", () => this.note());
  }

  /**
   * Watches a row; its element carries the message id in `data-row`.
   * @param {HTMLElement} row
   */
  watch(row) {
    this.observer.observe(row);
  }

  /**
   * Stops watching a row that leaves the document.
   * @param {HTMLElement} row
   */
  forget(row) {
    this.observer.unobserve(row);
    if (row.dataset.row) this.visible.delete(row.dataset.row);
  }

  /** Starts over for another conversation. */
  reset() {
    this.observer.disconnect();
    this.visible.clear();
    this.newest = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * A row counts as seen when it is wholly on screen, or covers half of
   * the list (a row taller than the list is never wholly on screen).
   * @param {IntersectionObserverEntry[]} entries
   */
  intersect(entries) {
    for (const entry of entries) {
      const id = /** @type {HTMLElement} */ (entry.target).dataset.row;
      if (!id) continue;
      const height = entry.rootBounds ? entry.rootBounds.height : 0;
      const seen = entry.isIntersecting && (entry.intersectionRatio > 0.95 || entry.intersectionRect.height >= height * 0.5);
      if (seen) this.visible.add(id);
      else this.visible.delete(id);
    }
    this.note();
  }

  /** Notes the newest message on screen and sends the read marker a little later. */
  note() {
    if (document.visibilityState !== "visible") return;
    for (const id of this.visible) if (!this.newest || id > this.newest) this.newest = id;
    if (!this.newest || this.timer) return;
    this.timer = setTimeout(() => this.send(), READ_DEBOUNCE_MS);
  }

  send() {
    this.timer = null;
    const s = this.summary();
    const newest = this.newest;
    if (!s || !newest || document.visibilityState !== "visible") return;
    if (s.last_read && s.last_read >= newest) return;
    // Nothing to clear: one's own messages need no marker.
    if (s.unread === 0 && s.last_read) return;
    this.client.markRead(s.conversation.id, newest).catch(() => {});
  }
}
