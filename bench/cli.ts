/** Command-line flags of `deno task bench`. */

/** Settings of one bench run. */
export interface BenchFlags {
  /** Seconds per wrk run. */
  duration: number;
  /** Rounds of (direct, baseline, gateway), in rotating order. */
  rounds: number;
  /** wrk connections. */
  connections: number;
  /** Seconds per soak run; 0 skips the soak. */
  soak: number;
  /** Soak runs on the same gateway, to show no growth from run to run. */
  soakRuns: number;
  /** Concurrent streams held through one gateway; 0 skips the test. */
  streams: number;
  /** Streams per contender and round in the time-to-first-chunk test. */
  latencyStreams: number;
  quick: boolean;
  /** Runs the gateway with \`storage: false\` (to compare against the default SQLite store). */
  noStore: boolean;
  /** Where the JSON report goes. */
  json: string;
  help: boolean;
}

const DEFAULTS: BenchFlags = {
  duration: 10,
  rounds: 3,
  connections: 32,
  soak: 60,
  soakRuns: 2,
  streams: 5000,
  latencyStreams: 200,
  quick: false,
  noStore: false,
  json: "bench/results/latest.json",
  help: false,
};

/** `--quick`: a smoke run that exercises every section in about three minutes. */
const QUICK: Partial<BenchFlags> = {
  duration: 2,
  rounds: 1,
  soak: 5,
  streams: 200,
  latencyStreams: 50,
};

/** Usage text. */
export const USAGE = `Usage: deno task bench [options]

Starts a mock upstream, a minimal Deno passthrough proxy (the baseline) and the gateway, loads
them with wrk and a streaming probe, and prints tables plus a JSON report.

Options:
  --duration S         seconds per wrk run (default ${DEFAULTS.duration})
  --rounds N           rounds of direct/baseline/gateway, rotating order (default ${DEFAULTS.rounds})
  --connections N      wrk connections (default ${DEFAULTS.connections})
  --soak S             seconds per soak run, 0 to skip (default ${DEFAULTS.soak})
  --soak-runs N        soak runs on the same gateway (default ${DEFAULTS.soakRuns})
  --streams N          concurrent streams through one gateway, 0 to skip (default ${DEFAULTS.streams})
  --latency-streams N  streams per contender and round for time to first chunk (default ${DEFAULTS.latencyStreams})
  --quick              smoke run: duration 2, rounds 1, soak 5, streams 200, latency-streams 50
                       (explicit flags still win)
  --no-store           the gateway with storage: false (default: its SQLite store, as shipped)
  --json PATH          JSON report (default ${DEFAULTS.json})
  -h, --help           this help
`;

const NUMERIC: Record<string, keyof BenchFlags> = {
  "--duration": "duration",
  "--rounds": "rounds",
  "--connections": "connections",
  "--soak": "soak",
  "--soak-runs": "soakRuns",
  "--streams": "streams",
  "--latency-streams": "latencyStreams",
};

/** Parses flags; `--quick` sets small defaults that explicit flags override. */
export function parseBenchFlags(args: readonly string[]): BenchFlags {
  const explicit: Partial<Record<keyof BenchFlags, number | string | boolean>> = {};
  let quick = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [name, inline] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === "") throw new Error(`${name} needs a value`);
      return v;
    };
    const key = NUMERIC[name];
    if (key !== undefined) {
      const v = value();
      const n = Number(v);
      const min = key === "soak" || key === "streams" ? 0 : 1;
      if (!Number.isInteger(n) || n < min) {
        throw new Error(`${name}: expected a whole number >= ${min}, got "${v}"`);
      }
      explicit[key] = n;
    } else if (name === "--quick") {
      quick = true;
    } else if (name === "--no-store") {
      explicit.noStore = true;
    } else if (name === "--json") {
      explicit.json = value();
    } else if (name === "-h" || name === "--help") {
      explicit.help = true;
    } else {
      throw new Error(`unknown option "${arg}" (see --help)`);
    }
  }
  return { ...DEFAULTS, ...(quick ? QUICK : {}), ...explicit, quick } as BenchFlags;
}
