// A media scene: an illustration (or a video, or a sound) with a title, a
// short text, its source, and "Continue". Narration and captions are played
// by the page (they come with the view); a video's own captions are shown
// in the same caption bar.

import {h, icon} from "../dom.js";
import {actions, button, paragraphs, sourceLine, title} from "../parts.js";

export function render(view, ctx) {
  const root = h("section", {class: `media scene-grid role-${ctx.role}`, "aria-labelledby": "scene-title"});
  const art = h("div", {class: "frame media__art", "data-captions-dock": ""});
  art.append(visual(view, ctx));
  const text = h("div", {class: "panel__text", "data-fit": ""},
    title(view.title),
    paragraphs(view.body),
    sourceLine(ctx, view.source));
  const next = button(ctx, {label: view.ui?.next || "Continue", iconName: "arrow",
    input: {type: "advance"}});
  root.append(art, h("div", {class: "panel media__panel"}, text, actions(ctx, next)));
  return root;
}

function visual(view, ctx) {
  if (view.video) {
    const video = h("video", {class: "media__video", playsinline: true, preload: "auto",
      "aria-hidden": "true"});
    video.src = ctx.url(view.video);
    // the control panel shows a small silent copy; narration (if any) has the sound
    if (!ctx.narrates || view.narration) video.muted = true;
    if (view.captions && !view.narration && ctx.narrates) {
      video.append(ctx.track(view.captions));
    }
    video.addEventListener("error", () => {
      ctx.problem("media", view.video, "video could not be played");
      video.replaceWith(ctx.image(null));
    }, {once: true});
    queueMicrotask(() => {
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
      audio.src = ctx.url(view.audio);
      if (view.captions && !view.narration) audio.append(ctx.track(view.captions));
      audio.addEventListener("error", () => ctx.problem("media", view.audio, "audio could not be played"),
        {once: true});
      panel.append(audio);
      queueMicrotask(() => {
        if (view.captions && !view.narration) ctx.captions(audio);
        const p = audio.play();
        if (p && p.catch) p.catch(() => {});
      });
    }
    return panel;
  }
  return ctx.image(view.image);
}
