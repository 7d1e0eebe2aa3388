import type { Context } from "./context.ts";

/**
 * A caller on the loopback interface, not relayed by a proxy on this host (which would make
 * every caller look local).
 */
export function isLocalClient(ctx: Context): boolean {
  const addr = ctx.remoteAddr;
  if (addr !== "::1" && !addr.startsWith("127.") && !addr.startsWith("::ffff:127.")) return false;
  const headers = ctx.request.headers;
  return !headers.has("forwarded") && !headers.has("x-forwarded-for") &&
    !headers.has("x-real-ip");
}
