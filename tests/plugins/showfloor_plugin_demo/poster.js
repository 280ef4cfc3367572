// The `poster` scene type's renderer module (a test plug-in): the station serves
// it at /plugins/poster.js and names it in welcome.scene_modules. It may import
// the page's own helpers by their absolute URLs.

import {h} from "/renderer/dom.js";
import {actions, button} from "/renderer/parts.js";

export function render(view, ctx) {
  const next = button(ctx, {label: view.ui?.next || "Continue", iconName: "arrow",
    input: {type: "advance"}});
  return h("section", {class: "plugin-poster", "data-plugin": "poster",
    style: {background: view.colour, "min-height": "100%", display: "grid",
      "place-content": "center", gap: "4vmin", "text-align": "center"}},
    h("h1", {class: "title", id: "scene-title", text: view.heading}),
    actions(ctx, next));
}
