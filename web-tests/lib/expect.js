// Polling assertions in the style of Playwright's expect (playwright-core
// has none): each retries until it holds, and fails with what it last saw
// when it still does not hold after a generous limit.

import assert from "node:assert/strict";

const LIMIT_MS = 15_000;

/**
 * Retries `check` until it returns without throwing.
 * @template T
 * @param {() => Promise<T>} check
 * @returns {Promise<T>}
 */
export async function eventually(check) {
  const end = Date.now() + LIMIT_MS;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * @param {import("playwright-core").Locator} locator
 * @param {number} n
 */
export function toHaveCount(locator, n) {
  return eventually(async () => assert.equal(await locator.count(), n, `${locator} count`));
}

/**
 * @param {import("playwright-core").Locator} locator
 */
export function toBeVisible(locator) {
  return locator.first().waitFor({ state: "visible", timeout: LIMIT_MS });
}

/**
 * @param {import("playwright-core").Locator} locator
 */
export function toBeHidden(locator) {
  return locator.first().waitFor({ state: "hidden", timeout: LIMIT_MS });
}

/**
 * @param {import("playwright-core").Locator} locator
 * @param {boolean} disabled
 */
export function toBeDisabled(locator, disabled = true) {
  return eventually(async () => assert.equal(await locator.isDisabled(), disabled, `${locator} disabled`));
}
