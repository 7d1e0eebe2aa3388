// The dashboard in a real headless Chromium: signing in with the admin key, and creating and
// revoking a virtual key from the page, by keyboard alone.
import assert from "node:assert/strict";
import { SKIP_BROWSER } from "../support/browser.ts";
import { ADMIN_KEY, chat, CONFIG_KEY, textOf, until, withDashboard } from "./harness.ts";

const ignore = SKIP_BROWSER !== null;
/** playwright-core keeps the browser's pipes read between calls. */
const browserTest = { ignore, sanitizeOps: false, sanitizeResources: false };

/** Resource loads the page made that the gateway refused (expected with a wrong key). */
const REFUSED = /Failed to load resource: the server responded with a status of 40[13]/;

Deno.test({
  ...browserTest,
  name: "dashboard: without the admin key it shows a sign-in prompt and no data",
  fn: () =>
    withDashboard(async ({ gw, page, errors }) => {
      assert.equal((await chat(gw, "alpha/gpt-4o")).status, 200);
      await page.goto(`${gw.url}/ui`);
      await page.locator("#sign-in").waitFor({ state: "visible" });
      assert.equal(await page.locator("#dashboard").isVisible(), false);
      assert.equal(await page.locator("table").count(), 0);
      assert.doesNotMatch(await page.locator("body").innerText(), /alpha|gpt-4o/);

      // A wrong key and a gateway key (not an admin's) are refused, and still show nothing.
      for (
        const [key, message] of [
          ["not-the-admin-key-0123456789", /not accepted/],
          [CONFIG_KEY, /not an admin key/],
        ] as const
      ) {
        await page.locator("#admin-key").fill(key);
        await page.locator("#admin-key").press("Enter");
        await until("the refusal", async () => message.test(await textOf(page, "#sign-in-error")));
        assert.equal(await page.locator("#admin-key").getAttribute("aria-invalid"), "true");
        assert.equal(await page.locator("#dashboard").isVisible(), false);
        assert.equal(await page.evaluate(() => sessionStorage.length), 0);
      }
      assert.equal(await page.locator("table").count(), 0);

      await page.locator("#admin-key").fill(ADMIN_KEY);
      await page.locator("#admin-key").press("Enter");
      await page.locator("#dashboard").waitFor({ state: "visible" });
      // The key stays for this tab: a reload keeps the dashboard; signing out forgets it.
      await page.reload();
      await page.locator("#dashboard").waitFor({ state: "visible" });
      await page.locator("#sign-out").click();
      await page.locator("#sign-in").waitFor({ state: "visible" });
      assert.equal(await page.locator("#dashboard").isVisible(), false);
      assert.equal(await page.evaluate(() => sessionStorage.length), 0);
      assert.equal(await page.locator("#keys-body table").count(), 0);

      assert.deepEqual(errors.filter((e) => !REFUSED.test(e)), []);
    }),
});

/** Presses Tab until the focused element matches `selector`; fails after `max` presses. */
async function tabTo(
  page: import("../support/browser.ts").Page,
  selector: string,
  max = 80,
): Promise<void> {
  for (let i = 0; i < max; i++) {
    // Evaluated in the page (a string: the browser's globals are not Deno's).
    const focused = `document.activeElement === document.querySelector(${
      JSON.stringify(selector)
    })`;
    if (await page.evaluate(focused)) return;
    await page.keyboard.press("Tab");
  }
  assert.fail(`${selector}: not reached with ${max} Tab presses`);
}

Deno.test({
  ...browserTest,
  name: "dashboard: signing in, creating a key and revoking it work by keyboard alone",
  fn: () =>
    withDashboard(async ({ gw, page, errors }) => {
      await page.goto(`${gw.url}/ui`);
      await page.locator("#sign-in").waitFor({ state: "visible" });
      await tabTo(page, "#admin-key");
      await page.keyboard.type(ADMIN_KEY);
      await page.keyboard.press("Enter");
      await page.locator("#dashboard").waitFor({ state: "visible" });

      await tabTo(page, "#key-name");
      await page.keyboard.type("keyboard-team");
      await page.keyboard.press("Tab");
      await page.keyboard.type("research, batch");
      await tabTo(page, "#key-form [name=budget]");
      await page.keyboard.type("5");
      await tabTo(page, "#key-form button[type=submit]");
      await page.keyboard.press("Enter");

      // The secret is shown once, and focus moves to it.
      await page.locator("#new-key-secret").waitFor({ state: "visible" });
      assert.equal(
        await page.evaluate("document.activeElement?.id"),
        "new-key-title",
      );
      const secret = await textOf(page, "#new-key-secret");
      assert.match(secret, /^gwk_[A-Za-z0-9_-]{43}$/);
      const row = page.locator('#keys-body tr[data-key="keyboard-team"]');
      await row.waitFor();
      assert.equal(await row.getAttribute("data-status"), "active");
      assert.match(await row.innerText(), /research, batch/);
      assert.match(await row.innerText(), /\$0 of \$5\.00 \(this month\)/);
      // The list never holds a secret.
      assert.doesNotMatch(await textOf(page, "#keys-body"), /gwk_/);

      const ok = await chat(gw, "alpha/gpt-4o", secret);
      assert.equal(ok.status, 200);

      // Done hides the secret for good; then the key is revoked from its row.
      await tabTo(page, "#key-secret .actions button:last-child");
      await page.keyboard.press("Enter");
      assert.equal(await page.locator("#new-key-secret").count(), 0);
      page.once("dialog", (dialog) => dialog.accept());
      await tabTo(page, 'button[aria-label="Revoke keyboard-team"]');
      await page.keyboard.press("Enter");
      await until(
        "the key shown revoked",
        async () => await row.getAttribute("data-status") === "revoked",
      );
      const refused = await chat(gw, "alpha/gpt-4o", secret);
      assert.equal(refused.status, 401);
      assert.equal(await page.locator('button[aria-label="Revoke keyboard-team"]').count(), 0);

      assert.deepEqual(errors, []);
    }),
});

Deno.test({
  ...browserTest,
  name: "dashboard: with auth off entirely it shows the data at once, and cannot change keys",
  fn: () =>
    withDashboard(async ({ gw, page, errors }) => {
      assert.equal((await chat(gw, "alpha/gpt-4o")).status, 200);
      await page.goto(`${gw.url}/ui`);
      await page.locator('#providers-body tr[data-provider="alpha"]').waitFor();
      assert.equal(await page.locator("#sign-in").isVisible(), false);
      assert.equal(await page.locator("#sign-out").isVisible(), false);
      assert.equal(await page.locator("#key-form").isVisible(), false);
      assert.match(await textOf(page, "#keys-note"), /needs an admin key/);
      await until("the request", async () =>
        await page.locator("#requests-body tr[data-request]").count() === 1);
      assert.deepEqual(errors, []);
    }, { auth: "auth:\n  enabled: false\n" }),
});

Deno.test({
  ...browserTest,
  name: "dashboard: with auth on and no admin key it says the admin API is off",
  fn: () =>
    withDashboard(async ({ gw, page, errors }) => {
      await page.goto(`${gw.url}/ui`);
      await until("the notice", async () => /admin API is off/.test(await textOf(page, "#notice")));
      assert.equal(await page.locator("#sign-in").isVisible(), false);
      assert.equal(await page.locator("#dashboard").isVisible(), false);
      assert.deepEqual(errors, []);
    }, {
      auth: `auth:\n  enabled: true\n  keys:\n    - name: "app"\n      key: "${CONFIG_KEY}"\n`,
    }),
});
