import { type Connection, MAX_HEAD_BYTES } from "./connection.ts";
import { chunkSize, type Framing, HttpProtocolError } from "./head.ts";

/** Largest declared length read into one buffer allocated up front. */
const PREALLOCATE_LIMIT = 16 * 1024 * 1024;

type ChunkState = "size" | "data" | "crlf" | "trailers";

/** A response body as a response reads it: off the wire, or decoded on the way. */
export interface BodySource {
  /** The next piece of the body (never empty), or null at its end. */
  next(): Promise<Uint8Array<ArrayBuffer> | null>;
  /** Reads the rest into one array; beyond `limit` bytes it gives up with `tooLarge(limit)`. */
  all(limit: number, tooLarge: (limit: number) => Error): Promise<Uint8Array<ArrayBuffer>>;
  /** Gives the body up, closing its connection. */
  cancel(): void;
}

/**
 * Reads one response body off its connection, decoding its framing. `onEnd` runs once, when the
 * body is read to its end (`reusable` true) or given up (false).
 */
export class BodyReader implements BodySource {
  #conn: Connection;
  #framing: Framing["kind"];
  #remaining: number;
  #state: ChunkState = "size";
  /** Bytes of trailer fields read so far, capped like a head. */
  #trailers = 0;
  #done = false;
  #onEnd: (reusable: boolean) => void;
  #signal: AbortSignal;

  constructor(
    conn: Connection,
    framing: Framing,
    options: { signal: AbortSignal; onEnd: (reusable: boolean) => void },
  ) {
    this.#conn = conn;
    this.#framing = framing.kind;
    this.#remaining = framing.kind === "length" ? framing.length : 0;
    this.#signal = options.signal;
    this.#onEnd = options.onEnd;
    if (framing.kind === "none" || (framing.kind === "length" && framing.length === 0)) {
      this.#finish(true);
    }
  }

  /** The next piece of the body (a copy, never empty), or null at its end. */
  async next(): Promise<Uint8Array<ArrayBuffer> | null> {
    if (this.#done) return null;
    try {
      if (this.#framing === "chunked") return await this.#chunk();
      if (this.#framing === "length") return await this.#sized();
      return await this.#untilClose();
    } catch (err) {
      throw this.#fail(err);
    }
  }

  async all(
    limit: number,
    tooLarge: (limit: number) => Error,
  ): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#framing === "length" && !this.#done) {
      // A declared length beyond the limit is refused before a byte of it is read.
      if (this.#remaining > limit) throw this.#fail(tooLarge(limit));
      if (this.#remaining <= PREALLOCATE_LIMIT) {
        try {
          return await this.#allSized();
        } catch (err) {
          throw this.#fail(err);
        }
      }
    }
    return await readAll(this, limit, tooLarge);
  }

  /** Gives the body up: the connection is closed, since its rest was never read. */
  cancel(): void {
    if (this.#done) return;
    this.#conn.close();
    this.#finish(false);
  }

  async #sized(): Promise<Uint8Array<ArrayBuffer>> {
    await this.#need();
    const chunk = this.#conn.take(this.#remaining);
    this.#remaining -= chunk.length;
    if (this.#remaining === 0) this.#finish(true);
    return chunk;
  }

  async #allSized(): Promise<Uint8Array<ArrayBuffer>> {
    // The declared length is read straight into the result: one allocation, no chunk copies.
    const out = new Uint8Array(this.#remaining);
    const buffered = this.#conn.peek().subarray(0, out.length);
    out.set(buffered);
    this.#conn.consume(buffered.length);
    let filled = buffered.length;
    while (filled < out.length) {
      const n = await this.#conn.readInto(out.subarray(filled));
      if (n === null) throw cutShort();
      filled += n;
    }
    this.#remaining = 0;
    this.#finish(true);
    return out;
  }

  async #untilClose(): Promise<Uint8Array<ArrayBuffer> | null> {
    if (this.#conn.available === 0 && !(await this.#conn.fill())) {
      this.#finish(false);
      return null;
    }
    return this.#conn.take(this.#conn.available);
  }

  async #chunk(): Promise<Uint8Array<ArrayBuffer> | null> {
    for (;;) {
      if (this.#state === "data") {
        await this.#need();
        const chunk = this.#conn.take(this.#remaining);
        this.#remaining -= chunk.length;
        if (this.#remaining === 0) this.#state = "crlf";
        return chunk;
      }
      const line = await this.#line();
      if (this.#state === "size") {
        const size = chunkSize(line);
        if (size < 0) {
          throw new HttpProtocolError(
            `invalid chunk size line: ${JSON.stringify(line.slice(0, 40))}`,
          );
        }
        this.#state = size === 0 ? "trailers" : "data";
        this.#remaining = size;
      } else if (this.#state === "crlf") {
        if (line !== "") throw new HttpProtocolError("chunk longer than its declared size");
        this.#state = "size";
      } else if (line === "") {
        // The blank line after the (ignored) trailer fields ends the body.
        this.#finish(true);
        return null;
      } else {
        this.#trailers += line.length + 2;
        if (this.#trailers > MAX_HEAD_BYTES) {
          throw new HttpProtocolError(`chunked trailer fields longer than ${MAX_HEAD_BYTES} bytes`);
        }
      }
    }
  }

  /** Waits until at least one byte is buffered; the stream ending first cuts the body short. */
  async #need(): Promise<void> {
    if (this.#conn.available === 0 && !(await this.#conn.fill())) throw cutShort();
  }

  /** Reads one CRLF-terminated line (without the CRLF). */
  async #line(): Promise<string> {
    let scanned = 0;
    for (;;) {
      const bytes = this.#conn.peek();
      const lf = bytes.indexOf(10, scanned);
      if (lf !== -1) {
        if (lf === 0 || bytes[lf - 1] !== 13) {
          throw new HttpProtocolError("bare LF in chunked body");
        }
        let line = "";
        for (let i = 0; i < lf - 1; i++) line += String.fromCharCode(bytes[i]!);
        this.#conn.consume(lf + 1);
        return line;
      }
      scanned = bytes.length;
      if (!(await this.#conn.fill(MAX_HEAD_BYTES))) throw cutShort();
    }
  }

  #fail(err: unknown): unknown {
    this.#conn.close();
    this.#finish(false);
    return this.#signal.aborted ? this.#signal.reason : err;
  }

  #finish(reusable: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.#onEnd(reusable);
  }
}

/** Reads `source` to its end into one array, giving up once it holds more than `limit` bytes. */
export async function readAll(
  source: BodySource,
  limit: number,
  tooLarge: (limit: number) => Error,
): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for (let part = await source.next(); part !== null; part = await source.next()) {
    size += part.length;
    if (size > limit) {
      source.cancel();
      throw tooLarge(limit);
    }
    parts.push(part);
  }
  if (parts.length === 1) return parts[0]!;
  const all = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

function cutShort(): Error {
  return new HttpProtocolError("connection closed before the end of the response body");
}
