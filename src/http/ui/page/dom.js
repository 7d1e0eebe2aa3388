// DOM helpers: elements are built with text nodes, never from HTML strings, so nothing the
// gateway reports (an upstream's error message, a key's name) can become markup.

const SVG_NS = "http://www.w3.org/2000/svg";

/** An HTML element: `h("td", {class: "num"}, "12")`. Props starting with "on" add listeners. */
export function h(tag, props = {}, ...children) {
  return build(document.createElement(tag), props, children);
}

/** An SVG element, as `h`. */
export function svg(tag, props = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), props, children);
}

function build(el, props, children) {
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** The element with this id; throws when the page lacks it. */
export function byId(id) {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`no element #${id}`);
  return el;
}

/**
 * A table of `rows` (each an array of cells: text, a node, or `{value, class}`), or a line
 * saying `empty` when there are none. Headers are `[label, class]` pairs.
 */
export function table(caption, headers, rows, empty) {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "scroll", role: "region", "aria-label": caption, tabindex: "0" },
    h(
      "table",
      {},
      h("caption", { class: "sr-only" }, caption),
      h(
        "thead",
        {},
        h("tr", {}, headers.map(([label, cls]) => h("th", { scope: "col", class: cls }, label))),
      ),
      h(
        "tbody",
        {},
        rows.map((row) =>
          h(
            "tr",
            row.attrs ?? {},
            row.cells.map((cell) =>
              cell !== null && typeof cell === "object" && !(cell instanceof Node)
                ? h("td", { class: cell.class }, cell.value)
                : h("td", {}, cell)
            ),
          )
        ),
      ),
    ),
  );
}
