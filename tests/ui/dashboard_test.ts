// The dashboard in a real headless Chromium, live: providers and traffic change as requests are
// sent, without a reload; an upstream that fails turns unhealthy and its fallback shows; the
// spend view shows what the requests cost; the screenshots in docs/screenshots/ come from here.
import assert from "node:assert/strict";
import { createKey } from "../support/admin_api.ts";
import { accessibilityViolations, type Page, SKIP_BROWSER } from "../support/browser.ts";
import { chat, signIn, textOf, until, withDashboard } from "./harness.ts";

const browserTest = {
  ignore: SKIP_BROWSER !== null,
  sanitizeOps: false,
  sanitizeResources: false,
};

const SCREENSHOTS = new URL("../../docs/screenshots/", import.meta.url);

/** A provider's row in the Providers table. */
function providerRow(page: Page, name: string) {
  return page.locator(`#providers-body tr[data-provider="${name}"]`);
}

/** The number in a provider's Requests cell. */
async function requestsOf(page: Page, name: string): Promise<number> {
  const text = await textOf(page, `#providers-body tr[data-provider="${name}"] td.requests`);
  return Number(text.replace(/[^\d]/g, ""));
}

Deno.test({
  ...browserTest,
  name: "dashboard: providers, traffic and requests follow the gateway live; a failing " +
    "upstream turns unhealthy and its fallback shows; spend shows the cost",
  fn: () =>
    withDashboard(async ({ gw, alpha, page, errors }) => {
      const team = await createKey(gw, { name: "team-a", budget: { usd: 1, period: "month" } });
      await signIn(page, gw);

      // Every provider is listed with its state.
      for (const name of ["alpha", "bravo"]) {
        const row = providerRow(page, name);
        await row.waitFor();
        assert.equal(await row.getAttribute("data-health"), "healthy");
        assert.match(await row.innerText(), /closed/);
      }
      assert.equal(await requestsOf(page, "alpha"), 0);
      const sparkBefore = await page.locator(
        '#providers-body tr[data-provider="alpha"] svg.spark',
      ).first().getAttribute("data-values");
      const trafficBefore = await page.locator("#traffic-body figure svg").getAttribute(
        "data-total",
      );
      // A reload would lose this.
      await page.evaluate("window.stillTheSamePage = true");

      for (let i = 0; i < 5; i++) assert.equal((await chat(gw, "alpha/gpt-4o")).status, 200);
      for (let i = 0; i < 2; i++) {
        assert.equal((await chat(gw, "alpha/gpt-4o", team.key)).status, 200);
      }
      await until("alpha's request count", async () => await requestsOf(page, "alpha") === 7);
      await until("alpha's sparkline", async () =>
        await page.locator('#providers-body tr[data-provider="alpha"] svg.spark').first()
          .getAttribute("data-values") !== sparkBefore);
      await until("the traffic chart", async () =>
        await page.locator("#traffic-body figure svg").getAttribute("data-total") !==
          trafficBefore);
      await until("the recent requests", async () =>
        await page.locator("#requests-body tr[data-request]").count() === 7);

      // alpha fails from now on: requests fall back to bravo, and alpha turns unhealthy.
      alpha.setDefault(() => ({ type: "error", status: 500, message: "alpha is down" }));
      for (let i = 0; i < 4; i++) {
        const res = await chat(gw, "alpha/gpt-4o");
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("x-gateway-provider"), "bravo");
      }
      await until(
        "alpha unhealthy",
        async () =>
          await providerRow(page, "alpha").getAttribute("data-health") !== "healthy",
        5_000,
      );
      assert.match(await providerRow(page, "alpha").innerText(), /open/);
      assert.match(await providerRow(page, "alpha").innerText(), /alpha is down|500/);
      assert.equal(await providerRow(page, "bravo").getAttribute("data-health"), "healthy");
      await page.locator('#traffic-body tr[data-fallback="alpha>bravo"]').waitFor({
        timeout: 5_000,
      });
      await until("a fallback path in the recent requests", async () =>
        /alpha\/gpt-4o \(HTTP 500\) → bravo\/gpt-4o/.test(await textOf(page, "#requests-body")));

      // The filter keeps only the provider chosen.
      await page.locator("#requests-filter [name=provider]").selectOption("bravo");
      await until("bravo's requests only", async () => {
        const rows = await page.locator("#requests-body tbody tr").allInnerTexts();
        return rows.length > 0 && rows.every((r) =>
          /bravo/.test(r) && !/\talpha\t/.test(r)
        );
      });

      // Spend, by provider: alpha served 7 answers at $0.007, bravo 4 at $0.0035.
      await page.locator("#spend-group").selectOption("provider");
      await until("alpha's spend", async () =>
        await textOf(page, '#spend-body tr[data-group="alpha"] .cost') === "$0.049");
      assert.equal(await textOf(page, '#spend-body tr[data-group="bravo"] .cost'), "$0.014");
      assert.equal(await textOf(page, '#spend-body [data-total="cost"] .value'), "$0.063");
      const charted = await page.locator("#spend-body figure svg").first().getAttribute(
        "data-total",
      );
      assert.ok(Math.abs(Number(charted) - 0.063) < 1e-9, `cost chart total ${charted}`);
      // The range picker: 30 days in daily buckets, the same spend.
      await page.getByLabel("Last 30 days").check();
      await until("daily buckets", async () =>
        /over 3[01] intervals/.test(
          await page.locator("#spend-body figure svg").first().getAttribute("aria-label") ?? "",
        ));
      assert.equal(await textOf(page, '#spend-body [data-total="cost"] .value'), "$0.063");
      await page.getByLabel("Last hour").check();
      await until("minute buckets", async () =>
        /over 6[01] intervals/.test(
          await page.locator("#spend-body figure svg").first().getAttribute("aria-label") ?? "",
        ));

      // The key's spend against its budget: two answers at alpha's price.
      // The key list is read every 10 s.
      await until(
        "team-a's spend",
        async () =>
          /\$0\.014 of \$1\.00/.test(await textOf(page, '#keys-body tr[data-key="team-a"]')),
        15_000,
      );

      // Config: a reload applied, then one rejected, with its error.
      assert.equal(await textOf(page, '#config-body [data-fact="generation"]'), "1");
      assert.equal(
        await textOf(page, '#config-body [data-fact="last-reload"]'),
        "none since the start",
      );
      await gw.server.reload(gw.config);
      await until("generation 2", async () =>
        await textOf(page, '#config-body [data-fact="generation"]') === "2");
      assert.match(await textOf(page, '#config-body [data-fact="last-reload"]'), /applied/);
      const rejection = "providers[1].target_url: expected an http(s) URL (config.yaml:14)";
      gw.server.rejectReload(rejection);
      await until("the rejected reload", async () =>
        /rejected/.test(await textOf(page, '#config-body [data-fact="last-reload"]')));
      assert.equal(await textOf(page, "#config-body pre"), rejection);
      assert.equal(await textOf(page, '#config-body [data-fact="generation"]'), "2");

      assert.equal(await page.evaluate("window.stillTheSamePage"), true);
      assert.deepEqual(errors, []);

      // Laptop and phone widths, light and dark: screenshots, and no WCAG 2.1 AA violation.
      await screenshots(page);
    }),
});

/** Laptop and phone widths, light and dark, of the page as it is; each checked with axe-core. */
async function screenshots(page: Page): Promise<void> {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  await page.locator("#requests-filter [name=provider]").selectOption("");
  for (const [device, width, height] of [["laptop", 1366, 850], ["phone", 390, 844]] as const) {
    await page.setViewportSize({ width, height });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.evaluate("window.scrollTo(0, 0)");
      await page.screenshot({
        path: new URL(`dashboard-${device}-${scheme}.png`, SCREENSHOTS).pathname,
        fullPage: true,
      });
      assert.deepEqual(await accessibilityViolations(page), [], `${device}, ${scheme}`);
      // Wide tables scroll in their own region; the page itself fits the width.
      assert.ok(
        await page.evaluate("document.documentElement.scrollWidth") as number <= width,
        `${device}: the page is wider than ${width} px`,
      );
    }
  }
}
