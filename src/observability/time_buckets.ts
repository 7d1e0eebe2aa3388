/**
 * Counters kept per period of time in a fixed ring, and latency histograms built on them: the
 * memory the live stats (`live_stats.ts`) hold does not grow with traffic or uptime.
 */

/**
 * A ring of `slots` periods of `periodMs` each, `width` counters per period. A slot is cleared
 * when a new period first writes to it, so no timer runs and a period older than the ring is
 * simply gone.
 */
export class TimeBuckets {
  /** Length of one period. */
  readonly periodMs: number;
  /** Counters per period. */
  readonly width: number;
  /** Every slot's counters: slot `i` holds `[i * width, (i + 1) * width)`. */
  readonly counts: Uint32Array;
  readonly #slots: number;
  /** The period each slot holds, -1 for none. */
  readonly #periods: Float64Array;

  constructor(slots: number, periodMs: number, width = 1) {
    this.periodMs = periodMs;
    this.width = width;
    this.counts = new Uint32Array(slots * width);
    this.#slots = slots;
    this.#periods = new Float64Array(slots).fill(-1);
  }

  /** The offset in `counts` of the period holding `now`, its slot cleared if it held another. */
  at(now: number): number {
    const period = Math.floor(now / this.periodMs);
    const slot = period % this.#slots;
    const offset = slot * this.width;
    const held = this.#periods[slot]!;
    // A clock stepped back by a whole ring counts in the newer period rather than erase it.
    if (held < period) {
      this.#periods[slot] = period;
      this.counts.fill(0, offset, offset + this.width);
    }
    return offset;
  }

  /** The offset in `counts` of period number `period`, or -1 when no slot holds it. */
  find(period: number): number {
    if (period < 0) return -1;
    const slot = period % this.#slots;
    return this.#periods[slot] === period ? slot * this.width : -1;
  }

  /** Counter `field` summed over periods `first` to `last`, both included. */
  sum(first: number, last: number, field = 0): number {
    let total = 0;
    for (let period = first; period <= last; period++) {
      const offset = this.find(period);
      if (offset >= 0) total += this.counts[offset + field]!;
    }
    return total;
  }
}

/** Each latency bin's upper bound is this factor above its lower one. */
const GROWTH = 1.2;
const LOG_GROWTH = Math.log(GROWTH);
/**
 * Bins of a latency histogram: bin 0 holds up to 1 ms, bin `i` up to GROWTH^i ms, the last one
 * everything above (GROWTH^78 ms is over 25 minutes).
 */
export const LATENCY_BINS = 80;

/** The histogram bin of a latency in milliseconds. */
export function latencyBin(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(LATENCY_BINS - 1, Math.ceil(Math.log(ms) / LOG_GROWTH));
}

/**
 * The `q` quantile (0..1) of the latencies in histograms of LATENCY_BINS counters at `offsets`
 * of `counts`, interpolated within its bin (so within 20% of the true value), in milliseconds
 * rounded to 0.1; null when they hold none.
 */
export function latencyQuantile(
  counts: Uint32Array,
  offsets: readonly number[],
  q: number,
): number | null {
  let total = 0;
  for (const offset of offsets) {
    for (let bin = 0; bin < LATENCY_BINS; bin++) total += counts[offset + bin]!;
  }
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let bin = 0; bin < LATENCY_BINS; bin++) {
    let inBin = 0;
    for (const offset of offsets) inBin += counts[offset + bin]!;
    if (inBin === 0 || below + inBin < rank) {
      below += inBin;
      continue;
    }
    const low = bin === 0 ? 0 : GROWTH ** (bin - 1);
    // The last bin has no upper bound: its lower one is the honest answer.
    const high = bin === LATENCY_BINS - 1 ? low : GROWTH ** bin;
    return Math.round((low + (high - low) * ((rank - below) / inBin)) * 10) / 10;
  }
  return null;
}
