// Building the page. Every value goes in as text (text nodes, textContent,
// attributes set one by one): event data comes from the outside world and is
// never parsed as HTML.

/**
 * h("tag.class", {attr: value, onclick: fn}, child, ...). Children are nodes,
 * strings or numbers (as text), arrays of those, or null/false (skipped).
 */
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "value" || name === "checked" || name === "disabled" || name === "selected") el[name] = value;
    else if (name === "href") el.setAttribute("href", safeHref(value));
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

// The console links only to its own pages.
function safeHref(value) {
  const text = String(value);
  return text.startsWith("#/") ? text : "#/";
}

/** Replace everything in `el` with `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A value as pretty JSON in a <pre>, as text. */
export function json(value) {
  return h("pre.json", JSON.stringify(value, null, 2));
}

/** A short message box; kind is "error", "warn", "ok" or "info". */
export function note(kind, ...children) {
  return h(`div.note.${kind}`, { role: kind === "error" ? "alert" : "status" }, ...children);
}

/**
 * The "Older" button of a paged list: `load()` appends the next page. The
 * button is off until that page is in, so that a second press never fetches
 * one page twice; a failure is shown in `status` until a page comes in.
 */
export function olderButton(load, status) {
  let failed = null;
  const button = h(
    "button.secondary",
    {
      type: "button",
      onclick: async () => {
        button.disabled = true;
        try {
          await load();
          failed?.remove();
        } catch (e) {
          failed = note("error", e.message);
          replace(status, failed);
        } finally {
          button.disabled = false;
        }
      },
    },
    "Older",
  );
  return button;
}

export function table(headers, rows, attrs = {}) {
  return h("table", attrs, h("thead", h("tr", headers.map((t) => h("th", t)))), h("tbody", rows));
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

/** "1 item", "2 items": a count with its noun. */
export function count(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

export function badge(state) {
  return h(`span.badge.state-${String(state).replace(/[^a-z]/g, "")}`, state);
}

/** Query string from an object, skipping empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : "";
}
