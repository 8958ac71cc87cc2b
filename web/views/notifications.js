// The notification settings: browser notifications, the sound and the
// icon badge for this browser, and a note on muting one conversation
// (the bell in its header, stored by the server).

import { h } from "../format.js";
import { askPermission, chime, saveSettings, settings, unlockSound } from "../notify.js";
import { openDialog } from "./common.js";

/**
 * A checkbox with its label.
 * @param {string} label
 * @param {boolean} checked
 * @param {string} [hint]
 */
function checkbox(label, checked, hint = "") {
  const input = h("input", { attrs: { type: "checkbox" } });
  input.checked = checked;
  const row = h("label", { class: "check" }, input, h("span", {}, label, hint ? h("small", { class: "muted hint", text: hint }) : null));
  return { input, row };
}

export function notificationSettingsDialog() {
  const now = settings();
  const supported = "Notification" in window;
  const alerts = checkbox("Show a notification for new messages while Confab is in the background", now.alerts && supported);
  const sound = checkbox("Play a sound for new messages", now.sound, "Not for muted conversations or the one you are reading.");
  const badge = checkbox("Show the unread count on the tab's icon", now.badge);
  const permission = h("p", { class: "muted", attrs: { role: "status" } });
  alerts.input.disabled = !supported;

  function renderPermission() {
    if (!supported) permission.textContent = "This browser cannot show notifications.";
    else if (Notification.permission === "denied") permission.textContent = "The browser blocks notifications from this site; allow them in its site settings.";
    else if (Notification.permission === "default" && alerts.input.checked) permission.textContent = "The browser will ask you to allow notifications.";
    else permission.textContent = "";
  }

  function save() {
    saveSettings({ alerts: alerts.input.checked, sound: sound.input.checked, badge: badge.input.checked });
    renderPermission();
  }
  alerts.input.addEventListener("change", async () => {
    save();
    if (alerts.input.checked) await askPermission();
    renderPermission();
  });
  sound.input.addEventListener("change", () => {
    save();
    if (sound.input.checked) {
      unlockSound();
      chime();
    }
  });
  badge.input.addEventListener("change", save);
  renderPermission();
  openDialog("Notifications", [
    h("fieldset", {}, h("legend", { text: "In this browser" }), alerts.row, permission, sound.row, badge.row),
    h("p", { class: "muted", text: "To silence one conversation, use the bell in its header: a muted conversation raises no notification or sound, and its unread count leaves the total." }),
  ]);
}
