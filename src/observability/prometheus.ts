// A dependency-free Prometheus client: counters, gauges and histograms with bounded label
// cardinality, exposed in text format 0.0.4.
//
// Hot path: label values are resolved through a trie of Maps (one Map.get per label), so recording
// never builds a key string; a child from `labels(...)` skips even that. Label text is escaped and
// rendered once, when a series is created, and numbers are formatted only at exposition.

/** Content-Type for {@link Registry.expose}. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Default histogram bounds in seconds: from a cached reply to a long streamed completion. */
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

/** Default cap on the label combinations one metric keeps. */
export const DEFAULT_MAX_SERIES = 1000;

/** The value of every label on the series that over-cap label combinations fold into. */
export const OVERFLOW_LABEL_VALUE = "__overflow__";

/** Label values keyed by label name. */
export type Labels = Readonly<Record<string, string>>;

/** Options every metric type accepts. */
export interface MetricOptions {
  /** Label names, in the order `labels(...values)` takes their values. */
  labelNames?: readonly string[];
  /**
   * Most label combinations kept (default 1000). Past it, each new combination is folded into one
   * series whose label values are all "__overflow__", so an unbounded label (a user id, a raw path)
   * cannot grow memory or the scrape without limit: a metric has at most `maxSeries + 1` series.
   */
  maxSeries?: number;
}

/** Options for a histogram. */
export interface HistogramOptions extends MetricOptions {
  /** Inclusive upper bounds; sorted for you, `+Inf` is implicit. Default {@link DEFAULT_BUCKETS}. */
  buckets?: readonly number[];
}

/** A counter series with fixed label values; hold it on hot paths to skip the label lookup. */
export interface CounterChild {
  /** Adds `value` (default 1); throws RangeError if it is negative or NaN. */
  inc(value?: number): void;
}

/** A gauge series with fixed label values; hold it on hot paths to skip the label lookup. */
export interface GaugeChild {
  /** Sets the value. */
  set(value: number): void;
  /** Adds `value` (default 1). */
  inc(value?: number): void;
  /** Subtracts `value` (default 1). */
  dec(value?: number): void;
}

/** A histogram series with fixed label values; hold it on hot paths to skip the label lookup. */
export interface HistogramChild {
  /** Records one observation. */
  observe(value: number): void;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
// Stricter than metric names: the data model forbids ':' in label names.
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface Series {
  /** Rendered `name="value",...` pairs, without braces; "" when the metric has no labels. */
  readonly pairs: string;
}

interface TrieNode<S> {
  next: Map<string, TrieNode<S>> | undefined;
  leaf: S | undefined;
}

/** Shared label handling and exposition; subclasses supply the series type and its rendering. */
abstract class Metric<S extends Series> {
  /** Metric name as exposed. */
  readonly name: string;
  /** Label names in positional order. */
  readonly labelNames: readonly string[];
  readonly #header: string;
  readonly #maxSeries: number;
  #root: TrieNode<S> = { next: undefined, leaf: undefined };
  #series: S[] = [];
  #overflow: S | undefined;

  constructor(type: string, name: string, help: string, options: MetricOptions) {
    if (!METRIC_NAME.test(name)) {
      throw new TypeError(`metric name "${name}": must match ${METRIC_NAME.source}`);
    }
    const labelNames = [...(options.labelNames ?? [])];
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith("__")) {
        throw new TypeError(
          `metric "${name}": label name "${label}" must match ${LABEL_NAME.source} and not start with "__"`,
        );
      }
    }
    if (new Set(labelNames).size !== labelNames.length) {
      throw new TypeError(`metric "${name}": duplicate label names in [${labelNames.join(", ")}]`);
    }
    const maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
    if (!Number.isInteger(maxSeries) || maxSeries < 1) {
      throw new RangeError(
        `metric "${name}": maxSeries must be a positive integer, got ${maxSeries}`,
      );
    }
    this.name = name;
    this.labelNames = Object.freeze(labelNames);
    this.#maxSeries = maxSeries;
    this.#header = `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
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

