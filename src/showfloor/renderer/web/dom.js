// Small DOM helpers shared by the shell and the scene renderers.

/**
 * Create an element. `attrs` keys:
 *   class / className, text (textContent), html is NOT supported on purpose,
 *   on: {event: handler}, data: {key: value}, style: {"--var": value},
 *   any other key → attribute (false / null / undefined skip it, true → "").
 * Children may be nodes, strings, arrays, or null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "class" || key === "className") el.setAttribute("class", value);
    else if (key === "text") el.textContent = value;
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (key === "data") for (const [k, v] of Object.entries(value)) el.dataset[k] = v;
    else if (key === "style") for (const [k, v] of Object.entries(value)) el.style.setProperty(k, v);
    else el.setAttribute(key, value === true ? "" : String(value));
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

/** Fill `{name}` placeholders: fmt("Question {n} of {count}", {n: 1, count: 8}). */
export function fmt(template, vars = {}) {
  return String(template ?? "").replace(/\{(\w+)\}/g, (all, key) =>
    key in vars ? String(vars[key]) : all);
}

/** Small inline icons (decorative: aria-hidden). Stroke icons on a 24-unit grid. */
const ICONS = {
  check: "M5 12.5l4.5 4.5L19 7.5",
  cross: "M7 7l10 10M17 7L7 17",
  arrow: "M5 12h13M13 6l6 6-6 6",
  captions: "M3 6.5A2.5 2.5 0 0 1 5.5 4h13A2.5 2.5 0 0 1 21 6.5v11a2.5 2.5 0 0 1-2.5 2.5h-13A2.5 2.5 0 0 1 3 17.5zM10.5 10.2a2.6 2.6 0 1 0 0 3.6M17.5 10.2a2.6 2.6 0 1 0 0 3.6",
  globe: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M3 12h18M12 3c2.6 2.6 3.9 5.6 3.9 9s-1.3 6.4-3.9 9M12 3C9.4 5.6 8.1 8.6 8.1 12s1.3 6.4 3.9 9",
  text: "M4 18L9 6l5 12M5.7 14h6.6M15 18l3-7.5 3 7.5M15.9 16h4.2",
  contrast: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 3v18",
  clock: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 7v5l3.5 2",
  hand: "M8 12V5.5a1.5 1.5 0 0 1 3 0V11m0-1.5a1.5 1.5 0 0 1 3 0V11m0-.5a1.5 1.5 0 0 1 3 0v1.5m0-.5a1.5 1.5 0 0 1 3 0V15a6 6 0 0 1-6 6h-1.2a6 6 0 0 1-4.6-2.2L4.6 15.6a1.6 1.6 0 0 1 2.4-2.1L8 14.5",
  sound: "M4 9.5h3.5L12 5v14l-4.5-4.5H4zM16 9a4 4 0 0 1 0 6M18.5 6.5a7.5 7.5 0 0 1 0 11",
  restart: "M4 12a8 8 0 1 0 2.4-5.7M4 4.5v4h4",
  dot: "M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6",
  bulb: "M9.5 18h5M10.5 21h3M12 3a6 6 0 0 0-3.6 10.8c.6.5 1 1.2 1 2v.2h5.2v-.2c0-.8.4-1.5 1-2A6 6 0 0 0 12 3z",
  info: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 11v5.5M12 7.6v.1",
  moon: "M20 14.5A8.5 8.5 0 0 1 9.5 4a8.5 8.5 0 1 0 10.5 10.5z",
  star: "M12 3.5l2.6 5.3 5.9.9-4.3 4.1 1 5.8L12 16.9l-5.2 2.7 1-5.8-4.3-4.1 5.9-.9z",
  heart: "M12 19.5s-7.5-4.4-7.5-9.9A4.2 4.2 0 0 1 12 7.2a4.2 4.2 0 0 1 7.5 2.4c0 5.5-7.5 9.9-7.5 9.9z",
  sprout: "M12 21v-9M12 12c0-3.6-2.6-6-6.5-6 0 3.7 2.6 6 6.5 6zM12 14.5c0-3.3 2.3-5.5 6-5.5 0 3.5-2.3 5.5-6 5.5z",
};

export function icon(name, className = "icon") {
  const svg = h("svg:svg", {class: className, viewBox: "0 0 24 24", "aria-hidden": "true",
    focusable: "false"});
  svg.append(h("svg:path", {d: ICONS[name] || ICONS.dot}));
  return svg;
}

/** Run `fn` in the next animation frame (resolves after it ran). */
export function nextFrame(fn) {
  return new Promise((resolve) => requestAnimationFrame((t) => { if (fn) fn(t); resolve(t); }));
}

const motion = window.matchMedia("(prefers-reduced-motion: reduce)");

export function reducedMotion() {
  return motion.matches;
}

/** Set an element's text only when it differs (an equal write still relayouts and repaints). */
export function setText(el, text) {
  if (!el) return;
  const value = text === null || text === undefined ? "" : String(text);
  if (el.textContent !== value) el.textContent = value;
}
