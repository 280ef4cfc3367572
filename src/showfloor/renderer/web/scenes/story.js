// A story scene: an illustration, the story so far, and the visitor's
// choices (one button each). Display surfaces list the choices as text.

import {h} from "../dom.js";
import {paragraphs, title} from "../parts.js";

export function render(view, ctx) {
  const choices = Array.isArray(view.choices) ? view.choices : [];
  const root = h("section", {class: `story scene-grid role-${ctx.role}`, "aria-labelledby": "scene-title"});
  const art = h("div", {class: "frame story__art", "data-captions-dock": ""}, ctx.image(view.image));
  const text = h("div", {class: "panel__text story__text", "data-fit": ""},
    title(view.title), paragraphs(view.text, "body body--story"));
  root.append(art, h("div", {class: "panel story__panel"}, text), list(choices, ctx));
  return root;
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
      if (ctx.send({type: "choose", choice: c.id})) b.classList.add("is-picked");
    });
    return b;
  }));
}
