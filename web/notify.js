// Notifications: the unread count in the tab title, and a browser
// notification for new messages while the tab is hidden, once the person
// has allowed them. Muted conversations stay quiet.

/**
 * @param {number} unread
 */
export function setBadge(unread) {
  document.title = unread > 0 ? `(${unread}) Confab` : "Confab";
}

/** Asks for permission; only from a click. */
export async function askPermission() {
  if (!("Notification" in window) || Notification.permission !== "default") return;
  await Notification.requestPermission();
}

/**
 * @param {string} title
 * @param {string} body
 * @param {string} tag one per conversation, so a burst shows once
 * @param {() => void} onClick
 */
export function notify(title, body, tag, onClick) {
  if (!("Notification" in window) || Notification.permission !== "granted" || document.visibilityState !== "hidden") return;
  const n = new Notification(title, { body, tag });
  n.addEventListener("click", () => {
    window.focus();
    onClick();
    n.close();
  });
}
