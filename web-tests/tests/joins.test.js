// Joining a group hosted on another server, with two servers that
// federate (alpha.test and beta.test, both on 127.0.0.1): the owner on
// alpha shares the group's invitation link from its settings; a user on
// beta asks to join with it; the owner sees the request arrive live and
// approves it, after which the group appears on beta and its messages
// cross. A second request is withdrawn, made again and declined, and its
// sender is told.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConfabServer, freePort } from "../lib/server.js";
import { launch, messages, openChat, problems, send, signUp } from "../lib/browser.js";
import { eventually, toBeVisible, toHaveCount } from "../lib/expect.js";

/** @type {ConfabServer} */
let alpha;
/** @type {ConfabServer} */
let beta;
/** @type {import("playwright-core").Browser} */
let browser;

/** Two distinct free ports, known before either server starts. */
async function twoPorts() {
  const first = await freePort();
  for (;;) {
    const second = await freePort();
    if (second !== first) return [first, second];
  }
}

before(async () => {
  const [alphaPort, betaPort] = await twoPorts();
  /** Federation between test hosts: private addresses, names resolved without DNS, quick retries. */
  const federation = {
    CONFAB_FEDERATION_ALLOW_PRIVATE: "true",
    CONFAB_FEDERATION_RESOLVE: "alpha.test=127.0.0.1,beta.test=127.0.0.1",
    CONFAB_FEDERATION_RETRY_BASE_S: "1",
  };
  alpha = new ConfabServer(federation, { host: "alpha.test" });
  beta = new ConfabServer(federation, { host: "beta.test" });
  await Promise.all([alpha.start(alphaPort), beta.start(betaPort)]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await alpha?.dispose();
  await beta?.dispose();
});

/** @param {import("playwright-core").Page} page @param {string} title */
function listItem(page, title) {
  return page.getByRole("list", { name: "Conversations" }).getByRole("button", { name: new RegExp(title) });
}

/** @param {import("playwright-core").Page} page */
function joinNotices(page) {
  return page.getByRole("list", { name: "Your requests to join groups" }).getByRole("listitem");
}

/**
 * Pastes an invitation link into "Join a group" and sends the request.
 * @param {import("playwright-core").Page} page
 * @param {string} link
 */
async function askToJoin(page, link) {
  await page.getByRole("button", { name: "Join a group" }).click();
  const dialog = page.getByRole("dialog", { name: "Join a group" });
  await dialog.getByLabel("Group link").fill(link);
  await dialog.getByRole("button", { name: "Ask to join" }).click();
  await toBeVisible(dialog.getByRole("status").getByText("Request sent."));
  await dialog.getByRole("button", { name: "Close" }).click();
}

test("joining a group on another server: approved, then declined", async () => {
  const ada = await signUp(browser, alpha.url, "ada", { displayName: "Ada" });
  const bob = await signUp(browser, beta.url, "bob", { displayName: "Bob" });
  const cy = await signUp(browser, beta.url, "cy", { displayName: "Cy" });

  // Ada creates a group on alpha and copies its invitation link from the settings.
  await ada.page.getByRole("button", { name: "New group" }).click();
  const create = ada.page.getByRole("dialog", { name: "New group" });
  await create.getByLabel("Group name").fill("Book club");
  await create.getByRole("button", { name: "Create group" }).click();
  await ada.page.getByRole("heading", { name: "Book club", level: 2 }).waitFor();
  await ada.page.getByRole("button", { name: "Group settings" }).click();
  const settings = ada.page.getByRole("dialog", { name: "Group settings" });
  const linkBox = settings.getByRole("textbox", { name: "Invitation link" });
  const link = await eventually(async () => {
    const value = await linkBox.inputValue();
    assert.match(value, new RegExp(`^http://alpha\\.test:${alpha.port}/groups/[0-9a-f-]{36}$`));
    return value;
  });
  await toBeVisible(settings.getByText("Nobody is waiting to join."));

  // Asking to join a group of one's own server is refused with a reason.
  await ada.page.getByRole("button", { name: "Close" }).click();
  await ada.page.getByRole("button", { name: "Join a group" }).click();
  const ownJoin = ada.page.getByRole("dialog", { name: "Join a group" });
  await ownJoin.getByLabel("Group link").fill(link);
  await ownJoin.getByRole("button", { name: "Ask to join" }).click();
  await toBeVisible(ownJoin.getByRole("alert").getByText("hosted here"));
  await ownJoin.getByRole("button", { name: "Close" }).click();
  await ada.page.getByRole("button", { name: "Group settings" }).click();
  await toBeVisible(settings.getByText("Nobody is waiting to join."));

  // Bob, on beta, pastes the link; his request waits for an admin.
  await askToJoin(bob.page, link);
  const waiting = `Asked to join “Book club” on alpha.test:${alpha.port}; waiting for an admin.`;
  await toBeVisible(joinNotices(bob.page).getByText(waiting));
  // beta keeps the request: it is still shown after a reload.
  await bob.page.reload();
  await toBeVisible(joinNotices(bob.page).getByText(waiting));

  // Ada sees it arrive in the open settings, and a badge on the group in
  // her list; she lets Bob in with write rights.
  const requests = settings.getByRole("list", { name: "Join requests" });
  await toBeVisible(requests.getByText("Bob"));
  await toBeVisible(listItem(ada.page, "Book club").getByLabel("1 asking to join"));
  await toBeVisible(settings.getByRole("heading", { name: "Join requests (1)" }));
  await requests.getByRole("combobox", { name: "Rights for Bob" }).selectOption("write");
  await requests.getByRole("button", { name: "Approve Bob" }).click();
  await toBeVisible(settings.getByText("Nobody is waiting to join."));
  await toBeVisible(settings.getByRole("list", { name: "Members" }).getByText("Bob"));
  await toHaveCount(listItem(ada.page, "Book club").getByLabel(/asking to join/), 0);
  await settings.getByRole("button", { name: "Close" }).click();

  // The group appears on beta; Bob's message reaches Ada on alpha, and back.
  await toBeVisible(listItem(bob.page, "Book club"));
  await toHaveCount(joinNotices(bob.page), 0);
  await openChat(bob.page, "Book club");
  await send(bob.page, "Hello from beta");
  await toBeVisible(messages(ada.page).getByText("Hello from beta"));
  await send(ada.page, "Welcome, Bob");
  await toBeVisible(messages(bob.page).getByText("Welcome, Bob"));

  // Bob is a member now: asking again says so.
  await bob.page.getByRole("button", { name: "Join a group" }).click();
  const again = bob.page.getByRole("dialog", { name: "Join a group" });
  await again.getByLabel("Group link").fill(link);
  await again.getByRole("button", { name: "Ask to join" }).click();
  await toBeVisible(again.getByRole("alert").getByText("You are already a member of this group."));
  await again.getByRole("button", { name: "Close" }).click();

  // Cy, also on beta, asks too; Ada declines; Cy is told and gets no group.
  await ada.page.getByRole("button", { name: "Group settings" }).click();
  await toBeVisible(settings.getByText("Nobody is waiting to join."));
  await askToJoin(cy.page, link);
  await toBeVisible(requests.getByText("Cy"));
  // Cy withdraws the request: it goes from Ada's list too. Then Cy asks again.
  await joinNotices(cy.page).getByRole("button", { name: /^Withdraw/ }).click();
  await toHaveCount(joinNotices(cy.page), 0);
  await toBeVisible(settings.getByText("Nobody is waiting to join."));
  await askToJoin(cy.page, link);
  await toBeVisible(requests.getByText("Cy"));
  await requests.getByRole("button", { name: "Decline Cy" }).click();
  await toBeVisible(settings.getByText("Nobody is waiting to join."));
  await toBeVisible(joinNotices(cy.page).getByText(`“Book club” on alpha.test:${alpha.port} declined your request to join.`));
  await toHaveCount(listItem(cy.page, "Book club"), 0);
  await toHaveCount(settings.getByRole("list", { name: "Members" }).getByText("Cy"), 0);
  await joinNotices(cy.page).getByRole("button", { name: /^Dismiss/ }).click();
  await toHaveCount(joinNotices(cy.page), 0);

  assert.deepEqual([ada, bob, cy].flatMap((p) => problems(p.page)), []);
});
