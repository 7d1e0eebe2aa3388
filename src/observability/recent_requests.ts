/**
 * The last API requests, for the admin API's `GET /admin/requests`: a ring of fixed slots in
 * typed arrays, written once per request and read only when an operator asks.
 */

/** One finished API request as the ring shows it: who, what, who served it, how it went. */
export interface RecentRequest {
  /** When the request arrived, epoch ms. */
  time: number;
  request_id: string;
  /** The key's name or the token's subject; null without authentication. */
  caller: string | null;
  /** The API path, e.g. `/v1/chat/completions`. */
  endpoint: string;
  /** The model the client asked for; null when the request did not get that far. */
  model: string | null;
  /** The provider that answered (or refused with a 4xx); null when none did. */
  provider: string | null;
  /** The model at that provider. */
  served_model: string | null;
  status: number;
  latency_ms: number;
  /** Time to the answer's first byte; null without an answer. */
  ttfb_ms: number | null;
  stream: boolean;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  /** Each failed attempt, then the one that served: the access log's `gateway.fallback_path`. */
  fallback_path: readonly string[];
}

/** What `list` keeps: exact matches; `status` a code (`429`) or a class (`5xx`). */
export interface RecentFilter {
  provider?: string;
  /** The requested or the served model. */
  model?: string;
  status?: number | "1xx" | "2xx" | "3xx" | "4xx" | "5xx";
  caller?: string;
}

/** Requests the ring holds. */
export const RECENT_CAPACITY = 1_000;
/** UTF-16 code units kept of each text field; longer ones (a client's long model name) are cut. */
const TEXT_UNITS = 128;
/** The text fields copied into the slots, in this order. */
const TEXTS = 4;
const REQUEST_ID = 0;
const CALLER = 1;
const MODEL = 2;
const SERVED_MODEL = 3;
const NONE: readonly string[] = [];

/**
 * The ring. Numbers go to typed arrays and a request's own strings (its id, caller and model
 * names) are copied into a fixed text area: a long-lived array referring to every request's
 * strings would keep them alive across young collections and get them promoted, which the gateway
 * avoids for every request (see docs/architecture.md). The endpoint and provider are the route
 * table's and the configuration's strings, which live on anyway; a fallback path is kept as given,
 * since only requests that failed over have one.
 */
export class RecentRequests {
  readonly #capacity: number;
  /** Requests written so far; the newest is in slot `(#written - 1) % #capacity`. */
  #written = 0;
  readonly #numbers: Float64Array;
  readonly #ints: Int32Array;
  readonly #text: Uint16Array;
  /** Each text field's length in code units, -1 for null. */
  readonly #textLengths: Int16Array;
  readonly #endpoints: string[];
  readonly #providers: (string | null)[];
  readonly #paths: (readonly string[])[];

  constructor(capacity = RECENT_CAPACITY) {
    this.#capacity = capacity;
    this.#numbers = new Float64Array(capacity * NUMBERS);
    this.#ints = new Int32Array(capacity * INTS);
    this.#text = new Uint16Array(capacity * TEXTS * TEXT_UNITS);
    this.#textLengths = new Int16Array(capacity * TEXTS);
    this.#endpoints = new Array(capacity).fill("");
    this.#providers = new Array(capacity).fill(null);
    this.#paths = new Array(capacity).fill(NONE);
  }

  /** Records a finished request, overwriting the oldest once the ring is full. */
  add(r: RecentRequest): void {
    const slot = this.#written++ % this.#capacity;
    const n = slot * NUMBERS;
    const numbers = this.#numbers;
    numbers[n + TIME] = r.time;
    numbers[n + LATENCY] = r.latency_ms;
    numbers[n + TTFB] = r.ttfb_ms ?? NaN;
    numbers[n + COST] = r.cost_usd ?? NaN;
    const i = slot * INTS;
    const ints = this.#ints;
    ints[i + STATUS] = r.status;
    ints[i + INPUT] = r.input_tokens ?? -1;
    ints[i + OUTPUT] = r.output_tokens ?? -1;
    ints[i + STREAM] = r.stream ? 1 : 0;
    this.#write(slot, REQUEST_ID, r.request_id);
    this.#write(slot, CALLER, r.caller);
    this.#write(slot, MODEL, r.model);
    this.#write(slot, SERVED_MODEL, r.served_model);
    this.#endpoints[slot] = r.endpoint;
    this.#providers[slot] = r.provider;
    this.#paths[slot] = r.fallback_path;
  }

