/** Polls `predicate` until it holds; rejects after `timeoutMs` (default 2000) with `message`. */
export async function waitFor(
  predicate: () => boolean,
  options: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 2000);
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(options.message ?? "waitFor: condition not met in time");
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 5));
  }
}

/**
 * Fails instead of hanging when `promise` never settles (e.g. a body buffered to its end while the
 * server waits for the client). Not a timing assertion: the limit is far beyond any real run.
 */
export async function settles<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
