// A headless Chromium (Debian's `chromium` package) driven by playwright-core, for the dashboard's
// tests. They skip, saying why, where no Chromium is installed or it does not start.
import axe from "npm:axe-core@4.14.1";
import { type Browser, chromium, type Page } from "npm:playwright-core@1.65.1";

export type { Browser, Page };

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The browser's executable: `$CHROMIUM_PATH`, else the first one installed. */
function executable(): string | null {
  const configured = Deno.env.get("CHROMIUM_PATH");
  if (configured !== undefined && configured !== "") return configured;
  for (const path of CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not this one
    }
  }
  return null;
}

/** Starts the browser once to see that it can; the reason when it cannot. */
async function probe(): Promise<string | null> {
  const path = executable();
  if (path === null) {
    return `no Chromium at ${CANDIDATES.join(", ")} or $CHROMIUM_PATH (apt-get install chromium)`;
  }
  try {
    const browser = await launchChromium();
    await browser.close();
    return null;
  } catch (error) {
    return `${path} did not start: ${String(error).split("\n")[0]}`;
  }
}

/** Why the browser tests are skipped here, or null when they run. */
export const SKIP_BROWSER: string | null = await probe();

if (SKIP_BROWSER !== null) console.log(`dashboard browser tests skipped: ${SKIP_BROWSER}`);

/** A headless Chromium; close it when done. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: executable() ?? undefined,
    headless: true,
    // As root (CI, containers) Chromium refuses to start with its sandbox.
    chromiumSandbox: false,
    timeout: 30_000,
  });
}

/** Everything a page wrote to its console as an error, and every uncaught exception. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`exception: ${error.message}`));
  return errors;
}

/** The WCAG 2.1 A and AA rules axe-core checks: labels, names, contrast, structure. */
const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/** What axe-core finds against WCAG 2.1 AA on the page as it is now: `rule: element, ...`. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source);
  // Evaluated in the page (a string: the browser's globals are not Deno's).
  return await page.evaluate(`axe.run(document, {
    runOnly: { type: "tag", values: ${JSON.stringify(WCAG_TAGS)} },
  }).then((result) => result.violations.map((v) =>
    v.id + ": " + v.nodes.map((n) => n.target.join(" ")).slice(0, 5).join(", ")
  ))`);
}
