import { HttpProtocolError } from "./head.ts";

/**
 * Bytes each connection reads into. A response head and a non-streamed answer of a few KB fit in
 * one read; SSE events are mostly a few hundred bytes. Each chunk leaves as a copy of its size,
 * so the buffer is the only per-connection memory that outlives a read.
 */
export const READ_BUFFER_BYTES = 8 * 1024;

/** Longest response head (status line and headers) accepted. */
export const MAX_HEAD_BYTES = 64 * 1024;

/** One upstream socket and its read buffer. */
export class Connection {
  #conn: Deno.Conn;
  #buffer = new Uint8Array(READ_BUFFER_BYTES);
  #start = 0;
  #end = 0;
  #closed = false;
  /** A read started while the connection sat in its pool, adopted by the next request. */
  #pending: Promise<boolean> | null = null;
  #parked = false;
  /** Until when the connection may sit in its pool and still be reused (performance.now()). */
  idleUntil = 0;
  /** Reads that delivered bytes: unchanged across a request means the server sent nothing. */
  received = 0;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Whether the socket was closed by this side. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Unread bytes in the buffer. */
  get available(): number {
    return this.#end - this.#start;
  }

  /** The unread bytes, without copying; valid until the next `fill`. */
  peek(): Uint8Array<ArrayBuffer> {
    return this.#buffer.subarray(this.#start, this.#end);
  }

  /** Marks `n` buffered bytes as read. */
  consume(n: number): void {
    this.#start += n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  /** Copies out and consumes up to `max` buffered bytes. */
  take(max: number): Uint8Array<ArrayBuffer> {
    const n = Math.min(max, this.available);
    const chunk = this.#buffer.slice(this.#start, this.#start + n);
    this.consume(n);
    return chunk;
  }

  /**
   * Reads more bytes into the buffer; false at the end of the stream. A full buffer is compacted,
   * or grown up to `limit` for a head or chunk-size line that does not fit.
   */
  async fill(limit = READ_BUFFER_BYTES): Promise<boolean> {
    if (this.#pending !== null) {
      const pending = this.#pending;
      this.#pending = null;
      return await pending;
    }
    if (this.#end === this.#buffer.length) {
      if (this.#start > 0) {
        this.#buffer.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      } else if (this.#buffer.length < limit) {
        const grown = new Uint8Array(Math.min(limit, this.#buffer.length * 2));
        grown.set(this.#buffer);
        this.#buffer = grown;
      } else {
        throw new HttpProtocolError(`response line or head longer than ${limit} bytes`);
      }
    }
    const n = await this.#conn.read(this.#buffer.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    this.received++;
    return true;
  }

  /** Reads straight into `target` (bypassing the buffer, which must be empty). */
  readInto(target: Uint8Array): Promise<number | null> {
    // Only body reads come here, after the head was counted in `received`.
    return this.#conn.read(target);
  }

  /** Writes all of `bytes`. */
  async write(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
  }

  /**
   * Puts the connection in its pool with a read pending, so that a server closing it while idle
   * is seen at once (the connection is closed then) instead of failing the next request after it
   * was sent. The read does not keep the process alive; the next request adopts it.
   */
  park(): void {
    // A buffer grown for a long head goes back to its usual size.
    if (this.#buffer.length > READ_BUFFER_BYTES) this.#buffer = new Uint8Array(READ_BUFFER_BYTES);
    this.#parked = true;
    this.#conn.unref();
    const read = this.fill();
    this.#pending = read;
    read.then((more) => {
      // Anything while parked (the end of the stream, or bytes nobody asked for) ends it.
      if (this.#parked) this.close();
      return more;
    }, () => this.close());
  }

  /** Takes the connection out of its pool; false when it was closed meanwhile. */
  unpark(): boolean {
    if (this.#closed) return false;
    this.#parked = false;
    this.#conn.ref();
    return true;
  }

  /** Closes the socket; pending reads and writes reject. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by a failed read or write.
    }
  }
}