  /** Up to `limit` requests that pass `filter`, newest first. */
  list(filter: RecentFilter, limit: number): RecentRequest[] {
    const out: RecentRequest[] = [];
    const held = Math.min(this.#written, this.#capacity);
    for (let k = 1; k <= held && out.length < limit; k++) {
      const slot = (this.#written - k) % this.#capacity;
      if (filter.provider !== undefined && this.#providers[slot] !== filter.provider) continue;
      const status = this.#ints[slot * INTS + STATUS]!;
      if (filter.status !== undefined && !statusMatches(status, filter.status)) continue;
      const caller = this.#read(slot, CALLER);
      if (filter.caller !== undefined && caller !== filter.caller) continue;
      const model = this.#read(slot, MODEL);
      const served = this.#read(slot, SERVED_MODEL);
      if (filter.model !== undefined && model !== filter.model && served !== filter.model) continue;
      const n = slot * NUMBERS;
      const i = slot * INTS;
      out.push({
        time: this.#numbers[n + TIME]!,
        request_id: this.#read(slot, REQUEST_ID) ?? "",
        caller,
        endpoint: this.#endpoints[slot]!,
        model,
        provider: this.#providers[slot]!,
        served_model: served,
        status,
        latency_ms: this.#numbers[n + LATENCY]!,
        ttfb_ms: nullIfNaN(this.#numbers[n + TTFB]!),
        stream: this.#ints[i + STREAM] === 1,
        input_tokens: nullIfNegative(this.#ints[i + INPUT]!),
        output_tokens: nullIfNegative(this.#ints[i + OUTPUT]!),
        cost_usd: nullIfNaN(this.#numbers[n + COST]!),
        fallback_path: this.#paths[slot]!,
      });
    }
    return out;
  }

  /** Copies a text field into its slot, code unit by code unit (no allocation). */
  #write(slot: number, field: number, value: string | null): void {
    const index = slot * TEXTS + field;
    if (value === null) {
      this.#textLengths[index] = -1;
      return;
    }
    let length = Math.min(value.length, TEXT_UNITS);
    // A cut must not leave half a surrogate pair.
    if (length < value.length && isHighSurrogate(value.charCodeAt(length - 1))) length--;
    const start = index * TEXT_UNITS;
    const text = this.#text;
    for (let k = 0; k < length; k++) text[start + k] = value.charCodeAt(k);
    this.#textLengths[index] = length;
  }

  #read(slot: number, field: number): string | null {
    const index = slot * TEXTS + field;
    const length = this.#textLengths[index]!;
    if (length < 0) return null;
    const start = index * TEXT_UNITS;
    return String.fromCharCode(...this.#text.subarray(start, start + length));
  }
}

/** Float64 fields per slot. */
const NUMBERS = 4;
const TIME = 0;
const LATENCY = 1;
const TTFB = 2;
const COST = 3;
/** Int32 fields per slot. */
const INTS = 4;
const STATUS = 0;
const INPUT = 1;
const OUTPUT = 2;
const STREAM = 3;

function statusMatches(status: number, wanted: NonNullable<RecentFilter["status"]>): boolean {
  if (typeof wanted === "number") return status === wanted;
  return Math.floor(status / 100) === Number(wanted[0]);
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function nullIfNaN(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

function nullIfNegative(value: number): number | null {
  return value < 0 ? null : value;
}
