// A group of three made and managed in the UI: the owner creates it,
// names and describes it, makes one member read-only; that member sees
// the messages but cannot send (the composer is disabled and the server
// refuses a send), and gets writing back when the owner changes the rights.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { messages, openChat, problems, send, signUp, startServerAndBrowser, stopServerAndBrowser } from "../lib/browser.js";
import { toBeDisabled, toBeVisible, toHaveCount } from "../lib/expect.js";
import { rawSend } from "../lib/seed.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

test("a group of three with a read-only member", async () => {
  const ada = await signUp(browser, server.url, "ada", { displayName: "Ada" });
  const bob = await signUp(browser, server.url, "bob", { displayName: "Bob" });
  const cy = await signUp(browser, server.url, "cy", { displayName: "Cy" });

  // Ada creates the group with Bob and Cy.
  await ada.page.getByRole("button", { name: "New group" }).click();
  const create = ada.page.getByRole("dialog", { name: "New group" });
  await create.getByLabel("Group name").fill("Tea & cake");
  await create.getByLabel("Topic").fill("Fridays");
  await create.getByLabel("Members (names, separated by commas)").fill("bob, cy");
  await create.getByRole("button", { name: "Create group" }).click();
  await ada.page.getByRole("heading", { name: "Tea & cake", level: 2 }).waitFor();
  await toBeVisible(ada.page.getByText("Fridays · 3 members"));

  // Ada makes Cy read-only in the group settings.
  await ada.page.getByRole("button", { name: "Group settings" }).click();
  const settings = ada.page.getByRole("dialog", { name: "Group settings" });
  await settings.getByRole("combobox", { name: "Rights of Cy" }).selectOption("read");
  await settings.getByLabel("Group name").fill("Tea and cake");
  await settings.getByRole("button", { name: "Save" }).click();
  await settings.getByRole("button", { name: "Close" }).click();
  await toBeVisible(messages(ada.page).getByText("You renamed the group to “Tea and cake”"));
  await toBeVisible(messages(ada.page).getByText("You changed Cy’s rights to read"));

  // Cy sees the group read-only: no sending in the UI, and the server refuses.
  await openChat(cy.page, "Tea and cake");
  await toBeVisible(cy.page.getByRole("note").getByText("You can read this group but not write in it."));
  await toBeVisible(messages(cy.page).getByText("Ada changed your rights to read"));
  await toBeDisabled(cy.page.getByRole("textbox", { name: "Message" }));
  await toBeDisabled(cy.page.getByRole("button", { name: "Send" }));
  const refusal = await cy.page.evaluate(rawSend, { body: "let me in" });
  assert.equal(refusal.code, "forbidden");

  // Bob writes; Ada and Cy both read it live.
  await openChat(bob.page, "Tea and cake");
  await send(bob.page, "Cake is on me");
  await toBeVisible(messages(cy.page).getByText("Cake is on me"));
  await toBeVisible(messages(ada.page).getByText("Cake is on me"));
  await toHaveCount(messages(cy.page).getByText("let me in"), 0);

  // Given write rights back, Cy can send.
  await ada.page.getByRole("button", { name: "Group settings" }).click();
  await settings.getByRole("combobox", { name: "Rights of Cy" }).selectOption("write");
  await settings.getByRole("button", { name: "Close" }).click();
  await toBeDisabled(cy.page.getByRole("textbox", { name: "Message" }), false);
  await send(cy.page, "Thanks, I bring tea");
  await toBeVisible(messages(bob.page).getByText("Thanks, I bring tea"));

  // Ada removes Bob; he loses the group, the others see the notice.
  await ada.page.getByRole("button", { name: "Group settings" }).click();
  await settings.getByRole("button", { name: "Remove Bob" }).click();
  await ada.page.getByRole("dialog", { name: "Remove Bob from the group?" }).getByRole("button", { name: "Remove" }).click();
  await settings.getByRole("button", { name: "Close" }).click();
  await toBeVisible(messages(cy.page).getByText("Ada removed Bob"));
  await toHaveCount(bob.page.getByRole("list", { name: "Conversations" }).getByRole("button", { name: /Tea and cake/ }), 0);

  // Cy leaves; then Ada, the owner, deletes the group.
  await cy.page.getByRole("button", { name: "Group settings" }).click();
  await cy.page.getByRole("dialog", { name: "Group settings" }).getByRole("button", { name: "Leave group" }).click();
  await cy.page.getByRole("dialog", { name: "Leave this group?" }).getByRole("button", { name: "Leave" }).click();
  await toHaveCount(cy.page.getByRole("list", { name: "Conversations" }).getByRole("button", { name: /Tea and cake/ }), 0);
  await toBeVisible(messages(ada.page).getByText("Cy left the group"));
  await ada.page.getByRole("button", { name: "Group settings" }).click();
  await settings.getByRole("button", { name: "Delete group" }).click();
  await ada.page.getByRole("dialog", { name: "Delete this group and all its messages?" }).getByRole("button", { name: "Delete group" }).click();
  await toHaveCount(ada.page.getByRole("list", { name: "Conversations" }).getByRole("button", { name: /Tea and cake/ }), 0);
  assert.deepEqual([ada, bob, cy].flatMap((p) => problems(p.page)), []);
});
