/**
 * The dashboard at `/ui`: one HTML page, its scripts and its style sheet, embedded in the program
 * (`src/http/ui/assets.ts`, generated from `src/http/ui/page/`) so that a compiled gateway serves
 * them offline. The page holds no data: it reads the admin API with the admin key it is given.
 */

import { GatewayError } from "../../core/errors.ts";
import type { Context, Handler } from "../context.ts";
import { isLocalClient } from "../local.ts";
import { UI_ASSETS, type UiAsset } from "../ui/assets.ts";

/** The page's path; its assets are below it (`/ui/app.js`). */
export const UI_PATH = "/ui";

/** The page loads nothing from elsewhere, and nothing may frame it. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The dashboard's handlers. */
export interface UiHandlers {
  /** `GET /ui`: the page. */
  page: Handler;
  /** Its files by path (`/ui/app.js`): scripts, the style sheet, the icon, `about.json`. */
  files: ReadonlyMap<string, Handler>;
}

/**
 * How the page reaches the admin API: with an admin key it asks for (`key`), without one
 * (`open`: auth off entirely, reads only), or not at all (`off`: no admin key with auth on).
 */
export type UiAdminMode = "key" | "open" | "off";

/**
 * Builds the handlers. `localOnly` (auth off entirely and `ui.public` false) serves the page to
 * clients on the gateway's own host only.
 */
export function uiHandlers(options: { localOnly: boolean; admin: UiAdminMode }): UiHandlers {
  // Tells the page whether to ask for an admin key, without a request that fails.
  const about = JSON.stringify({ admin: options.admin });
  const check = (ctx: Context): void => {
    if (options.localOnly && !isLocalClient(ctx)) {
      throw new GatewayError(
        "forbidden",
        "the dashboard is served to this host only while auth is off and no admin key is set; " +
          "set ui.public: true, or auth.admin_keys, to serve it to others",
      );
    }
  };
  const files = new Map<string, Handler>();
  for (const [name, asset] of Object.entries(UI_ASSETS)) {
    if (name === "index.html") continue;
    files.set(`${UI_PATH}/${name}`, function uiFile(ctx: Context): Response {
      check(ctx);
      return serve(ctx, asset);
    });
  }
  files.set(`${UI_PATH}/about.json`, function uiAbout(ctx: Context): Response {
    check(ctx);
    return new Response(about, {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  });
  return {
    page(ctx: Context): Response {
      check(ctx);
      // The page's relative links (ui/app.js, admin/stats) are resolved against /ui.
      if (ctx.path !== UI_PATH) {
        return new Response(null, { status: 308, headers: { location: UI_PATH } });
      }
      return serve(ctx, UI_ASSETS["index.html"]!);
    },
    files,
  };
}

function serve(ctx: Context, asset: UiAsset): Response {
  const headers = {
    "content-type": asset.type,
    etag: asset.etag,
    // Revalidated on each load, so a new gateway version is never mixed with old scripts.
    "cache-control": "no-cache",
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
  if (ctx.request.headers.get("if-none-match") === asset.etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(ctx.request.method === "HEAD" ? null : asset.body, { headers });
}