  /** The unlabelled series exists from creation, so it is scraped as 0 before the first event. */
  protected materialiseUnlabelled(): void {
    if (this.labelNames.length === 0) this.seriesFor(undefined);
  }

  /** The series for a label record; throws TypeError on a missing or unexpected label. */
  protected seriesFor(labels: Labels | undefined): S {
    const names = this.labelNames;
    let node: TrieNode<S> | undefined = this.#root;
    for (let i = 0; i < names.length && node !== undefined; i++) {
      const value: string | undefined = labels?.[names[i]!];
      node = value === undefined ? undefined : node.next?.get(value);
    }
    // A hit proves every name is present; counting keys (no allocation) catches extras.
    if (node?.leaf !== undefined && countKeys(labels) === names.length) return node.leaf;
    return this.#missByRecord(labels);
  }

  /** The series for positional label values. */
  protected childFor(values: readonly string[]): S {
    const names = this.labelNames;
    if (values.length !== names.length) {
      throw new TypeError(
        `metric "${this.name}": expected ${names.length} label values (${
          names.join(", ")
        }), got ${values.length}`,
      );
    }
    let node: TrieNode<S> | undefined = this.#root;
    for (let i = 0; i < values.length && node !== undefined; i++) node = node.next?.get(values[i]!);
    return node?.leaf ?? this.#miss(values);
  }

  /** Drops every series; children handed out before are detached and no longer exposed. */
  protected clear(): void {
    this.#root = { next: undefined, leaf: undefined };
    this.#series = [];
    this.#overflow = undefined;
  }

  #missByRecord(labels: Labels | undefined): S {
    const names = this.labelNames;
    for (const name of names) {
      if (labels?.[name] === undefined) {
        throw new TypeError(`metric "${this.name}": missing label "${name}"`);
      }
    }
    for (const key in labels) {
      if (!names.includes(key)) {
        throw new TypeError(`metric "${this.name}": unexpected label "${key}"`);
      }
    }
    // Checked before building the values array, so a flood of new combinations allocates nothing.
    if (this.#series.length >= this.#maxSeries) return this.#overflowSeries();
    return this.#miss(names.map((name) => labels![name]!));
  }

  #miss(values: readonly string[]): S {
    if (
      this.#series.length >= this.#maxSeries ||
      // A real series spelled like the overflow one would be exposed twice with equal labels.
      (values.length > 0 && values.every((value) => value === OVERFLOW_LABEL_VALUE))
    ) {
      return this.#overflowSeries();
    }
    const series = this.createSeries(renderPairs(this.labelNames, values));
    let node = this.#root;
    for (const value of values) {
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

  #overflowSeries(): S {
    this.#overflow ??= this.createSeries(
      renderPairs(this.labelNames, this.labelNames.map(() => OVERFLOW_LABEL_VALUE)),
    );
    return this.#overflow;
  }
}

class CounterSeries implements Series, CounterChild {
  value = 0;
  constructor(readonly metric: string, readonly pairs: string) {}

  inc(value = 1): void {
    if (!(value >= 0)) {
      throw new RangeError(`counter "${this.metric}": increment must be >= 0, got ${value}`);
    }
    this.value += value;
  }
}

/** A monotonically increasing count; by convention its name ends in `_total`. */
export class Counter extends Metric<CounterSeries> {
  /** Prefer {@link Registry.counter}: an unregistered counter is never exposed. */
  constructor(name: string, help: string, options: MetricOptions = {}) {
    super("counter", name, help, options);
    this.materialiseUnlabelled();
  }

  /** Adds `value` (default 1) to the unlabelled series. */
  inc(value?: number): void;
  /** Adds `value` (default 1) to the series for `labels`. */
  inc(labels?: Labels, value?: number): void;
  inc(labelsOrValue?: Labels | number, value?: number): void {
    if (typeof labelsOrValue === "number") this.seriesFor(undefined).inc(labelsOrValue);
    else this.seriesFor(labelsOrValue).inc(value);
  }

  /** The cached child for label values given in `labelNames` order. */
  labels(...values: string[]): CounterChild {
    return this.childFor(values);
  }

