// A story scene: an illustration, the story so far, and the visitor's
// choices (one button each). Display surfaces list the choices as text.

import {h, setText} from "../dom.js";
import {paragraphs, relabelImage, sameIds, sameImage, title} from "../parts.js";

const shown = new WeakMap();  // ctx → the view its scene shows

export function render(view, ctx) {
  shown.set(ctx, view);
  const choices = Array.isArray(view.choices) ? view.choices : [];
  const root = h("section", {class: `story scene-grid role-${ctx.role}`, "aria-labelledby": "scene-title"});
  const art = h("div", {class: "frame story__art", "data-captions-dock": ""}, ctx.image(view.image));
  const text = h("div", {class: "panel__text story__text", "data-fit": ""},
    title(view.title), paragraphs(view.text, "body body--story"));
  root.append(art, h("div", {class: "panel story__panel"}, text), list(choices, ctx));
  return root;
}

/** The same story scene in another language: new words, the same buttons (and focus). */
export function update(view, ctx) {
  const old = shown.get(ctx);
  const root = ctx.root;
  const text = root?.querySelector(".story__text");
  if (!old || !text || !sameImage(old.image, view.image) || !sameIds(old.choices, view.choices)) return false;
  relabelImage(root.querySelector(".story__art"), view.image);
  text.replaceChildren(...[title(view.title), paragraphs(view.text, "body body--story")].filter(Boolean));
  const labels = root.querySelectorAll(".story__choices .choice__text");
  (view.choices || []).forEach((c, i) => setText(labels[i], c.label));
  shown.set(ctx, view);
  return true;
}

function list(choices, ctx) {
  const count = `choices--${Math.min(choices.length, 5)}`;
  if (!ctx.interactive) {
    return h("ul", {class: `choices choices--static story__choices ${count}`},
      choices.map((c) => h("li", {class: "choice choice--static"}, h("span", {class: "choice__text"}, c.label))));
  }
  return h("div", {class: `choices story__choices ${count}`, role: "group", "data-keys-group": "scene",
    "aria-labelledby": "scene-title"},
  choices.map((c, i) => {
    const b = h("button", {type: "button", class: "choice", "data-action": "", "data-sends": "",
      "data-primary": i === 0 ? "" : null},
    h("span", {class: "choice__mark", "aria-hidden": "true"}),
    h("span", {class: "choice__text"}, c.label));
    b.addEventListener("click", () => {
      // the next scene is the answer; the pick shows only if it is slow to come
      if (ctx.send({type: "choose", choice: c.id})) ctx.waiting(() => b.classList.add("is-picked"));
    });
    return b;
  }));
}
