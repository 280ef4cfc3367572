// The end of a visit: thanks, a closing message, and the way back. The
// station returns to the attract loop after `duration` seconds, or at a touch.

import {h, icon, setText} from "../dom.js";
import {actions, button, paragraphs, relabelImage, sameImage, title} from "../parts.js";

const shown = new WeakMap();  // ctx → the view its scene shows

// How an ending feels, and its mark. A tick only when the content asks for it
// (`mood: well_done`): a low score never gets a success mark.
const MARKS = {celebrate: "star", well_done: "check", encourage: "sprout", thanks: "heart"};

function mood(view) {
  return Object.hasOwn(MARKS, view.mood) ? view.mood : "thanks";
}

export function render(view, ctx) {
  shown.set(ctx, view);
  const root = h("section", {class: `end end--${mood(view)} role-${ctx.role}`,
    "aria-labelledby": "scene-title"});
  if (view.image) {
    // a picture with alt text tells something: screen readers may read it
    const told = typeof view.image === "object" && view.image.alt && !view.image.decorative;
    root.append(h("div", {class: "end__art", "aria-hidden": told ? null : "true"}, ctx.image(view.image)));
  }
  else root.append(h("div", {class: "end__glow", "aria-hidden": "true"}));
  const restart = button(ctx, {label: view.ui?.restart || "Back to start", iconName: "restart",
    kind: "secondary", input: {type: "advance"}});
  const card = h("div", {class: "end__card", "data-fit": ""},
    h("div", {class: "end__mark", "aria-hidden": "true", "data-mood": mood(view)},
      icon(MARKS[mood(view)], "icon")),
    title(view.title, "title title--end"),
    paragraphs(view.text, "body body--end"),
    actions(ctx, restart));
  root.append(card);
  if (view.duration && !ctx.reducedMotion) {
    // a quiet hint that the station will go back by itself
    card.append(h("div", {class: "end__timer", "aria-hidden": "true",
      style: {"--dur": `${Number(view.duration)}s`}}, h("span")));
  }
  if (ctx.interactive) {
    root.dataset.sends = "";
    root.addEventListener("pointerdown", (e) => {
      if (e.target.closest("button")) return;  // the button sends on click
      ctx.send({type: "advance"});
    }, {signal: ctx.signal});
  }
  return root;
}

/** The same ending in another language: new words; the way-back timer keeps running. */
export function update(view, ctx) {
  const old = shown.get(ctx);
  const card = ctx.root?.querySelector(".end__card");
  if (!old || !card || !sameImage(old.image, view.image) || old.duration !== view.duration ||
      mood(old) !== mood(view)) return false;
  const heading = card.querySelector("[data-scene-title]");
  const body = card.querySelector(".body--end");
  const nextHeading = title(view.title, "title title--end");
  const nextBody = paragraphs(view.text, "body body--end");
  // the same parts, or draw anew
  if (Boolean(heading) !== Boolean(nextHeading) || Boolean(body) !== Boolean(nextBody)) return false;
  relabelImage(ctx.root.querySelector(".end__art"), view.image);
  heading?.replaceWith(nextHeading);
  body?.replaceWith(nextBody);
  setText(card.querySelector(".actions .btn__label"), view.ui?.restart || "Back to start");
  shown.set(ctx, view);
  return true;
}
