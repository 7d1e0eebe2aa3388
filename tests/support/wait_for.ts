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
