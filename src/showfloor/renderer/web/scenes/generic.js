// A scene type this page has no module for: a calm panel with its title, so
// a station never shows a blank screen.

import {h} from "../dom.js";
import {paragraphs, title} from "../parts.js";

export function render(view, ctx) {
  return h("section", {class: "generic", "aria-labelledby": "scene-title"},
    h("div", {class: "generic__card", "data-fit": ""},
      title(view.title || ctx.exhibitTitle || "", "title"),
      paragraphs(view.text || view.body)));
}
