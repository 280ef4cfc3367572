// The attract loop: illustrations (or silent videos) cross-fading forever,
// the exhibit's title and a call to touch. Touching anywhere starts a visit.

import {h, icon, setText} from "../dom.js";

const FADE_MS = 1200;

export function render(view, ctx) {
  const root = h("section", {class: "attract", "aria-labelledby": "scene-title"});
  const slides = (view.loop || []).filter((item) => item && (item.image || item.video));
  const show = h("div", {class: "attract__show", "aria-hidden": "true"});
  const items = slides.map((item, i) => slide(item, i, ctx));
  show.append(...(items.length ? items.map((s) => s.el) : [h("div", {class: "art art--empty attract__slide is-on"})]));

  const heading = h("h1", {id: "scene-title", class: "attract__title", "data-scene-title": ""}, view.title || "");
  let call;
  if (ctx.interactive) {
    call = h("button", {type: "button", class: "attract__call", "data-action": "", "data-sends": "",
      "data-autofocus": "", "data-keys-group": "scene"},
    h("span", {class: "attract__ripple", "aria-hidden": "true"}, icon("hand", "icon attract__hand")),
    h("span", {class: "attract__call-text", "data-text": "call"}, view.call || ""));
    call.addEventListener("click", () => ctx.send({type: "start"}));
    // the whole screen is the button: a touch anywhere starts (on press, not release)
    root.dataset.sends = "";
    root.addEventListener("pointerdown", (e) => {
      if (e.button === 0 || e.pointerType === "touch") ctx.send({type: "start"});
    }, {signal: ctx.signal});
  } else {
    // a display takes no touch: no call to action, just the title
    call = h("p", {class: "attract__call attract__call--static", "data-text": "call", hidden: true},
      view.call || "");
  }
  root.append(show, h("div", {class: "attract__scrim", "aria-hidden": "true"}),
    h("div", {class: "attract__text"}, heading, call));

  // the loop
  if (items.length) {
    let index = 0;
    items[0].enter(ctx);
    const advance = () => {
      if (ctx.signal.aborted) return;
      const prev = items[index];
      index = (index + 1) % items.length;
      if (items.length > 1) {
        prev.leave();
        items[index].enter(ctx);
        ctx.animate(FADE_MS);
      }
      schedule();
    };
    const schedule = () => {
      const item = items[index];
      if (item.video) {
        item.onEnd = advance;
      } else if (items.length > 1) {
        ctx.timer(advance, Math.max(2, Number(item.duration) || 8) * 1000);
      }
    };
    schedule();
  }
  return root;
}

/** Same scene, another language: change the words, keep the loop running. */
export function update(view, ctx) {
  const root = ctx.root;
  if (!root) return false;
  const heading = root.querySelector(".attract__title");
  const call = root.querySelector("[data-text='call']");
  if (!heading || !call) return false;
  setText(heading, view.title || "");
  setText(call, view.call || "");
  return true;
}

function slide(item, i, ctx) {
  const el = h("div", {class: "attract__slide", style: {"--kb-x": `${[30, 70, 50, 40][i % 4]}%`,
    "--kb-y": `${[40, 60, 30, 55][i % 4]}%`, "--kb-dur": `${(Number(item.duration) || 8) + 2}s`}});
  const s = {el, video: null, onEnd: null, duration: item.duration, turn: 0};
  // a video slide ends once per turn: when it ends, or after its duration
  const finish = (turn) => {
    if (turn !== s.turn) return;
    s.turn += 1;
    if (s.onEnd) s.onEnd();
  };
  if (item.video) {
    const video = h("video", {muted: true, playsinline: true, preload: "auto", class: "attract__video"});
    video.muted = true;
    video.src = ctx.url(item.video);
    video.addEventListener("ended", () => finish(s.turn));
    video.addEventListener("error", () => {
      ctx.problem("media", item.video, "attract video could not be played");
      el.classList.add("art--missing");
      const turn = s.turn;
      ctx.timer(() => finish(turn), 6000);
    }, {once: true});
    el.append(video);
    s.video = video;
  } else {
    el.append(ctx.image(item.image, {className: "attract__art", eager: i === 0}));
  }
  s.enter = () => {
    el.classList.add("is-on");
    if (s.video) {
      s.video.currentTime = 0;
      const p = s.video.play();
      if (p && p.catch) p.catch(() => {});
      const turn = s.turn;
      const broken = el.classList.contains("art--missing");
      if (item.duration || broken) ctx.timer(() => finish(turn), (Number(item.duration) || 6) * 1000);
    }
  };
  s.leave = () => {
    el.classList.remove("is-on");
    if (s.video) ctx.timer(() => s.video.pause(), FADE_MS);
  };
  return s;
}
