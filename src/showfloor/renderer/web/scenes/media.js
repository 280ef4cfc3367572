// A media scene: an illustration (or a video, or a sound) with a title, a
// short text, its source, and "Continue". Narration and captions are played
// by the page (they come with the view); a video's own captions are shown
// in the same caption bar.

import {h, icon, setText} from "../dom.js";
import {actions, button, paragraphs, relabelImage, sameImage, sourceLine, title} from "../parts.js";

const shown = new WeakMap();  // ctx → the view its scene shows

export function render(view, ctx) {
  shown.set(ctx, view);
  const root = h("section", {class: `media scene-grid role-${ctx.role}`, "aria-labelledby": "scene-title"});
  const art = h("div", {class: "frame media__art", "data-captions-dock": ""});
  art.append(visual(view, ctx));
  const text = h("div", {class: "panel__text", "data-fit": ""}, words(view));
  const next = button(ctx, {label: view.ui?.next || "Continue", iconName: "arrow",
    input: {type: "advance"}});
  // the source stays in sight (large text too): only the words above it shrink or scroll
  root.append(art, h("div", {class: "panel media__panel"}, text, sourceLine(ctx, view.source),
    actions(ctx, next)));
  return root;
}

function words(view) {
  return [title(view.title), paragraphs(view.body)].filter(Boolean);
}

/** The same scene in another language: new words; the picture (or film) keeps going. */
export function update(view, ctx) {
  const old = shown.get(ctx);
  const text = ctx.root?.querySelector(".media__panel .panel__text");
  if (!old || !text) return false;
  // another picture or film, or the film's own captions in another language: draw anew
  if (!sameImage(old.image, view.image)) return false;
  for (const k of ["video", "audio"]) if (old[k] !== view[k]) return false;
  if (Boolean(old.narration) !== Boolean(view.narration)) return false;
  if (!view.narration && (view.video || view.audio) && old.captions !== view.captions) return false;
  const source = ctx.root.querySelector(".media__panel > .source");
  const nextSource = sourceLine(ctx, view.source);
  if (Boolean(source) !== Boolean(nextSource)) return false;
  text.replaceChildren(...words(view));
  if (!view.video && !(view.audio && !view.image)) relabelImage(ctx.root.querySelector(".media__art"), view.image);
  source?.replaceWith(nextSource);
  setText(ctx.root.querySelector(".media__panel .actions .btn__label"), view.ui?.next || "Continue");
  shown.set(ctx, view);
  return true;
}

/** Start a film or a sound once the scene's first frame is out (not on the way to it). */
function start(ctx, fn) {
  if (typeof ctx.later === "function") ctx.later(fn);
  else queueMicrotask(fn);
}

function visual(view, ctx) {
  if (view.video) {
    const video = h("video", {class: "media__video", playsinline: true, preload: "auto",
      "aria-hidden": "true"});
    // the control panel shows a small silent copy; narration (if any) has the sound
    if (!ctx.narrates || view.narration) video.muted = true;
    if (view.captions && !view.narration && ctx.narrates) {
      video.append(ctx.track(view.captions));
    }
    video.addEventListener("error", () => {
      ctx.problem("media", view.video, "video could not be played");
      video.replaceWith(ctx.image(null));
    }, {once: true});
    start(ctx, () => {
      video.src = ctx.url(view.video);  // loading a film is work: not before the first frame
      if (view.captions && !view.narration && ctx.narrates) ctx.captions(video);
      const p = video.play();
      if (p && p.catch) p.catch(() => {});
    });
    return video;
  }
  if (view.audio && !view.image) {
    const panel = h("div", {class: "art art--empty media__sound", "aria-hidden": "true"},
      icon("sound", "icon media__sound-icon"));
    if (ctx.narrates) {
      const audio = h("audio", {preload: "auto"});
      if (view.captions && !view.narration) audio.append(ctx.track(view.captions));
      audio.addEventListener("error", () => ctx.problem("media", view.audio, "audio could not be played"),
        {once: true});
      panel.append(audio);
      start(ctx, () => {
        audio.src = ctx.url(view.audio);
        if (view.captions && !view.narration) ctx.captions(audio);
        const p = audio.play();
        if (p && p.catch) p.catch(() => {});
      });
    }
    return panel;
  }
  return ctx.image(view.image);
}
