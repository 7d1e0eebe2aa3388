/** Debounce for file events: editors write a file in several steps. */
const DEBOUNCE_MS = 200;

/** A running config watcher. */
export interface ConfigWatcher {
  close(): void;
}

/**
 * Calls `onChange` when the config file changes on disk or the process gets SIGHUP. File events
 * are debounced, and the file's directory is watched so editors that replace the file (write a
 * temporary file, rename it over) are seen too.
 */
export function watchConfig(path: string, onChange: (reason: string) => void): ConfigWatcher {
  const absolute = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  const dir = absolute.slice(0, absolute.lastIndexOf("/")) || "/";
  const name = absolute.slice(absolute.lastIndexOf("/") + 1);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watcher = Deno.watchFs(dir, { recursive: false });

  (async () => {
    try {
      for await (const event of watcher) {
        if (!event.paths.some((p) => p.endsWith(`/${name}`) || p === absolute)) continue;
        if (event.kind === "access") continue;
        clearTimeout(timer);
        timer = setTimeout(() => onChange("file changed"), DEBOUNCE_MS);
      }
    } catch {
      // The watcher was closed.
    }
  })();

  const onHangup = () => onChange("SIGHUP");
  Deno.addSignalListener("SIGHUP", onHangup);
  return {
    close() {
      clearTimeout(timer);
      Deno.removeSignalListener("SIGHUP", onHangup);
      watcher.close();
    },
  };
}
