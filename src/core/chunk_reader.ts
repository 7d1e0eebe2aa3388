/** What the stream relay reads from: a reader's `read` and `cancel`. */
export interface ChunkSource {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
}

/**
 * Bytes of the buffer each relayed byte stream reads into. Deno's default reader allocates a
 * 64 KiB buffer for every read; with thousands of open streams those buffers (pending, or
 * pinned by a chunk not yet written to the client) were most of the gateway's memory per stream.
 * SSE events are mostly a few hundred bytes, so 4 KiB holds nearly every read whole; a larger
 * burst is relayed in several reads, with nothing lost or reordered.
 */
export const READ_BUFFER_BYTES = 4 * 1024;

/**
 * Reads a body chunk by chunk. A byte stream (a fetch body) is read into one reused buffer and
 * each chunk is copied out at its own size; any other stream (a translated SSE stream) is read
 * as it is.
 */
export function chunkReader(body: ReadableStream<Uint8Array>): ChunkSource {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    return body.getReader();
  }
  let buffer: ArrayBuffer | undefined = new ArrayBuffer(READ_BUFFER_BYTES);
  return {
    async read() {
      if (buffer === undefined) throw new TypeError("a read is already pending");
      const view = new Uint8Array(buffer);
      buffer = undefined;
      const result = await byob.read(view);
      if (result.value === undefined) return { done: true, value: undefined };
      // The read hands the buffer back (transferred); the chunk leaves as a copy of its size.
      buffer = result.value.buffer;
      if (result.done) return { done: true, value: undefined };
      return { done: false, value: result.value.slice() };
    },
    cancel: (reason) => byob.cancel(reason),
  };
}
