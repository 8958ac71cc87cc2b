// Reports: the dialog in which a person reports a message or a user (with
// a reason, and for someone on another server whether to forward it
// there), and the moderators' queue, where open reports are read and
// resolved.

import * as api from "../api.js";
import { h, timeLabel } from "../format.js";
import { attempt, confirmAction, field, nameOf, openDialog, toast } from "./common.js";

/** @typedef {import("../client.js").Client} Client */
/** @typedef {import("../types.js").Report} Report */
/** @typedef {import("../types.js").ReportAction} ReportAction */

/** Longest reason the server takes. */
const MAX_COMMENT = 1000;

/**
 * Whether the signed-in user may work the moderators' queue.
 * @param {Client} client
 */
export function isModerator(client) {
  const role = client.store.me?.role;
  return role === "moderator" || role === "admin";
}

/**
 * Reports the user `user`, or (with `message`) that message of theirs.
 * @param {Client} client
 * @param {{user: string, message?: string}} what
 */
export function reportDialog(client, what) {
  const target = client.store.users.get(what.user);
  const remote = !!target?.domain;
  const reason = h("textarea", { attrs: { rows: "3", maxlength: String(MAX_COMMENT), required: "" } });
  const forward = h("input", { attrs: { type: "checkbox", checked: "" } });
  const error = h("p", { class: "form-error", attrs: { role: "alert" } });
  const submit = h("button", { class: "primary", text: "Send report", attrs: { type: "submit" } });
  const who = nameOf(client.store, what.user);
  const form = h(
    "form",
    { class: "report-form" },
    h("p", { class: "muted", text: what.message ? `You report a message by ${who}. Moderators of this server will read it.` : `You report ${who}. Moderators of this server will read it.` }),
    field("Reason", reason),
    remote ? h("label", { class: "check" }, forward, ` Also send it to the moderators of ${target?.domain} (without your name)`) : null,
    error,
    h("div", { class: "actions" }, submit),
  );
  const dialog = openDialog(what.message ? "Report message" : "Report user", [form]);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    /** @type {{user?: string, message_id?: string, comment: string, forward: boolean}} */
    const body = { comment: reason.value.trim(), forward: remote && forward.checked };
    if (what.message) body.message_id = what.message;
    else body.user = what.user;
    try {
      await api.report(client.token, body);
      dialog.close();
      toast("Thank you. Moderators will look at your report.");
    } catch (e) {
      error.textContent = e instanceof Error ? e.message : String(e);
    }
  });
  reason.focus();
}

/** What each action is called on its button, and its confirmation. */
const ACTIONS = /** @type {[ReportAction, string, string | null][]} */ ([
  ["none", "Dismiss", null],
  ["delete_message", "Delete message", "Delete the reported messages for everyone?"],
  ["block_instance", "Block server", "Block the reported user's server?"],
  ["suspend_user", "Suspend account", "Suspend the reported account? They can no longer log in."],
]);

/**
 * The moderators' queue: open reports, each with what was reported and
 * the ways to resolve it.
 * @param {Client} client
 */
export function moderationDialog(client) {
  const list = h("ul", { class: "report-list", attrs: { "aria-label": "Open reports" } });
  const empty = h("p", { class: "empty-note", text: "Loading…" });
  openDialog("Reports", [empty, list], { wide: true });

  async function load() {
    const open = await api.reports(client.token, "open");
    empty.textContent = open.length ? "" : "No open reports.";
    const items = await Promise.all(open.map(item));
    list.replaceChildren(...items);
  }

  /** @param {Report} report */
  async function item(report) {
    const detail = await api.reportDetail(client.token, report.id);
    const by = report.reporter ? report.reporter.display_name || report.reporter.name : `${report.origin} (another server)`;
    const target = report.target ? `${report.target.display_name || report.target.name} (@${report.target.name})` : "a deleted account";
    const tools = h("div", { class: "actions" });
    for (const [action, label, question] of ACTIONS) {
      if (action === "delete_message" && !report.message_ids.length) continue;
      if (action === "block_instance" && !report.target?.domain && !report.origin) continue;
      if (action === "suspend_user" && (!report.target || report.target.domain)) continue;
      tools.append(
        h("button", {
          class: action === "none" ? "" : "danger-outline",
          text: label,
          attrs: { type: "button", "aria-label": `${label}: report about ${target}` },
          on: {
            click: async () => {
              if (question && !(await confirmAction(question, label))) return;
              if (await attempt(() => api.resolveReport(client.token, report.id, action))) await attempt(load);
            },
          },
        }),
      );
    }
    return h(
      "li",
      { class: "report", attrs: { "aria-label": `Report about ${target}` } },
      h("p", {}, h("strong", { text: target }), h("span", { class: "muted", text: ` · reported by ${by} · ${timeLabel(report.created_at)}` })),
      h("p", { class: "report-comment", text: report.comment }),
      ...detail.messages.map((m) => h("blockquote", { class: "reported-message", text: m.deleted ? "(deleted)" : m.body })),
      tools,
    );
  }

  attempt(load);
}
