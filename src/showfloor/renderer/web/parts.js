// Building blocks the scene renderers share: buttons, choice cards, source
// lines, headings. Everything interactive is a real <button>.

import {h, icon} from "./dom.js";

/**
 * An action button.
 *   label, icon (name), kind: "primary" | "secondary" | "quiet",
 *   input: an engine input sent on press (then the button carries data-sends,
 *   so the page records the touch time), or onPress(event) for local actions.
 */
export function button(ctx, {label, iconName, kind = "primary", input, onPress, className = "",
  autofocus = false, lang} = {}) {
  const el = h("button", {
    type: "button",
    class: `btn btn--${kind} ${className}`.trim(),
    "data-action": "",
    "data-sends": input ? "" : null,
    "data-primary": kind === "primary" ? "" : null,
    "data-autofocus": autofocus ? "" : null,
    lang: lang || null,
  }, h("span", {class: "btn__label", text: label}), iconName ? icon(iconName, "icon btn__icon") : null);
  el.addEventListener("click", (event) => {
    if (input) ctx.send(input);
    if (onPress) onPress(event);
  });
  return el;
}

/** The row of actions at the bottom of a panel (nothing on display surfaces). */
export function actions(ctx, ...buttons) {
  if (!ctx.interactive) return null;
  const list = buttons.flat().filter(Boolean);
  if (!list.length) return null;
  return h("div", {class: "actions", "data-keys-group": "scene"}, list);
}

/**
 * "Source: World Health Organization — …" (small), or null. A name in another
 * language than the page's carries its `lang`, so a screen reader switches voice.
 */
export function sourceLine(ctx, id) {
  const name = !id ? null : ctx.sourceName ? ctx.sourceName(id) : {text: ctx.source(id), lang: null};
  if (!name?.text) return null;
  const sep = /^zh|^ja/.test(ctx.view.lang) ? "：" : ": ";
  return h("p", {class: "source"},
    h("span", {class: "source__label", text: `${ctx.view.ui?.source || ctx.t("source")}${sep}`}),
    h("span", {class: "source__name", text: name.text,
      lang: name.lang && name.lang !== ctx.view.lang ? name.lang : null}));
}

/** Whether two pictures of a view look the same (file, fit, focus; the alt text may differ). */
export function sameImage(a, b) {
  const key = (p) => (p && typeof p === "object"
    ? JSON.stringify([p.src, p.fit, p.focus, p.decorative === true]) : JSON.stringify(p ?? null));
  return key(a) === key(b);
}

/** The same picture in another language: its alt text in that language. */
export function relabelImage(container, image) {
  const img = container?.querySelector("img");
  if (!img || !image || typeof image !== "object" || image.decorative === true) return;
  const alt = typeof image.alt === "string" ? image.alt : "";
  if (img.getAttribute("alt") !== alt) img.setAttribute("alt", alt);
}

/** The scene's main heading (each scene has exactly one h1). */
export function title(text, className = "title") {
  if (!text) return null;
  return h("h1", {id: "scene-title", class: className, "data-scene-title": ""}, text);
}

/** Paragraphs from a text with blank lines between them. */
export function paragraphs(text, className = "body") {
  if (!text) return null;
  const parts = String(text).split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  return h("div", {class: className}, parts.map((p) => h("p", {}, p)));
}

/** A letter badge for the n-th choice: A, B, C … */
export function letter(i) {
  return String.fromCharCode(65 + (i % 26));
}

/** Whether two lists of choices have the same ids in the same order (the same buttons). */
export function sameIds(a, b) {
  const x = Array.isArray(a) ? a : [];
  const y = Array.isArray(b) ? b : [];
  return x.length === y.length && x.every((c, i) => c?.id === y[i]?.id);
}
