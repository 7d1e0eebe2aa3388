// Feeding a dialect's stream transformer the way an upstream does: bytes in pieces of any size.

const encoder = new TextEncoder();

/** A source that hands out `pieces` one read at a time, and records whether it was cancelled. */
export function source(
  pieces: Uint8Array[],
): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let next = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces[next++];
      if (piece === undefined) controller.close();
      else controller.enqueue(piece);
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

/** The bytes of `text` cut every `size` bytes (multi-byte characters get cut too). */
export function cut(text: string, size: number): Uint8Array[] {
  const bytes = encoder.encode(text);
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.slice(i, i + size));
  return pieces;
}
