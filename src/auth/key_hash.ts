/**
 * SHA-256 of gateway keys. `node:crypto` is loaded on first use, so only a gateway with keys pays
 * its start-up cost. Once loaded it hashes synchronously; Web Crypto's digest would cost nothing
 * to load, but each call is a round trip through a worker thread, paid on every authenticated
 * request.
 */

/** Hashes a key's UTF-8 bytes: its 32-byte SHA-256 digest. */
export type KeyHasher = (key: string) => Uint8Array;

let loading: Promise<KeyHasher> | undefined;

/** The key hasher; the first call loads `node:crypto`, later calls share it. */
export function loadKeyHasher(): Promise<KeyHasher> {
  loading ??= import("node:crypto").then(({ createHash }) => (key: string) =>
    createHash("sha256").update(key).digest()
  );
  return loading;
}

/**
 * Whether two digests are equal, in time that depends only on their lengths: every byte is
 * compared, with no exit at the first difference.
 */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