  protected createSeries(pairs: string): CounterSeries {
    return new CounterSeries(this.name, pairs);
  }

  protected renderSeries(series: CounterSeries): string {
    return `${this.name}${braces(series.pairs)} ${formatNumber(series.value)}\n`;
  }
}

class GaugeSeries implements Series, GaugeChild {
  value = 0;
  constructor(readonly pairs: string) {}

  set(value: number): void {
    this.value = value;
  }
  inc(value = 1): void {
    this.value += value;
  }
  dec(value = 1): void {
    this.value -= value;
  }
}

/** A value that goes up and down. */
export class Gauge extends Metric<GaugeSeries> {
  /** Prefer {@link Registry.gauge}: an unregistered gauge is never exposed. */
  constructor(name: string, help: string, options: MetricOptions = {}) {
    super("gauge", name, help, options);
    this.materialiseUnlabelled();
  }

  /** Sets the unlabelled series. */
  set(value: number): void;
  /** Sets the series for `labels`. */
  set(labels: Labels, value: number): void;
  set(labelsOrValue: Labels | number, value?: number): void {
    if (typeof labelsOrValue === "number") this.seriesFor(undefined).set(labelsOrValue);
    else this.seriesFor(labelsOrValue).set(value!);
  }

  /** Adds `value` (default 1) to the unlabelled series. */
  inc(value?: number): void;
  /** Adds `value` (default 1) to the series for `labels`. */
  inc(labels?: Labels, value?: number): void;
  inc(labelsOrValue?: Labels | number, value?: number): void {
    if (typeof labelsOrValue === "number") this.seriesFor(undefined).inc(labelsOrValue);
    else this.seriesFor(labelsOrValue).inc(value);
  }

  /** Subtracts `value` (default 1) from the unlabelled series. */
  dec(value?: number): void;
  /** Subtracts `value` (default 1) from the series for `labels`. */
  dec(labels?: Labels, value?: number): void;
  dec(labelsOrValue?: Labels | number, value?: number): void {
    if (typeof labelsOrValue === "number") this.seriesFor(undefined).dec(labelsOrValue);
    else this.seriesFor(labelsOrValue).dec(value);
  }

  /** The cached child for label values given in `labelNames` order. */
  labels(...values: string[]): GaugeChild {
    return this.childFor(values);
  }

  /**
   * Drops every series, the unlabelled one included, so a `beforeCollect` hook can rebuild the gauge
   * from live state without stale label sets lingering. Children obtained earlier are detached.
   */
  reset(): void {
    this.clear();
  }

  protected createSeries(pairs: string): GaugeSeries {
    return new GaugeSeries(pairs);
  }

  protected renderSeries(series: GaugeSeries): string {
    return `${this.name}${braces(series.pairs)} ${formatNumber(series.value)}\n`;
  }
}

class HistogramSeries implements Series, HistogramChild {
  /** Per-bucket (not cumulative) counts; the last slot is `+Inf`. */
  readonly counts: Float64Array;
  sum = 0;
  constructor(readonly bounds: Float64Array, readonly pairs: string) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let lo = 0;
    let hi = bounds.length;
    // First bound >= value (`le` is inclusive); NaN compares false throughout and lands in +Inf.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (value <= bounds[mid]!) hi = mid;
      else lo = mid + 1;
    }
    this.counts[lo]! += 1;
    this.sum += value;
  }
}

/** A distribution over fixed buckets, exposed as cumulative `_bucket`, `_sum` and `_count`. */
export class Histogram extends Metric<HistogramSeries> {
  readonly #bounds: Float64Array;
  readonly #le: readonly string[];

  /** Prefer {@link Registry.histogram}: an unregistered histogram is never exposed. */
  constructor(name: string, help: string, options: HistogramOptions = {}) {
    super("histogram", name, help, options);
    if (this.labelNames.includes("le")) {
      throw new TypeError(`histogram "${name}": label name "le" is reserved for buckets`);
    }
    this.#bounds = normaliseBuckets(name, options.buckets ?? DEFAULT_BUCKETS);
    this.#le = Array.from(this.#bounds, (bound) => `le="${formatNumber(bound)}"} `);
    this.materialiseUnlabelled();
  }

