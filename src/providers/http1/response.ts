import type { BodySource } from "./body.ts";
import type { ResponseHead } from "./head.ts";

/** A body read chunk by chunk: the `read` and `cancel` of a stream reader, without the stream. */
export interface BodyChunks {
  read(): Promise<ReadableStreamReadResult<Uint8Array<ArrayBuffer>>>;
  cancel(reason?: unknown): Promise<void>;
}

/** What a whole-body read may hold, and the error beyond it. */
export interface BodyLimit {
  bytes: number;
  error: (limit: number) => Error;
}

const decoder = new TextDecoder();

/**
 * An answer whose body is read off the connection as it is asked for: through `body` (a stream),
 * `chunks()`, or whole through `bytes()` and `text()`, once and one way. Made by
 * `Http1Client.request`.
 */
export class Http1Response {
  /** The final status (interim 1xx answers are skipped). */
  readonly status: number;
  /** Whether the status is 2xx. */
  readonly ok: boolean;
  #head: ResponseHead;
  #reader: BodySource;
  #limit: BodyLimit;
  #hasBody: boolean;
  #stream: ReadableStream<Uint8Array<ArrayBuffer>> | null = null;
  /** Set by the first read, through the stream or whole. */
  #used = false;

  constructor(head: ResponseHead, reader: BodySource, limit: BodyLimit) {
    this.status = head.status;
    this.ok = head.status >= 200 && head.status < 300;
    this.#head = head;
    this.#reader = reader;
    this.#limit = limit;
    this.#hasBody = head.framing.kind !== "none";
  }

  /** Built when first asked for: a relayed answer seldom needs more than `header`. */
  get headers(): Headers {
    return this.#head.headers;
  }

  /** One field's value (`name` in lowercase), repeated fields joined by ", "; null when absent. */
  header(name: string): string | null {
    return this.#head.get(name);
  }

  /** The body as a stream, made when first asked for; null for an answer without one (204, HEAD). */
  get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    if (!this.#hasBody) return null;
    if (this.#stream === null) {
      const reader = this.#reader;
      let started = false;
      this.#stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
        pull: async (controller) => {
          if (!started) {
            this.#claim();
            started = true;
          }
          const chunk = await reader.next();
          if (chunk === null) controller.close();
          else controller.enqueue(chunk);
        },
        cancel: () => reader.cancel(),
      }, { highWaterMark: 0 });
    }
    return this.#stream;
  }

  /** The whole body, decoded; beyond the client's `maxBodyBytes` it rejects. */
  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    this.#claim();
    return await this.#reader.all(this.#limit.bytes, this.#limit.error);
  }

  /** The whole body as UTF-8 text, within the same limit as `bytes()`. */
  async text(): Promise<string> {
    return decoder.decode(await this.bytes());
  }

  /** The body chunk by chunk, without a stream in between; done at once when there is none. */
  chunks(): BodyChunks {
    this.#claim();
    const reader = this.#reader;
    return {
      async read() {
        const value = await reader.next();
        return value === null ? { done: true, value: undefined } : { done: false, value };
      },
      cancel: () => Promise.resolve(reader.cancel()),
    };
  }

  #claim(): void {
    if (this.#used) throw new TypeError("response body already used");
    this.#used = true;
  }
}
