// Notifications: the unread count in the tab title and on the tab's icon
// (a badge drawn over the favicon), a browser notification for new
// messages while the tab is hidden, and an optional sound. What is on is
// the person's choice, kept in this browser (`localStorage`
// `confab.notifications`); muting one conversation is stored by the server
// (`conversation.mute`), and muted conversations stay quiet.

const KEY = "confab.notifications";

/**
 * @typedef {object} NotificationSettings
 * @property {boolean} alerts browser notifications while the tab is hidden (once permitted)
 * @property {boolean} sound a short sound for each new message by someone else
 * @property {boolean} badge the unread count on the tab's icon
 */

/** @type {NotificationSettings} */
const DEFAULTS = { alerts: true, sound: false, badge: true };

/** @returns {NotificationSettings} */
export function settings() {
  try {
    const stored = JSON.parse(localStorage.getItem(KEY) || "{}");
    return {
      alerts: typeof stored.alerts === "boolean" ? stored.alerts : DEFAULTS.alerts,
      sound: typeof stored.sound === "boolean" ? stored.sound : DEFAULTS.sound,
      badge: typeof stored.badge === "boolean" ? stored.badge : DEFAULTS.badge,
    };
  } catch {
    return { ...DEFAULTS };
  }
}

/** @param {NotificationSettings} next */
export function saveSettings(next) {
  localStorage.setItem(KEY, JSON.stringify(next));
  setBadge(lastUnread);
}

/** Follows changes of the settings made in another tab. */
export function watchSettings() {
  window.addEventListener("storage", (event) => {
    if (event.key === KEY) setBadge(lastUnread);
  });
}

let lastUnread = 0;
/** @type {string | null} the page's own icon, restored when nothing is unread */
let plainIcon = null;
/** @type {string | null} the icon's SVG text, fetched once to draw the badge on */
let iconSvg = null;

/**
 * Shows the unread count in the title and, unless turned off, on the icon.
 * @param {number} unread
 */
export function setBadge(unread) {
  lastUnread = unread;
  document.title = unread > 0 ? `(${unread}) Confab` : "Confab";
  const link = document.querySelector("link[rel=icon]");
  if (!(link instanceof HTMLLinkElement)) return;
  plainIcon ??= link.getAttribute("href");
  if (unread === 0 || !settings().badge) {
    if (plainIcon && link.getAttribute("href") !== plainIcon) link.setAttribute("href", plainIcon);
    link.dataset.unread = "0";
    return;
  }
  drawBadge(link, unread);
}

/**
 * @param {HTMLLinkElement} link
 * @param {number} unread
 */
async function drawBadge(link, unread) {
  if (iconSvg === null && plainIcon) {
    try {
      iconSvg = await (await fetch(plainIcon)).text();
    } catch {
      return;
    }
  }
  if (unread !== lastUnread || !iconSvg) return;
  const text = unread > 99 ? "99+" : String(unread);
  const size = text.length > 2 ? 22 : text.length > 1 ? 19 : 16;
  const badge =
    `<circle cx="${64 - size}" cy="${size}" r="${size}" fill="#d93b3b"/>` +
    `<text x="${64 - size}" y="${size}" dy="0.36em" text-anchor="middle" font-family="sans-serif" font-weight="700" font-size="${text.length > 2 ? 20 : 24}" fill="#fff">${text}</text>`;
  const svg = iconSvg.replace(/<\/svg>\s*$/, `${badge}</svg>`);
  link.setAttribute("href", `data:image/svg+xml,${encodeURIComponent(svg)}`);
  link.dataset.unread = String(unread);
}

/** Asks for permission; only from a click. */
export async function askPermission() {
  if (!("Notification" in window) || Notification.permission !== "default") return;
  await Notification.requestPermission();
}

/** @type {AudioContext | null} */
let audio = null;

/**
 * Prepares the sound; browsers let a page play sound only after the person
 * interacted with it, so this runs from a click.
 */
export function unlockSound() {
  if (!("AudioContext" in window)) return;
  audio ??= new AudioContext();
  if (audio.state === "suspended") audio.resume().catch(() => {});
}

/** How many times the sound played in this page (shown as `data-chimes` on the root, for tests). */
let chimes = 0;

/** A short two-note chime, made with Web Audio (no file to load). */
export function chime() {
  if (!settings().sound || !("AudioContext" in window)) return;
  chimes += 1;
  document.documentElement.dataset.chimes = String(chimes);
  try {
    audio ??= new AudioContext();
    play(audio);
  } catch {
    // No audio output: the chime is a courtesy.
  }
}

/** @param {AudioContext} context */
function play(context) {
  const start = context.currentTime;
  for (const [i, frequency] of [880, 1320].entries()) {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.frequency.value = frequency;
    const t = start + i * 0.12;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.15, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.25);
    osc.connect(gain).connect(context.destination);
    osc.start(t);
    osc.stop(t + 0.3);
  }
}

/**
 * A browser notification, if permitted, turned on and the tab is hidden.
 * @param {string} title
 * @param {string} body
 * @param {string} tag one per conversation, so a burst shows once
 * @param {() => void} onClick
 */
export function notify(title, body, tag, onClick) {
  if (!settings().alerts) return;
  if (!("Notification" in window) || Notification.permission !== "granted" || document.visibilityState !== "hidden") return;
  const n = new Notification(title, { body, tag });
  n.addEventListener("click", () => {
    window.focus();
    onClick();
    n.close();
  });
}
