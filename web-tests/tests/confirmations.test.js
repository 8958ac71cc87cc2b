// Destructive actions ask first, in an in-page dialog: blocking someone,
// removing a contact, removing a member, leaving a group and deleting it;
// cancelling changes nothing. On a phone, Block in the chat header keeps
// its text label instead of shrinking to an icon beside Profile.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer } from "../lib/server.js";
import { becomeContacts, messages, openChat, problems, signUp, startServerAndBrowser, stopServerAndBrowser } from "../lib/browser.js";
import { wsRequests } from "../lib/seed.js";
import { toBeDisabled, toBeVisible, toHaveCount } from "../lib/expect.js";

/** @type {ConfabServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => ({ server, browser } = await startServerAndBrowser()));
after(() => stopServerAndBrowser(server, browser));

test("block and remove contact ask first; on a phone Block has a text label", async () => {
  const phone = { width: 390, height: 844 };
  const ada = await signUp(browser, server.url, "ada_c", { displayName: "Ada", viewport: phone });
  const bob = await signUp(browser, server.url, "bob_c", { displayName: "Bob" });
  await becomeContacts(ada.page, bob.page, "bob_c", "Ada");
  await openChat(ada.page, "Bob");

  // The header's Block shows its word; Profile is an icon there.
  const block = ada.page.getByRole("button", { name: "Block Bob", exact: true });
  await toBeVisible(block.getByText("Block", { exact: true }));
  const profileButton = ada.page.getByRole("button", { name: "Profile of Bob", exact: true });
  assert.equal(await profileButton.getByText("Profile", { exact: true }).isVisible(), false);

  // Block asks; Cancel leaves Bob unblocked.
  await block.click();
  const askBlock = ada.page.getByRole("dialog", { name: "Block Bob?" });
  await toBeVisible(askBlock.getByRole("button", { name: "Block", exact: true }));
  await askBlock.getByRole("button", { name: "Cancel" }).click();
  await toHaveCount(ada.page.getByRole("dialog"), 0);
  await toBeDisabled(ada.page.getByRole("textbox", { name: "Message" }), false);
  await toBeVisible(ada.page.getByRole("button", { name: "Block Bob", exact: true }));

  // Remove contact, from the profile, asks too; cancelled, Bob stays.
  await profileButton.click();
  const profile = ada.page.getByRole("dialog", { name: "Bob", exact: true });
  await profile.getByRole("button", { name: "Remove contact" }).click();
  const askRemove = ada.page.getByRole("dialog", { name: "Remove Bob from your contacts?" });
  await askRemove.getByRole("button", { name: "Cancel" }).click();
  await toBeVisible(profile.getByText("In your contacts."));
  // Confirmed, he is no longer a contact.
  await profile.getByRole("button", { name: "Remove contact" }).click();
  await askRemove.getByRole("button", { name: "Remove contact" }).click();
  await toBeVisible(profile.getByRole("button", { name: "Invite as contact" }));
  await toHaveCount(profile.getByText("In your contacts."), 0);

  // Block from the profile asks as well, and then blocks.
  await profile.getByRole("button", { name: "Block", exact: true }).click();
  await ada.page.getByRole("dialog", { name: "Block Bob?" }).getByRole("button", { name: "Block", exact: true }).click();
  await toBeVisible(profile.getByText("You block this person."));
  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});

test("removing a member, leaving and deleting a group ask first", async () => {
  const ada = await signUp(browser, server.url, "ada_g", { displayName: "Ada" });
  const bob = await signUp(browser, server.url, "bob_g", { displayName: "Bob" });
  await wsRequests(ada.page, [["conversation.create", { name: "Kite club", members: ["bob_g"] }]]);
  const group = (/** @type {import("playwright-core").Page} */ page) => page.getByRole("list", { name: "Conversations" }).getByRole("button", { name: /Kite club/ });

  // Bob cancels leaving: he stays a member.
  await openChat(bob.page, "Kite club");
  await bob.page.getByRole("button", { name: "Group settings" }).click();
  const bobSettings = bob.page.getByRole("dialog", { name: "Group settings" });
  await bobSettings.getByRole("button", { name: "Leave group" }).click();
  await bob.page.getByRole("dialog", { name: "Leave this group?" }).getByRole("button", { name: "Cancel" }).click();
  await toBeVisible(bobSettings.getByText("Members (2)"));
  await bobSettings.getByRole("button", { name: "Close" }).click();

  // Ada cancels removing Bob, then deleting the group: both stay.
  await openChat(ada.page, "Kite club");
  await ada.page.getByRole("button", { name: "Group settings" }).click();
  const settings = ada.page.getByRole("dialog", { name: "Group settings" });
  await settings.getByRole("button", { name: "Remove Bob" }).click();
  await ada.page.getByRole("dialog", { name: "Remove Bob from the group?" }).getByRole("button", { name: "Cancel" }).click();
  await settings.getByRole("button", { name: "Delete group" }).click();
  await ada.page.getByRole("dialog", { name: "Delete this group and all its messages?" }).getByRole("button", { name: "Cancel" }).click();
  await toBeVisible(settings.getByText("Members (2)"));
  await settings.getByRole("button", { name: "Close" }).click();
  await toHaveCount(group(ada.page), 1);
  await toHaveCount(group(bob.page), 1);
  await toHaveCount(messages(ada.page).getByText(/removed|left/), 0);

  // Confirmed, the group is deleted for both.
  await ada.page.getByRole("button", { name: "Group settings" }).click();
  await settings.getByRole("button", { name: "Delete group" }).click();
  await ada.page.getByRole("dialog", { name: "Delete this group and all its messages?" }).getByRole("button", { name: "Delete group" }).click();
  await toHaveCount(group(ada.page), 0);
  await toHaveCount(group(bob.page), 0);
  assert.deepEqual([...problems(ada.page), ...problems(bob.page)], []);
});
