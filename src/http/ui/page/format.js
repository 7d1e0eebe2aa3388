// How numbers, times and money are shown.

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

/** A count: `1,204`. */
export function count(n) {
  return typeof n === "number" ? integer.format(n) : "–";
}

/** A rate or small figure with two decimals at most. */
export function num(n) {
  return typeof n === "number" ? decimal.format(n) : "–";
}

/** Milliseconds: `84 ms`, `1.2 s`. */
export function ms(n) {
  if (typeof n !== "number") return "–";
  return n < 1000 ? `${integer.format(n)} ms` : `${decimal.format(n / 1000)} s`;
}

/** A share as a percentage: `2.5%`. */
export function pct(ratio) {
  return typeof ratio === "number" ? `${decimal.format(ratio * 100)}%` : "–";
}

/** US dollars: cents from a dollar up, else three significant digits: `$12.40`, `$0.000123`. */
export function usd(n) {
  if (typeof n !== "number") return "–";
  if (n === 0) return "$0";
  if (Math.abs(n) >= 1) return `$${n.toFixed(2)}`;
  const text = Number(n.toPrecision(3)).toFixed(8).replace(/0+$/, "").replace(/\.$/, "");
  return text === "0" ? "< $0.00000001" : `$${text}`;
}

/** A time of day (today) or a date and time: `14:02:11`, `Dec 3, 14:02`. */
export function time(at) {
  if (at === null || at === undefined) return "–";
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return "–";
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString(undefined, { hour12: false })
    : date.toLocaleString(undefined, {
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hour12: false,
    });
}

/** The full timestamp, for a `title` or `datetime` attribute. */
export function iso(at) {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}
