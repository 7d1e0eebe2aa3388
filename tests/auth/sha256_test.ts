import assert from "node:assert/strict";
import { constantTimeEqual, fromHex, sha256, sha256Hex, toHex } from "../../src/auth/sha256.ts";

async function webCryptoHex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

Deno.test("sha256: the FIPS 180-4 example messages", () => {
  assert.equal(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(
    sha256Hex("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

Deno.test("sha256: agrees with Web Crypto at every length around the block boundaries", async () => {
  // 55/56 and 119/120 bytes change the padding to one more block; 64 and 128 fill blocks.
  for (let length = 0; length <= 300; length++) {
    const bytes = new Uint8Array(length);
    crypto.getRandomValues(bytes);
    assert.equal(toHex(sha256(bytes)), await webCryptoHex(bytes), `length ${length}`);
  }
});

Deno.test("sha256: a string is hashed as its UTF-8 bytes", async () => {
  const key = "clé-ключ-鍵-🔑-gateway-key";
  assert.equal(sha256Hex(key), await webCryptoHex(new TextEncoder().encode(key)));
});

Deno.test("sha256: hex round trip and constant-time comparison", () => {
  const digest = sha256("sk-gateway-0123456789");
  assert.deepEqual(fromHex(toHex(digest)), digest);
  assert.equal(constantTimeEqual(digest, sha256("sk-gateway-0123456789")), true);
  assert.equal(constantTimeEqual(digest, sha256("sk-gateway-0123456780")), false);
  assert.equal(constantTimeEqual(digest, digest.subarray(0, 31)), false);
});
