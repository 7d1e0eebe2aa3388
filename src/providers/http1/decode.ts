import { type BodyReader, type BodySource, readAll } from "./body.ts";
import { ResponseHead } from "./head.ts";

/**
 * A body sent with a content-encoding, decoded as it is read. Made only for such answers: the
 * request asks for `identity`, but a server may compress regardless.
 */
export class DecodedBody implements BodySource {
  #raw: BodyReader;
  #reader: ReadableStreamDefaultReader<Uint8Array<ArrayBuffer>>;

  constructor(raw: BodyReader, format: CompressionFormat) {
    this.#raw = raw;
    const encoded = new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull: async (controller) => {
        const chunk = await raw.next();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel: () => raw.cancel(),
    }, { highWaterMark: 0 });
    this.#reader = encoded.pipeThrough(new DecompressionStream(format)).getReader();
  }

  async next(): Promise<Uint8Array<ArrayBuffer> | null> {
    try {
      for (;;) {
        const { done, value } = await this.#reader.read();
        if (done) return null;
        if (value.length > 0) return value;
      }
    } catch (err) {
      // Corrupt compressed data leaves the rest of the connection unreadable.
      this.#raw.cancel();
      throw err;
    }
  }

  all(limit: number, tooLarge: (limit: number) => Error): Promise<Uint8Array<ArrayBuffer>> {
    // The limit applies to the decoded bytes: a small compressed answer may expand enormously.
    return readAll(this, limit, tooLarge);
  }

  cancel(): void {
    this.#reader.cancel().catch(() => {});
    this.#raw.cancel();
  }
}

/**
 * The decoder for a content-encoding: null for none at all, undefined for one the client cannot
 * decode (servers may send one although the request asks for `identity`).
 */
export function compressionOf(coding: string): CompressionFormat | null | undefined {
  switch (coding.trim().toLowerCase()) {
    case "identity":
    case "":
      return null;
    case "gzip":
    case "x-gzip":
      return "gzip";
    case "deflate":
      return "deflate";
    case "br":
      return "brotli";
    default:
      return undefined;
  }
}

/** `head` without the fields that described the encoded bytes, since the body is relayed decoded. */
export function withoutCoding(head: ResponseHead): ResponseHead {
  const fields = head.fields.filter(([name]) =>
    name !== "content-encoding" && name !== "content-length"
  );
  return new ResponseHead(head.status, fields, head.framing, head.keepAlive);
}