  /** Records `value` in the unlabelled series. */
  observe(value: number): void;
  /** Records `value` in the series for `labels`. */
  observe(labels: Labels, value: number): void;
  observe(labelsOrValue: Labels | number, value?: number): void {
    if (typeof labelsOrValue === "number") this.seriesFor(undefined).observe(labelsOrValue);
    else this.seriesFor(labelsOrValue).observe(value!);
  }

  /** The cached child for label values given in `labelNames` order. */
  labels(...values: string[]): HistogramChild {
    return this.childFor(values);
  }

  protected createSeries(pairs: string): HistogramSeries {
    return new HistogramSeries(this.#bounds, pairs);
  }

  protected renderSeries(series: HistogramSeries): string {
    const bucket = `${this.name}_bucket{${series.pairs === "" ? "" : `${series.pairs},`}`;
    let out = "";
    let cumulative = 0;
    for (let i = 0; i < this.#le.length; i++) {
      cumulative += series.counts[i]!;
      out += `${bucket}${this.#le[i]}${formatNumber(cumulative)}\n`;
    }
    cumulative += series.counts[this.#le.length]!;
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
  /** Every sample name in use (a histogram claims four) -> the metric that claimed it. */
  #samples = new Map<string, string>();
  #hooks: Array<() => void> = [];

  /** Creates and registers a counter; the third argument is label names or full options. */
  counter(name: string, help: string, options?: readonly string[] | MetricOptions): Counter {
    return this.#register(new Counter(name, help, toOptions(options)), [name]);
  }

  /** Creates and registers a gauge; the third argument is label names or full options. */
  gauge(name: string, help: string, options?: readonly string[] | MetricOptions): Gauge {
    return this.#register(new Gauge(name, help, toOptions(options)), [name]);
  }

  /** Creates and registers a histogram. */
  histogram(name: string, help: string, options?: HistogramOptions): Histogram {
    const samples = [name, `${name}_bucket`, `${name}_sum`, `${name}_count`];
    return this.#register(new Histogram(name, help, options), samples);
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

  #register<M extends Metric<Series>>(metric: M, samples: readonly string[]): M {
    for (const sample of samples) {
      const owner = this.#samples.get(sample);
      if (owner === undefined) continue;
      throw new Error(
        owner === metric.name
          ? `duplicate metric name "${metric.name}"`
          : `metric "${metric.name}": sample name "${sample}" is already used by metric "${owner}"`,
      );
    }
    for (const sample of samples) this.#samples.set(sample, metric.name);
    this.#metrics.push(metric);
    return metric;
  }
}

function toOptions(options: readonly string[] | MetricOptions | undefined): MetricOptions {
  if (options === undefined) return {};
  return isLabelList(options) ? { labelNames: options } : options;
}

// Array.isArray does not narrow a readonly array out of a union.
function isLabelList(options: readonly string[] | MetricOptions): options is readonly string[] {
  return Array.isArray(options);
}

function normaliseBuckets(name: string, buckets: readonly number[]): Float64Array {
  // +Inf is always the last bucket; accept it spelled out, as other clients do.
  const bounds = Float64Array.from(buckets.filter((bound) => bound !== Infinity)).sort();
  for (let i = 0; i < bounds.length; i++) {
    if (!Number.isFinite(bounds[i])) {
      throw new RangeError(`histogram "${name}": bucket bounds must be finite, got ${bounds[i]}`);
    }
    if (i > 0 && bounds[i] === bounds[i - 1]) {
      throw new RangeError(`histogram "${name}": duplicate bucket bound ${bounds[i]}`);
    }
  }
  return bounds;
}

function countKeys(labels: Labels | undefined): number {
  let count = 0;
  for (const _ in labels) count++;
  return count;
}

function renderPairs(names: readonly string[], values: readonly string[]): string {
  return names.map((name, i) => `${name}="${escapeLabelValue(values[i]!)}"`).join(",");
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
