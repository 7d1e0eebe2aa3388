import type { ProviderConfig } from "../config/types.ts";

/** What a secret is replaced with. */
export const REDACTED = "[redacted]";

/** Secrets shorter than this are left alone: they would match ordinary text. */
const MIN_SECRET_LENGTH = 8;

/** Replaces every configured secret in a text bound for a client or a log. */
export type Redactor = (text: string) => string;

/**
 * Builds the redactor for the providers' secrets: their API keys and the passwords of their
 * `target_url`s, as they are and percent-encoded (an upstream may echo either form).
 */
export function createRedactor(providers: readonly ProviderConfig[]): Redactor {
  const secrets = new Set<string>();
  for (const p of providers) {
    for (const secret of [p.api_key, urlPassword(p.target_url)]) {
      if (secret === null || secret.length < MIN_SECRET_LENGTH) continue;
      secrets.add(secret);
      secrets.add(encodeURIComponent(secret));
    }
  }
  // Longest first, so that a key containing another is replaced whole.
  const list = [...secrets].sort((a, b) => b.length - a.length);
  if (list.length === 0) return (text) => text;
  return function redact(text: string): string {
    let out = text;
    for (const secret of list) {
      if (out.includes(secret)) out = out.replaceAll(secret, REDACTED);
    }
    return out;
  };
}

function urlPassword(url: string): string | null {
  try {
    return decodeURIComponent(new URL(url).password) || null;
  } catch {
    return null;
  }
}
