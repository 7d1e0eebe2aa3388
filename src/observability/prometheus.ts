// The gateway's Prometheus metrics: counters, gauges and histograms with bounded label cardinality,
// exposed in text format 0.0.4.
//
// Hot path: label values are resolved through a trie of Maps (one Map.get per label), so recording
// never builds a key string. Label text is escaped and rendered once, when a series is created, and
// numbers are formatted only at exposition.

/** Content-Type for {@link Registry.expose}. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Histogram bounds in seconds: from a cached reply to a long streamed completion. */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
]);

/**
 * Most label combinations one metric keeps. Past it, each new combination is folded into one
 * series whose label values are all "__overflow__", so a label fed from outside (a model name in
 * a provider's list) cannot grow memory or the scrape without limit.
 */
export const MAX_SERIES = 1000;

const OVERFLOW = "__overflow__";
const NO_LABELS: Labels = {};

/** Label values keyed by label name. */
export type Labels = Readonly<Record<string, string>>;

interface Series {
  /** Rendered `name="value",...` pairs, without braces; "" when the metric has no labels. */
  readonly pairs: string;
}

interface TrieNode<S> {
  next: Map<string, TrieNode<S>> | undefined;
  leaf: S | undefined;
}

/** Label lookup and exposition; subclasses supply the series type and its rendering. */
abstract class Metric<S extends Series> {
  readonly #header: string;
  #root: TrieNode<S> = { next: undefined, leaf: undefined };
  #series: S[] = [];
  #overflow: S | undefined;

  constructor(
    type: string,
    readonly name: string,
    help: string,
    readonly labelNames: readonly string[],
  ) {
    this.#header = `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
    // The unlabelled series exists from creation, so it is scraped as 0 before the first event.
    if (labelNames.length === 0) this.series(NO_LABELS);
  }

  /** This metric in text exposition format: HELP, TYPE, then series in insertion order. */
  render(): string {
    let out = this.#header;
    for (const series of this.#series) out += this.renderSeries(series);
    // Rendered last, which is also when it came into being: no real series is added after it.
    if (this.#overflow !== undefined) out += this.renderSeries(this.#overflow);
    return out;
  }

  protected abstract createSeries(pairs: string): S;
  protected abstract renderSeries(series: S): string;

  /** The series for a label record; throws TypeError on a missing or unexpected label. */
  protected series(labels: Labels): S {
    const names = this.labelNames;
    let node: TrieNode<S> | undefined = this.#root;
    for (let i = 0; i < names.length && node !== undefined; i++) {
      const value: string | undefined = labels[names[i]!];
      node = value === undefined ? undefined : node.next?.get(value);
    }
    // A hit proves every name is present; counting keys (no allocation) catches extras.
    if (node?.leaf !== undefined && countKeys(labels) === names.length) return node.leaf;
    return this.#add(labels);
  }

  /** Drops every series. */
  protected clear(): void {
    this.#root = { next: undefined, leaf: undefined };
    this.#series = [];
    this.#overflow = undefined;
  }

  #add(labels: Labels): S {
    const names = this.labelNames;
    for (const name of names) {
      if (labels[name] === undefined) {
        throw new TypeError(`metric "${this.name}": missing label "${name}"`);
      }
    }
    for (const key in labels) {
      if (!names.includes(key)) {
        throw new TypeError(`metric "${this.name}": unexpected label "${key}"`);
      }
    }
    if (
      this.#series.length >= MAX_SERIES ||
      // A real series spelled like the overflow one would be exposed twice with equal labels.
      (names.length > 0 && names.every((name) => labels[name] === OVERFLOW))
    ) {
      this.#overflow ??= this.createSeries(names.map((name) => `${name}="${OVERFLOW}"`).join(","));
      return this.#overflow;
    }
    const series = this.createSeries(
      names.map((name) => `${name}="${escapeLabelValue(labels[name]!)}"`).join(","),
    );
    let node = this.#root;
    for (const name of names) {
      const value = labels[name]!;
      node.next ??= new Map();
      let next = node.next.get(value);
      if (next === undefined) {
        next = { next: undefined, leaf: undefined };
        node.next.set(value, next);
      }
      node = next;
    }
    node.leaf = series;
    this.#series.push(series);
    return series;
  }
}

interface ValueSeries extends Series {
  value: number;
}

/** A monotonically increasing count; by convention its name ends in `_total`. */
export class Counter extends Metric<ValueSeries> {
  /** Prefer {@link Registry.counter}: an unregistered counter is never exposed. */
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super("counter", name, help, labelNames);
  }

  /** Adds `value` (default 1) to the series for `labels`; throws RangeError if it is negative or NaN. */
  inc(labels: Labels = NO_LABELS, value = 1): void {
    if (!(value >= 0)) {
      throw new RangeError(`counter "${this.name}": increment must be >= 0, got ${value}`);
    }
    this.series(labels).value += value;
  }

