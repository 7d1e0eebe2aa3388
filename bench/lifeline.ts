/**
 * Lets a bench child process die with the bench: the bench spawns it with a piped stdin and
 * never writes to it, so end-of-file means the bench is gone (even after a SIGKILL, which runs
 * no cleanup), and the child exits instead of squatting on its port.
 */

/** Exits when stdin reaches end-of-file, if `BENCH_LIFELINE=1` (set by the bench only). */
export function exitWithParent(): void {
  if (Deno.env.get("BENCH_LIFELINE") !== "1") return;
  (async () => {
    const buf = new Uint8Array(64);
    try {
      while ((await Deno.stdin.read(buf)) !== null) {
        // Nothing is ever written; keep reading until the pipe closes.
      }
    } catch {
      // A broken stdin means the same thing.
    }
    Deno.exit(0);
  })();
}
