// A raw TCP upstream that writes its answers by hand, for answers no HTTP server library sends.

const encoder = new TextEncoder();

/** Writes an answer on one connection, after the request was read. */
export type Reply = (conn: Deno.Conn) => Promise<void>;

/** A raw upstream running `reply` for every request, one request per connection. */
export function startRawUpstream(reply: Reply): { url: string; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const tasks: Promise<void>[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      tasks.push((async () => {
        try {
          await readRequest(conn);
          await reply(conn);
        } catch {
          // The gateway closed the connection (the point of several tests).
        } finally {
          conns.delete(conn);
          try {
            conn.close();
          } catch {
            // Already closed.
          }
        }
      })());
    }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    async close() {
      listener.close();
      for (const conn of conns) conn.close();
      await serving.catch(() => {});
      await Promise.all(tasks);
    },
  };
}

/** Reads one request: its head, then as many body bytes as it declares. */
/** Reads one request, head and `content-length` body. */
async function readRequest(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(65_536);
  let text = "";
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("closed before the request");
    text += new TextDecoder().decode(buffer.subarray(0, n));
    const end = text.indexOf("\r\n\r\n");
    if (end === -1) continue;
    const length = Number(/content-length: *(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
    if (encoder.encode(text.slice(end + 4)).length >= length) return;
  }
}

/** Writes all of `data`. */
export async function write(conn: Deno.Conn, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}