  protected createSeries(pairs: string): ValueSeries {
    return { pairs, value: 0 };
  }

  protected renderSeries(series: ValueSeries): string {
    return `${this.name}${braces(series.pairs)} ${formatNumber(series.value)}\n`;
  }
}

/** A value that goes up and down. */
export class Gauge extends Metric<ValueSeries> {
  /** Prefer {@link Registry.gauge}: an unregistered gauge is never exposed. */
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super("gauge", name, help, labelNames);
  }

  /** Sets the series for `labels`. */
  set(labels: Labels, value: number): void {
    this.series(labels).value = value;
  }

  /** Adds `value` (default 1) to the series for `labels`. */
  inc(labels: Labels = NO_LABELS, value = 1): void {
    this.series(labels).value += value;
  }

  /** Subtracts `value` (default 1) from the series for `labels`. */
  dec(labels: Labels = NO_LABELS, value = 1): void {
    this.series(labels).value -= value;
  }

  /**
   * Drops every series, the unlabelled one included, so a `beforeCollect` hook can rebuild the gauge
   * from live state without stale label sets lingering.
   */
  reset(): void {
    this.clear();
  }

  protected createSeries(pairs: string): ValueSeries {
    return { pairs, value: 0 };
  }

  protected renderSeries(series: ValueSeries): string {
    return `${this.name}${braces(series.pairs)} ${formatNumber(series.value)}\n`;
  }
}

interface HistogramSeries extends Series {
  /** Per-bucket (not cumulative) counts; the last slot is `+Inf`. */
  readonly counts: Float64Array;
  sum: number;
}

const BOUNDS = Float64Array.from(DEFAULT_BUCKETS);
const LE = DEFAULT_BUCKETS.map((bound) => `le="${formatNumber(bound)}"} `);

/** A distribution over {@link DEFAULT_BUCKETS}, exposed as cumulative `_bucket`, `_sum`, `_count`. */
export class Histogram extends Metric<HistogramSeries> {
  /** Prefer {@link Registry.histogram}: an unregistered histogram is never exposed. */
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super("histogram", name, help, labelNames);
  }

  /** Records `value` in the series for `labels`. */
  observe(labels: Labels, value: number): void {
    const series = this.series(labels);
    let lo = 0;
    let hi = BOUNDS.length;
    // First bound >= value (`le` is inclusive); NaN compares false throughout and lands in +Inf.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (value <= BOUNDS[mid]!) hi = mid;
      else lo = mid + 1;
    }
    series.counts[lo]! += 1;
    series.sum += value;
  }

  protected createSeries(pairs: string): HistogramSeries {
    return { pairs, counts: new Float64Array(BOUNDS.length + 1), sum: 0 };
  }

  protected renderSeries(series: HistogramSeries): string {
    const bucket = `${this.name}_bucket{${series.pairs === "" ? "" : `${series.pairs},`}`;
    let out = "";
    let cumulative = 0;
    for (let i = 0; i < LE.length; i++) {
      cumulative += series.counts[i]!;
      out += `${bucket}${LE[i]}${formatNumber(cumulative)}\n`;
    }
    cumulative += series.counts[LE.length]!;
    const labels = braces(series.pairs);
    out += `${bucket}le="+Inf"} ${formatNumber(cumulative)}\n`;
    out += `${this.name}_sum${labels} ${formatNumber(series.sum)}\n`;
    out += `${this.name}_count${labels} ${formatNumber(cumulative)}\n`;
    return out;
  }
}

/** Owns a set of metrics and renders them, in creation order, for a scrape. */
export class Registry {
  #metrics: Metric<Series>[] = [];
  #hooks: Array<() => void> = [];

  /** Creates and registers a counter with these label names. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#register(new Counter(name, help, labelNames));
  }

  /** Creates and registers a gauge with these label names. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#register(new Gauge(name, help, labelNames));
  }

  /** Creates and registers a histogram with these label names. */
  histogram(name: string, help: string, labelNames: readonly string[] = []): Histogram {
    return this.#register(new Histogram(name, help, labelNames));
  }

  /** Adds a callback run right before exposition (to set gauges from live state, e.g. circuit states). */
  beforeCollect(fn: () => void): void {
    this.#hooks.push(fn);
  }

  /** Prometheus text exposition format 0.0.4. */
  expose(): string {
    for (const hook of this.#hooks) hook();
    let out = "";
    for (const metric of this.#metrics) out += metric.render();
    return out;
  }

  #register<M extends Metric<Series>>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }
}

function countKeys(labels: Labels): number {
  let count = 0;
  for (const _ in labels) count++;
  return count;
}

function braces(pairs: string): string {
  return pairs === "" ? "" : `{${pairs}}`;
}

function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

function formatNumber(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  // String() already gives "NaN", integers without a decimal point, and the shortest float form.
  return String(value);
}
