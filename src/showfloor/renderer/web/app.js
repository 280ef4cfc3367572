// showfloor renderer: one page per surface (?surface=ID; without it, the station's first).
//
// The station decides; this page draws. It connects to /ws, says hello,
// draws every view it is sent with the module registered for the view's
// type, sends the visitor's inputs, and clears every trace of a visit on
// `reset`. Protocol: docs/protocol.md.
//
// The operator's cues are drawn here too: `message` (a calm banner for a
// while), `screen` (off: pure black, no touch, no sound), and a closed
// station's notice (`view.closed`) over the attract loop.

import {Connection} from "./connection.js";
import {fmt, h, icon, reducedMotion, setText} from "./dom.js";
import {Keys} from "./keys.js";
import {FrameMeter} from "./metrics.js";
import {Narrator} from "./narration.js";
import {watchIndexedDB, wipeStorage} from "./privacy.js";
import * as scenes from "./scenes/index.js";
import {englishFallbacks, t} from "./strings.js";
import {setDisplay} from "./three/display.js";
import {Wedge} from "./wedge.js";

// the surface this page is (?surface=ID); none: the station gives it its first surface
const SURFACE = new URLSearchParams(location.search).get("surface") || null;
const BOOT = Math.random().toString(36).slice(2, 8);  // marks are unique per page load
const ROLES = new Set(["kiosk", "control", "display"]);
const FADE_MS = 400;
const METRICS_EVERY = 10_000;
const RECONNECTING_AFTER = 2000;
const BUSY_FOR = 3000;  // an input unanswered this long frees the buttons again
const PRESSED_AFTER = 100;  // an input unanswered this long shows its control pressed
const A11Y_DEFAULTS = Object.freeze({captions: true, large: false, contrast: false});
const FIT_STEPS = [1, 0.94, 0.88, 0.82, 0.76];

const $ = (id) => document.getElementById(id);
const els = {
  app: $("app"), stage: $("stage"), brand: $("brand"), tray: $("tray"),
  overlay: $("overlay"), live: $("live"), status: $("status"), captions: $("captions-home"),
  notice: $("notice"), message: $("message"), blackout: $("blackout"),
};

const state = {
  welcome: null,
  role: "kiosk",
  assets: "",
  sources: new Map(),  // id → {name: "…" | {lang: "…"}, lang?}
  defaultLang: null,   // the exhibit's default language (where a missing translation falls back)
  exhibitTitle: null,
  view: null,        // the view drawn now (null after a reset)
  viewSeq: null,     // seq of the last view message (for `resume`)
  scene: null,       // {el, mod, view, key, ctx, abort}
  token: 0,          // drawing generation (a newer view wins)
  a11y: {...A11Y_DEFAULTS},
  busy: false,
  busyTimer: 0,
  pressed: null,     // {el, timer, waiting: [fn]} while an input is on its way
  overlay: null,     // {el, timer, key}
  problems: [],      // reported before the connection was up
  refused: null,     // why the station refused our hello, if it did
  reported: new Map(),
  narrated: "",      // the narration playing now (narrationOf)
  trayKeyed: false,  // the tray's roving tabindex is set
  message: null,     // the operator's notice: {text, fallback, timer, shown}
  noticeKey: "",     // the closed notice drawn now
  screenOff: false,  // the screen is off: black, no touch, no sound
  paused: [],        // media the screen-off paused (played again when it is on)
  inputs: 0,         // inputs sent (tests)
};
// `drawn`: every view put in the DOM, whoever caused it (a touch, a device, the station):
// how many, and performance.now() when the last one was in (window.showfloor.drawn)
const marks = {n: 0, pending: null, mine: new Set(), names: [], drawn: {count: 0, at: 0}};
const meter = new FrameMeter();
const keys = new Keys(document);
const wedge = new Wedge({send: (input) => sendInput(input), view: () => state.view});
const narrator = new Narrator({home: els.captions, problem});
const preloaded = new Set();
const conn = new Connection({
  url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`,
  hello: () => ({...(SURFACE ? {surface: SURFACE} : {}),
                 ...(state.viewSeq ? {resume: state.viewSeq} : {})}),
  onMessage,
  onState: connectionState,
});

// -- tests and benchmarks read this (no visitor data beyond the current view)
Object.defineProperty(window, "showfloor", {
  configurable: false,
  writable: false,
  value: Object.freeze({
    get state() {
      const v = state.view;
      return Object.freeze({
        connection: conn.state, surface: state.welcome?.surface?.id ?? SURFACE, role: state.role,
        phase: v?.phase ?? null, scene: v?.scene ?? null, type: v?.type ?? null,
        stage: v?.stage ?? null, lang: v?.lang ?? null, overlay: v?.overlay?.kind ?? null,
        busy: state.busy, ...state.a11y,
        closed: v?.closed === true, screen: state.screenOff ? "off" : "on",
        message: state.message?.shown ?? null,
      });
    },
    get inputs() { return state.inputs; },
    get keyed() { return wedge.mapped; },  // inputs from keyboard-wedge devices
    get lastView() { return state.view ? structuredClone(state.view) : null; },
    // the last view in the DOM: {count, at (performance.now()), scene} (bench/drivers_latency.py)
    get drawn() { return {...marks.drawn}; },
    get seq() { return conn.seqOut; },
    get received() { return conn.seqIn; },
    get connected() { return conn.open && state.welcome !== null; },
  }),
});

// -- messages -----------------------------------------------------------------

function onMessage(msg) {
  switch (msg.type) {
    case "welcome": return onWelcome(msg);
    case "view": return onView(msg);
    case "reset": return onReset(msg);
    case "cue": return onCue(msg);
    case "problems": return showProblems(msg.problems);
    case "reload": return location.reload();
    case "error": return onError(msg);
    default: return undefined;
  }
}

function onCue(msg) {
  const data = msg.data && typeof msg.data === "object" ? msg.data : {};
  if (msg.name === "message") showMessage(data);
  else if (msg.name === "screen") setScreen(data.on !== false);
  document.dispatchEvent(new CustomEvent("showfloor:cue", {detail: {name: msg.name, data: msg.data}}));
}

function onWelcome(msg) {
  state.welcome = msg;
  state.refused = null;
  startBeat(msg.beat);
  wedge.configure(msg.keyboard);  // keyboard-wedge devices (USB buttons, readers)
  setDisplay(msg);  // display kind (touch, vr, holograms…) for the 3-D scenes: three/display.js
  const role = msg.surface?.role;
  state.role = ROLES.has(role) ? role : "kiosk";
  document.body.dataset.role = state.role;
  // a display takes no input: no tray at all (not even hidden buttons)
  if (state.role === "display") els.tray.replaceChildren();
  else if (!els.tray.childElementCount) buildTray();
  document.body.dataset.orientation = msg.orientation || "";
  const base = typeof msg.assets === "string" ? msg.assets : "";
  state.assets = base && !base.endsWith("/") ? `${base}/` : base;
  state.sources = new Map((msg.exhibit?.sources || []).map((s) => [s.id, s]));
  state.defaultLang = typeof msg.exhibit?.default_language === "string" ? msg.exhibit.default_language : null;
  state.exhibitTitle = msg.exhibit?.title ?? null;
  // plug-in scene types: {type: module URL} (optional; see README)
  const extra = msg.scene_modules;
  if (extra && typeof extra === "object") {
    for (const [type, url] of Object.entries(extra)) {
      if (typeof url === "string") scenes.register(type, new URL(url, location.href).href);
    }
  }
  connectionState("open");
  for (const p of state.problems.splice(0)) conn.send("problem", p);
  if (state.view) chrome(state.view);
}

function onView(msg) {
  const view = msg.view;
  if (!view || typeof view !== "object") return;
  state.viewSeq = msg.seq ?? state.viewSeq;
  draw(view, typeof msg.mark === "string" ? msg.mark : null);
  // the next scenes' files: once this one is on screen
  if (Array.isArray(msg.preload) && msg.preload.length) afterFrame(() => preload(msg.preload));
}

function onError(msg) {
  unlock();
  // a refused input: the buttons are usable again; nothing else changed
  console.warn("showfloor station:", msg.reason);  // eslint-disable-line no-console
  if (!state.welcome && msg.reason) {
    // the hello itself was refused (say, an unknown ?surface=): tell whoever set the station up
    state.refused = String(msg.reason);
    els.status.textContent = state.refused;
    els.status.hidden = false;
  }
}

// -- drawing --------------------------------------------------------------------

/** A view's identity without the parts that do not change what a scene shows. */
function contentKey(view) {
  const {overlay, phase, seq, ...rest} = view;  // eslint-disable-line no-unused-vars
  return JSON.stringify(rest);
}

// A view is drawn in three steps, so that a touch is answered in the same frame:
//   1. now: the scene's DOM (or its words, in place), the chrome, the overlay;
//      then the `view-*` mark. Nothing here reads layout or touches media.
//   2. in the next animation frame, before it is painted: the `frame-*` mark,
//      fitting long text (one measurement; more only when it overflows) and
//      keyboard focus, so the first frame already shows the final layout.
//   3. after that frame: narration, roving tabindex, the live region,
//      releasing the old scene's media, preloading.

function draw(view, mark) {
  unlock();
  const key = contentKey(view);
  const cur = state.scene;
  if (cur && cur.key === key) {
    // same scene, same words: only the overlay (idle warning) or phase changed
    state.view = cur.view = cur.ctx.view = view;
    chrome(view);
    overlay(view);
    drawn(view, mark, null);
    return;
  }
  const token = ++state.token;
  const mod = scenes.cached(view.type);
  if (mod) {
    mount(mod, view, key, mark);
  } else {
    scenes.load(view.type, (detail) => problem("script", null, detail)).then((m) => {
      if (token === state.token) mount(m, view, key, mark);
    });
  }
}

function mount(mod, view, key, mark) {
  const cur = state.scene;
  state.view = view;
  applyLang(view);
  if (cur && cur.mod === mod && cur.view.scene === view.scene && cur.view.type === view.type &&
      typeof mod.update === "function") {
    // the same scene again (another language, say): change its words in place
    const old = cur.view;
    cur.ctx.view = view;
    let done = false;
    try { done = mod.update(view, cur.ctx) === true; } catch (err) { report(err); }
    if (done) {
      markForeign(cur.el, view);
      Object.assign(cur, {view, key});
      chrome(view);
      overlay(view);
      drawn(view, mark, {scene: cur, fresh: false});
      return;
    }
    cur.ctx.view = old;
  }
  const abort = new AbortController();
  const ctx = context(view, abort.signal);
  let el;
  try {
    el = mod.render(view, ctx);
  } catch (err) {
    report(err);
    el = scenes.generic.render(view, ctx);
  }
  ctx.root = el;
  markForeign(el, view);
  el.classList.add("scene");
  el.dataset.scene = view.scene ?? "";
  el.dataset.type = view.type ?? "";
  if (cur) leave(cur);
  els.stage.append(el);
  const scene = {el, mod, view, key, ctx, abort};
  state.scene = scene;
  chrome(view);
  overlay(view);
  if (!reducedMotion()) meter.during(FADE_MS);
  drawn(view, mark, {scene, fresh: true});
}

function leave(cur) {
  cur.abort.abort();
  try { cur.mod.dispose?.(cur.el, cur.ctx); } catch (err) { report(err); }
  const el = cur.el;
  for (const n of el.querySelectorAll("[id]")) n.removeAttribute("id");  // the new scene's now
  if (reducedMotion()) {
    // gone from the next frame on; taking the nodes out (and letting go of
    // their media) is work for after that frame
    el.hidden = true;
    afterFrame(() => drop(el));
  } else {
    el.inert = true;
    el.setAttribute("aria-hidden", "true");
    el.classList.add("scene--leaving");
    afterFrame(() => { for (const m of el.querySelectorAll("audio, video")) m.pause(); });
    setTimeout(() => drop(el), FADE_MS + 40);
  }
}

function drop(el) {
  for (const m of el.querySelectorAll("audio, video")) stopMedia(m);
  el.remove();
}

/** The view is in the DOM: the `view-*` mark now, the rest around the next frame. */
function drawn(view, mark, job) {
  marks.drawn = {count: marks.drawn.count + 1, at: performance.now(), scene: view.scene ?? null};
  const mine = mark && marks.mine.has(mark);
  if (mine) perfMark(`view-${mark}`);
  requestAnimationFrame(() => {
    if (mine) perfMark(`frame-${mark}`);
    if (job && state.scene === job.scene) {
      fit(job.scene.el, job.fresh);
      // keyboard and button-panel users land on the scene's main action; a touch
      // screen shows no focus ring (focus simply leaves the old scene)
      if (job.fresh && !state.overlay && keys.usedKeys) keys.focusFirst(job.scene.el);
    }
    conn.send("ready", {scene: view.scene});
  });
  if (job) afterFrame(() => settled(job));
}

/** After the first frame of a scene: sound, keyboard order, the live region. */
function settled(job) {
  const scene = job.scene;
  if (state.scene !== scene) return;  // a newer view took its place already
  const view = scene.view;
  const sound = narrationOf(view);
  if (job.fresh || sound !== state.narrated) {
    state.narrated = sound;
    narrate(view, scene.el);
  }
  keys.refresh(scene.el);
  for (const fn of scene.ctx.settle()) {
    if (scene.ctx.signal.aborted) break;
    try { fn(); } catch (err) { report(err); }
  }
  announce(view);
}

let afterBatch = null;  // the functions waiting for the next frame to be painted

/** Run `fn` once the next frame has been painted (in a task right after it). */
function afterFrame(fn) {
  if (!afterBatch) {
    const batch = [];
    const run = () => {
      if (afterBatch === batch) afterBatch = null;
      for (const f of batch.splice(0)) {
        try { f(); } catch (err) { report(err); }
      }
    };
    afterBatch = batch;
    requestAnimationFrame(() => setTimeout(run, 0));
    setTimeout(run, 250);  // no frames come (a hidden page): do not wait for one
  }
  afterBatch.push(fn);
}

/** What a scene module gets besides its view. */
function context(view, signal) {
  const ctx = {
    view,
    root: null,
    role: state.role,
    surface: state.welcome?.surface?.id ?? SURFACE,
    interactive: state.role !== "display",   // buttons and inputs
    narrates: state.role !== "control",      // sound, narration and large media
    exhibitTitle: pickText(state.exhibitTitle, view.lang),
    // the hall's help text and hotline for the ask terminal (the welcome's `ask` block, or null)
    ask: state.welcome?.ask ?? null,
    signal,
    reducedMotion: reducedMotion(),
    url: assetUrl,
    t: (k) => t(ctx.view, k),
    fmt,
    send: sendInput,
    image: (path, opts) => artImage(path, opts),
    source: (id) => sourceName(id, ctx.view.lang)?.text || null,
    // {text, lang}: lang is the name's language (null when not known)
    sourceName: (id) => sourceName(id, ctx.view.lang),
    problem,
    announce: (text) => say(text),
    animate: (ms) => { if (!reducedMotion()) meter.during(ms); },
    // after ctx.send(): `fn` (a pressed or picked look) runs only if the answer is slow
    waiting: (fn) => { if (state.pressed) state.pressed.waiting.push(fn); },
    animation: () => meter.begin(),
    captions: (media, dock) => narrator.attach(media, {dock: dock || ctx.root?.querySelector("[data-captions-dock]"),
      lang: ctx.view.lang}),
    track: (path) => narrator.track(assetUrl(path), ctx.view.lang, path),
    timer: (fn, ms) => {
      const id = setTimeout(fn, ms);
      signal.addEventListener("abort", () => clearTimeout(id), {once: true});
      return id;
    },
    // after the scene's first frame (media start, say); never once it has gone
    later: (fn) => {
      if (signal.aborted) return;
      if (!settledYet) later.push(fn);
      else afterFrame(() => { if (!signal.aborted) fn(); });
    },
  };
  const later = [];
  let settledYet = false;
  Object.defineProperty(ctx, "settle", {value: () => {
    settledYet = true;
    return later.splice(0);
  }});
  return ctx;
}

function narrationOf(view) {
  return view.narration && state.role !== "control" ? `${view.narration}|${view.captions || ""}|${view.lang}` : "";
}

function narrate(view, el) {
  if (!view.narration || state.role === "control") {
    narrator.stop();
    return;
  }
  narrator.setEnabled(state.a11y.captions);
  narrator.play({
    src: assetUrl(view.narration), srcPath: view.narration,
    vtt: view.captions ? assetUrl(view.captions) : null, vttPath: view.captions,
    lang: view.lang, dock: el.querySelector("[data-captions-dock]"),
  });
}

/**
 * Shrink a scene's text a little when a long text does not fit; scroll as a
 * last resort. One layout read when the text fits (the frame needs that
 * layout anyway); when it does not, the first step tried is the one at which
 * the text would fit if its area shrank with the square of the type size,
 * and the search walks up or down from there (two or three layouts, not five).
 */
function fit(el, fresh = false) {
  const boxes = el.querySelectorAll("[data-fit]");
  if (!boxes.length) return;
  if (!fresh) {
    if (el.style.getPropertyValue("--fit")) el.style.removeProperty("--fit");
    for (const b of boxes) {
      if (!b.classList.contains("is-scrollable")) continue;
      b.classList.remove("is-scrollable");
      b.removeAttribute("tabindex");
      b.removeAttribute("role");
      b.removeAttribute("aria-label");
    }
  }
  const ratio = overflow(boxes);
  if (ratio <= 1) return;
  const fits = (k) => {
    el.style.setProperty("--fit", String(FIT_STEPS[k]));
    return overflow(boxes) <= 1;
  };
  // the largest step that fits, as the old step-by-step search found it, in
  // fewer layouts: start at the guess, then walk up or down from there
  const guess = FIT_STEPS.findIndex((step) => step * step * ratio <= 1);
  let i = guess < 0 ? FIT_STEPS.length - 1 : guess;  // never 0: the text does not fit at 1
  if (fits(i)) {
    while (i > 1 && fits(i - 1)) i -= 1;
    el.style.setProperty("--fit", String(FIT_STEPS[i]));
    return;
  }
  while (++i < FIT_STEPS.length) {
    if (fits(i)) return;
  }
  for (const b of boxes) {
    if (b.scrollHeight > b.clientHeight + 2) {
      b.classList.add("is-scrollable");
      b.tabIndex = 0;  // a keyboard can scroll it
      b.setAttribute("role", "region");
      b.setAttribute("aria-label", el.querySelector("[data-scene-title]")?.textContent || "text");
    }
  }
}

/** How far the most crowded box overflows (≤ 1: everything fits). */
function overflow(boxes) {
  let worst = 0;
  for (const b of boxes) {
    worst = Math.max(worst, b.scrollHeight / (b.clientHeight + 2), b.scrollWidth / (b.clientWidth + 2));
  }
  return worst;
}

function refit() {
  if (state.scene) fit(state.scene.el);
}

function announce(view) {
  const el = state.scene?.el;
  const heading = el?.querySelector("[data-scene-title]")?.textContent;
  const where = view.type === "quiz" && view.stage === "question"
    ? fmt(view.ui?.question || "", {n: view.index, count: view.count}) : "";
  if (view.type === "quiz" && view.stage === "feedback") return;  // the scene says its feedback
  say([where, heading || view.title].filter(Boolean).join(" — "));
}

function say(text) {
  if (!text) return;
  els.live.textContent = "";
  // a fresh node so that the same words are announced again
  setTimeout(() => { els.live.textContent = text; }, 60);
}

// -- the chrome: language, brand, accessibility tray ------------------------------

function applyLang(view) {
  const lang = typeof view.lang === "string" && view.lang ? view.lang : "en";
  if (document.documentElement.lang !== lang) document.documentElement.lang = lang;
}

function pickText(text, lang) {
  if (!text) return "";
  if (typeof text === "string") return text;
  return text[lang] ?? Object.entries(text).find(([k]) => k !== "id")?.[1] ?? "";
}

/** Write an attribute only when it changes (an equal write can still restyle). */
function setAttr(el, name, value) {
  if (value === null) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else if (el.getAttribute(name) !== value) {
    el.setAttribute(name, value);
  }
}

function setData(el, name, value) {
  if (el.dataset[name] !== value) el.dataset[name] = value;
}

function setHidden(el, hidden) {
  if (el.hidden !== hidden) el.hidden = hidden;
}

function chrome(view) {
  applyLang(view);
  closedNotice(view);
  if (state.message) drawMessage();
  setData(document.body, "phase", view.phase || "");
  setData(document.body, "sceneType", view.type || "");
  const title = pickText(state.exhibitTitle, view.lang);
  setText(els.brand.querySelector(".brand__name"), title);
  setHidden(els.brand, !title || view.type === "attract");
  setAttr(els.tray, "aria-label", t(view, "accessibility"));

  if (!els.status.hidden) setText(els.status, state.refused || t(view, "reconnecting"));
  setHidden(els.tray, state.role === "display");
  if (!els.tray.childElementCount) return;
  const langs = Array.isArray(view.languages) ? view.languages : [];
  const lang = els.tray.querySelector("[data-tray='language']");
  const other = langs.length > 1 ? langs[(langs.indexOf(view.lang) + 1) % langs.length] : null;
  const shown = lang.hidden;
  setHidden(lang, !other);
  setData(lang, "lang", other || "");
  const langLabel = lang.querySelector(".chip__label");
  setText(langLabel, view.ui?.language || other || "");
  if (other) setAttr(langLabel, "lang", other);

  const caps = els.tray.querySelector("[data-tray='captions']");
  const capsShown = caps.hidden;
  setHidden(caps, state.role === "control");
  for (const [el, text] of [[caps.querySelector(".chip__label"), view.ui?.captions || "Captions"],
    [els.tray.querySelector("[data-tray='large'] .chip__label"), t(view, "large_text")],
    [els.tray.querySelector("[data-tray='contrast'] .chip__label"), t(view, "high_contrast")]]) {
    setText(el, text);
    setAttr(el, "lang", langOf(view, text));  // a label in another language: its own voice
  }
  // the tray's one Tab stop moves only when a chip came or went
  if (shown !== lang.hidden || capsShown !== caps.hidden || !state.trayKeyed) {
    state.trayKeyed = true;
    keys.refresh(els.tray.parentElement);
  }
}

function buildTray() {
  const chip = (name, iconName, pressed) => {
    const b = h("button", {type: "button", class: "chip", "data-tray": name, "data-action": "",
      "aria-pressed": pressed === undefined ? null : String(pressed)},
    h("span", {class: "chip__icon", "aria-hidden": "true"}, icon(iconName, "icon")),
    h("span", {class: "chip__label"}));
    return b;
  };
  const language = chip("language", "globe");
  language.dataset.sends = "";
  language.addEventListener("click", () => {
    const lang = language.dataset.lang;
    if (lang) sendInput({type: "language", lang});
  });
  const captions = chip("captions", "captions", true);
  captions.addEventListener("click", () => setA11y({captions: !state.a11y.captions}));
  const large = chip("large", "text", false);
  large.addEventListener("click", () => setA11y({large: !state.a11y.large}));
  const contrast = chip("contrast", "contrast", false);
  contrast.addEventListener("click", () => setA11y({contrast: !state.a11y.contrast}));
  els.tray.replaceChildren(language, captions, large, contrast);
  state.trayKeyed = false;
}

function setA11y(change) {
  Object.assign(state.a11y, change);
  applyA11y();
}

function applyA11y() {
  const a = state.a11y;
  const root = document.documentElement;
  root.classList.toggle("large-text", a.large);
  root.classList.toggle("high-contrast", a.contrast);
  root.classList.toggle("no-captions", !a.captions);
  narrator.setEnabled(a.captions);
  for (const [name, on] of [["captions", a.captions], ["large", a.large], ["contrast", a.contrast]]) {
    els.tray.querySelector(`[data-tray='${name}']`)?.setAttribute("aria-pressed", String(on));
  }
  refit();
}

// -- the idle warning -------------------------------------------------------------

function overlay(view) {
  const o = view.overlay;
  if (o && o.kind === "idle_warning") openIdle(view, o);
  else closeOverlay();
}

function openIdle(view, o) {
  const total = Math.max(0, Math.round(Number(o.countdown) || 0));
  const key = `${view.scene}|${total}`;
  if (state.overlay && state.overlay.key === key) {
    // the same warning again (a resend, a language change): keep the countdown running
    state.overlay.relabel(view);
    return;
  }
  closeOverlay(false);
  const started = performance.now();
  const count = h("p", {id: "idle-count", class: "idle__count"});
  const number = h("span", {class: "idle__number"});
  const heading = h("h2", {id: "idle-title", class: "idle__title"});
  const ring = h("div", {class: "idle__ring", "aria-hidden": "true", style: {"--dur": `${total}s`}},
    svgCircle(), number);
  let here = null;
  if (state.role !== "display") {
    here = h("button", {type: "button", class: "btn btn--primary btn--xl", "data-action": "",
      "data-sends": "", "data-autofocus": ""}, h("span", {class: "btn__label"}));
    here.addEventListener("click", () => sendInput({type: "still_here"}));
  }
  const card = h("div", {class: "idle", role: "dialog", "aria-modal": "true",
    "aria-labelledby": "idle-title", "aria-describedby": "idle-count"},
  ring, heading, count, here ? h("div", {class: "actions", "data-keys-group": "dialog"}, here) : null);
  const left = () => Math.max(0, total - Math.floor((performance.now() - started) / 1000));
  const relabel = (v) => {
    heading.textContent = v.ui?.still_there || "Are you still there?";
    count.textContent = fmt(v.ui?.resetting || "{seconds}", {seconds: left()});
    number.textContent = String(left());
    if (here) here.querySelector(".btn__label").textContent = v.ui?.still_here || "I'm still here";
    // words in another language than the page's: their own voice
    setAttr(heading, "lang", langOf(v, v.ui?.still_there));
    setAttr(count, "lang", langOf(v, v.ui?.resetting));
    if (here) setAttr(here.querySelector(".btn__label"), "lang", langOf(v, v.ui?.still_here));
  };
  relabel(view);
  const tick = () => {
    relabel(state.view || view);
    if (left() > 0) entry.timer = setTimeout(tick, 1000 - ((performance.now() - started) % 1000));
  };
  const entry = {el: card, key, relabel, timer: setTimeout(tick, 1000)};
  state.overlay = entry;
  els.overlay.replaceChildren(card);
  els.overlay.hidden = false;
  els.app.inert = true;
  if (!reducedMotion()) meter.during(FADE_MS);
  keys.refresh(els.overlay);
  if (here) here.focus({preventScroll: true});
}

function closeOverlay(refocus = true) {
  const o = state.overlay;
  if (!o) return;
  clearTimeout(o.timer);
  state.overlay = null;
  els.overlay.replaceChildren();
  els.overlay.hidden = true;
  els.app.inert = state.screenOff;
  if (refocus && state.scene) {
    if (keys.usedKeys) keys.focusFirst(state.scene.el);
    else if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
  }
}

function svgCircle() {
  const svg = h("svg:svg", {class: "idle__svg", viewBox: "0 0 100 100", focusable: "false"});
  svg.append(h("svg:circle", {class: "idle__track", cx: 50, cy: 50, r: 44}),
    h("svg:circle", {class: "idle__fill", cx: 50, cy: 50, r: 44}));
  return svg;
}

// -- reset: the visit is over -------------------------------------------------------

function onReset() {
  state.token++;
  narrator.stop();
  state.narrated = "";
  closeOverlay(false);
  const cur = state.scene;
  if (cur) {
    cur.abort.abort();
    try { cur.mod.dispose?.(cur.el, cur.ctx); } catch (err) { report(err); }
  }
  for (const m of document.querySelectorAll("audio, video")) stopMedia(m);
  els.stage.replaceChildren();
  els.captions.replaceChildren();
  els.live.textContent = "";
  clearMessage();
  state.scene = null;
  state.view = null;
  marks.pending = null;
  state.a11y = {...A11Y_DEFAULTS};
  applyA11y();
  unlock();
  if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
  wipeStorage();
}

function stopMedia(m) {
  try {
    m.pause();
    m.removeAttribute("src");
    m.load();
  } catch { /* gone already */ }
}

// -- inputs -------------------------------------------------------------------------

function newMark() {
  marks.n += 1;
  return `${SURFACE}-${BOOT}-${marks.n}`;
}

function perfMark(name) {
  try {
    performance.mark(name);
    marks.names.push(name);
    if (marks.names.length > 600) {
      for (const old of marks.names.splice(0, 300)) performance.clearMarks(old);
    }
  } catch { /* marks are best effort */ }
}

/** The moment of the touch (or key press) that will send an input. */
function touched(el) {
  const m = newMark();
  perfMark(`touch-${m}`);
  marks.pending = {m, at: performance.now(), el};
}

function takeMark() {
  const p = marks.pending;
  marks.pending = null;
  if (p && performance.now() - p.at < 1500) return p;
  const m = newMark();
  perfMark(`touch-${m}`);
  return {m, el: null};
}

/** Send an engine input. False when it cannot go (display role, not connected, busy). */
function sendInput(input) {
  if (state.role === "display" || !state.welcome || !conn.open || state.busy) return false;
  if (state.screenOff) return false;  // a black screen takes no touch
  if (input?.type === "start" && state.view?.closed) return false;  // closed: no visit starts
  const {m: mark, el} = takeMark();
  marks.mine.add(mark);
  if (marks.mine.size > 100) marks.mine.delete(marks.mine.values().next().value);
  if (!conn.send("input", {input, mark})) return false;
  state.inputs += 1;
  lock(el);
  return true;
}

// While an input is on its way the page ignores further presses (a double tap
// sends one input). Nothing is drawn for it: the station answers within a
// millisecond or two, and a style change here would only cost the frame that
// shows the answer.
function lock(el) {
  state.busy = true;
  clearTimeout(state.busyTimer);
  state.busyTimer = setTimeout(unlock, BUSY_FOR);
  const pressed = {el, waiting: [], timer: 0};
  pressed.timer = setTimeout(() => {
    if (state.pressed !== pressed) return;
    // a slow answer: show which control is waiting for it
    if (pressed.el?.isConnected) pressed.el.dataset.pressed = "";
    for (const fn of pressed.waiting.splice(0)) {
      try { fn(); } catch (err) { report(err); }
    }
  }, PRESSED_AFTER);
  state.pressed = pressed;
}

function unlock() {
  if (!state.busy) return;
  state.busy = false;
  clearTimeout(state.busyTimer);
  const pressed = state.pressed;
  state.pressed = null;
  if (pressed) {
    clearTimeout(pressed.timer);
    if (pressed.el && pressed.el.hasAttribute("data-pressed")) pressed.el.removeAttribute("data-pressed");
  }
}

document.addEventListener("pointerdown", (e) => {
  const target = e.target instanceof Element ? e.target.closest("[data-sends]") : null;
  if (target && !target.disabled && !state.busy) touched(target);
}, true);
document.addEventListener("keydown", (e) => {
  if ((e.key !== "Enter" && e.key !== " ") || e.defaultPrevented) return;
  const target = document.activeElement?.closest?.("[data-sends]");
  if (target && !target.disabled && !state.busy && !e.repeat) touched(target);
}, true);

// -- assets, preloading, problems ------------------------------------------------------

function assetUrl(path) {
  if (!path) return null;
  const p = String(path);
  if (/^([a-z][a-z0-9+.-]*:|\/)/i.test(p)) return p;
  return state.assets + p;
}

/**
 * An illustration in its panel, or a calm gradient panel when it cannot load.
 * `image` is a path, or {src, alt, decorative, fit, focus} (docs/format.md,
 * "Pictures"): `cover` fills the panel (cropping around `focus`), `contain`
 * shows the whole picture. Only a decorative picture is hidden from screen readers.
 */
function artImage(image, {className = "", eager = false} = {}) {
  const pic = typeof image === "string" ? {src: image} : (image && typeof image === "object" ? image : {});
  const path = typeof pic.src === "string" && pic.src ? pic.src : null;
  const box = h("div", {class: `art ${className}`.trim()});
  if (!path) {
    box.classList.add("art--empty");
    return box;
  }
  const fit = pic.fit === "contain" ? "contain" : "cover";
  const [x, y] = focusOf(pic.focus);
  const decorative = pic.decorative === true;
  box.classList.add(`art--${fit}`);
  const img = h("img", {alt: !decorative && typeof pic.alt === "string" ? pic.alt : "",
    "aria-hidden": decorative ? "true" : null, draggable: "false", decoding: "async",
    loading: eager ? "eager" : null,
    style: {"object-fit": fit, "object-position": `${x * 100}% ${y * 100}%`}});
  img.addEventListener("error", () => {
    box.classList.add("art--missing");
    img.remove();
    problem("asset", path, "image could not be loaded");
  }, {once: true});
  img.src = assetUrl(path);
  box.append(img);
  return box;
}

/** A focus point [x, y] (0…1) as given in a view; the middle when it is missing or odd. */
function focusOf(focus) {
  const ok = (v) => typeof v === "number" && v >= 0 && v <= 1;
  return Array.isArray(focus) && ok(focus[0]) && ok(focus[1]) ? focus : [0.5, 0.5];
}

/** A source's name in `lang` ({text, lang}): its own language, the exhibit's default, then any. */
function sourceName(id, lang) {
  const s = id ? state.sources.get(id) : null;
  if (!s) return null;
  if (typeof s.name === "string") {
    return s.name ? {text: s.name, lang: typeof s.lang === "string" && s.lang ? s.lang : null} : null;
  }
  const picked = pickMessage(s.name, lang, state.defaultLang);
  return picked ? {text: picked.words, lang: picked.lang} : null;
}

/**
 * Mark words shown in another language than the page's (a missing translation
 * falls back to another language; the view lists them in `text_lang`) with a
 * `lang` attribute, so that a screen reader switches voice and the right font
 * is used. Only runs when the view has such words.
 */
function markForeign(root, view) {
  for (const el of root.querySelectorAll("[data-foreign]")) {
    el.removeAttribute("lang");
    el.removeAttribute("data-foreign");
  }
  const map = foreignWords(view);
  const langs = new Map();
  for (const [text, lang] of Object.entries(map)) {
    if (typeof lang !== "string" || !lang || lang === view.lang) continue;
    langs.set(text.trim(), lang);
    for (const part of text.split(/\n\s*\n/)) langs.set(part.trim(), lang);
  }
  langs.delete("");
  if (!langs.size) return;
  const mark = (el, lang) => {
    if (!lang || el.hasAttribute("lang")) return;
    el.setAttribute("lang", lang);
    el.dataset.foreign = "";
  };
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (el && n.nodeValue.trim()) mark(el, langs.get(el.textContent.trim()));
  }
  for (const img of root.querySelectorAll("img[alt]")) mark(img, langs.get(img.alt.trim()));
}

const fallbacks = new Map();  // "lang|ui keys" → the renderer's own English fallbacks

/** Words of `view` in another language than its own: the station's `text_lang`, and ours. */
function foreignWords(view) {
  const lang = typeof view.lang === "string" ? view.lang : "en";
  const key = `${lang}|${Object.keys(view.ui || {}).length}`;
  let own = fallbacks.get(key);
  if (!own) {
    own = englishFallbacks(view);
    if (fallbacks.size > 20) fallbacks.clear();
    fallbacks.set(key, own);
  }
  const sent = view.text_lang && typeof view.text_lang === "object" ? view.text_lang : null;
  if (!sent) return own;
  return Object.keys(own).length ? {...own, ...sent} : sent;
}

/** The language of `text` when it is not `view`'s (for a `lang` attribute), else null. */
function langOf(view, text) {
  const lang = text ? foreignWords(view)[text] : null;
  return typeof lang === "string" && lang && lang !== view.lang ? lang : null;
}

const IMAGE = /\.(png|jpe?g|webp|avif|gif|svg)(\?|#|$)/i;
const FETCHABLE = /\.(opus|ogg|oga|mp3|m4a|aac|wav|flac|vtt|json|glb|gltf|bin|ktx2)(\?|#|$)/i;
const keep = [];  // hold preloading images until they are decoded

function preload(list) {
  if (!Array.isArray(list)) return;
  if (preloaded.size > 2000) preloaded.clear();
  for (const raw of list.slice(0, 64)) {
    if (typeof raw !== "string") continue;
    const url = assetUrl(raw);
    if (!url || preloaded.has(url)) continue;
    preloaded.add(url);
    if (IMAGE.test(url)) {
      const img = new Image();
      img.decoding = "async";
      img.onerror = () => problem("asset", raw, "could not be preloaded");
      img.src = url;
      keep.push(img);
      if (keep.length > 24) keep.shift();
      img.decode?.().catch(() => {});
    } else if (FETCHABLE.test(url)) {
      fetch(url, {credentials: "same-origin"}).then((r) => {
        if (!r.ok) problem("asset", raw, `could not be preloaded (HTTP ${r.status})`);
        return r.arrayBuffer();
      }).catch(() => problem("asset", raw, "could not be preloaded"));
    }
  }
}

/** Tell the station something failed (once a minute per thing). */
function problem(what, path, detail) {
  const id = `${what}|${path}|${detail}`;
  const now = performance.now();
  if (now - (state.reported.get(id) ?? -Infinity) < 60_000) return;
  state.reported.set(id, now);
  if (state.reported.size > 200) state.reported.clear();
  const msg = {what, detail: String(detail || "").slice(0, 300)};
  if (path) msg.path = String(path);
  if (conn.open && state.welcome) conn.send("problem", msg);
  else if (state.problems.length < 20) state.problems.push(msg);
}

function report(err) {
  console.error(err);  // eslint-disable-line no-console
  problem("script", null, err && err.message ? err.message : String(err));
}

window.addEventListener("error", (e) => {
  if (e.error || e.message) problem("script", e.filename || null, e.message || "error");
});
window.addEventListener("unhandledrejection", (e) => {
  problem("script", null, `unhandled: ${e.reason && e.reason.message ? e.reason.message : e.reason}`);
});

// -- the operator's notices and the screen ----------------------------------------------

/** The words of `text` ({lang: words}) for this page: its language, the default, then any. */
function pickMessage(text, lang, fallback) {
  if (!text || typeof text !== "object") return null;
  for (const code of [lang, fallback]) {
    if (code && typeof text[code] === "string" && text[code]) return {lang: code, words: text[code]};
  }
  const any = Object.entries(text).find(([, v]) => typeof v === "string" && v);
  return any ? {lang: any[0], words: any[1]} : null;
}

/** `message` cue: a calm banner for `seconds` (0 or no text: take it away). */
function showMessage(data) {
  clearMessage();
  const seconds = Number(data.seconds);
  if (!data.text || !(seconds > 0)) return;
  const entry = {text: data.text, fallback: typeof data.default === "string" ? data.default : null,
    timer: 0, shown: null, key: ""};
  entry.timer = setTimeout(() => { if (state.message === entry) clearMessage(); },
    Math.min(seconds, 3600) * 1000);
  state.message = entry;
  drawMessage();
}

function drawMessage() {
  const m = state.message;
  if (!m) return;
  const lang = state.view?.lang || document.documentElement.lang;
  const picked = pickMessage(m.text, lang, m.fallback);
  if (!picked) {
    clearMessage();
    return;
  }
  const key = `${picked.lang}|${picked.words}`;
  if (m.key === key) return;
  m.key = key;
  m.shown = picked.words;
  els.message.replaceChildren(h("div", {class: "message__card", lang: picked.lang},
    h("span", {class: "message__icon", "aria-hidden": "true"}, icon("info", "icon")),
    h("p", {class: "message__text"}, picked.words)));
}

function clearMessage() {
  const m = state.message;
  if (!m) return;
  clearTimeout(m.timer);
  state.message = null;
  els.message.replaceChildren();
}

/** A closed station: a calm notice in every language of the exhibit over the attract loop. */
function closedNotice(view) {
  const lines = view.closed && Array.isArray(view.closed_notice)
    ? view.closed_notice.filter((l) => l && typeof l.text === "string" && l.text) : [];
  const key = lines.length ? JSON.stringify(lines) : "";
  setData(document.body, "closed", lines.length ? "true" : "");
  if (key === state.noticeKey) return;
  state.noticeKey = key;
  if (!lines.length) {
    els.notice.replaceChildren();
    return;
  }
  const [first, ...rest] = lines;
  els.notice.replaceChildren(h("div", {class: "notice__card"},
    h("span", {class: "notice__icon", "aria-hidden": "true"}, icon("moon", "icon")),
    h("div", {class: "notice__words"},
      h("p", {class: "notice__main", lang: first.lang || null}, first.text),
      rest.map((l) => h("p", {class: "notice__other", lang: l.lang || null}, l.text)))));
}

/** `screen` cue: off is pure black, no touch and no sound; on shows the view again. */
function setScreen(on) {
  const off = !on;
  if (off === state.screenOff) return;
  state.screenOff = off;
  document.body.dataset.screen = off ? "off" : "on";
  els.blackout.hidden = !off;
  els.app.inert = off || state.overlay !== null;
  els.overlay.inert = off;
  if (off) {
    unlock();
    for (const m of document.querySelectorAll("audio, video")) pauseForScreen(m);
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
  } else {
    for (const m of state.paused.splice(0)) {
      if (!m.isConnected || !m.getAttribute("src")) continue;
      const p = m.play();
      if (p && typeof p.catch === "function") p.catch(() => {});
    }
    refit();
  }
}

function pauseForScreen(m) {
  if (m.paused) return;
  try { m.pause(); } catch { return; }
  if (!state.paused.includes(m)) state.paused.push(m);
}

// while the screen is off nothing plays (a view drawn underneath may start media)
document.addEventListener("play", (e) => {
  if (state.screenOff && e.target instanceof HTMLMediaElement) pauseForScreen(e.target);
}, true);
// ... and no touch, click or key reaches anything (window: before every other listener)
for (const type of ["pointerdown", "pointerup", "click", "touchstart", "keydown", "keyup", "wheel"]) {
  window.addEventListener(type, (e) => {
    if (!state.screenOff) return;
    e.stopImmediatePropagation();
    if (e.cancelable) e.preventDefault();
  }, {capture: true, passive: false});
}

// -- preview-only messages ---------------------------------------------------------------

function showProblems(list) {
  const items = Array.isArray(list) ? list : [];
  narrator.stop();
  state.narrated = "";
  const view = state.view || {lang: document.documentElement.lang};
  const el = h("section", {class: "scene problems", "aria-labelledby": "scene-title"},
    h("div", {class: "problems__card"},
      h("h1", {id: "scene-title", class: "title"}, t(view, "problems")),
      h("ul", {class: "problems__list"}, items.slice(0, 50).map((p) => h("li", {class: `problem problem--${p.severity || "error"}`},
        h("p", {class: "problem__where"}, [p.file, p.line, p.column].filter((x) => x !== undefined && x !== null).join(":")),
        h("p", {class: "problem__what"}, p.message || ""),
        p.hint ? h("p", {class: "problem__hint"}, p.hint) : null)))));
  if (state.scene) leave(state.scene);
  state.scene = null;
  els.stage.replaceChildren(el);
}

// -- the beat: "this page is alive" every `welcome.beat` seconds ----------------------------------
// A plain timer on the main thread, on purpose: a page whose main thread hangs (a script in an
// endless loop) stops beating, and the kiosk supervisor reads the silence (/kiosk/state).

let beatTimer = 0;
function startBeat(seconds) {
  clearInterval(beatTimer);
  const every = Number(seconds);
  if (!(every > 0)) return;
  beatTimer = setInterval(() => {
    if (conn.open && state.welcome) conn.send("beat");
  }, Math.max(250, every * 1000));
}

// -- connection state ------------------------------------------------------------------------

let downTimer = 0;
function connectionState(s) {
  document.body.dataset.connection = s;
  if (s === "open" && state.welcome) {
    clearTimeout(downTimer);
    downTimer = 0;
    els.status.hidden = true;
    return;
  }
  if (s === "closed") state.welcome = null;
  if (!downTimer && els.status.hidden) {
    downTimer = setTimeout(() => {
      downTimer = 0;
      if (state.welcome && conn.open) return;
      els.status.textContent = state.refused ||
        t(state.view || {lang: document.documentElement.lang}, "reconnecting");
      els.status.hidden = false;
    }, RECONNECTING_AFTER);
  }
}

// -- kiosk hygiene -----------------------------------------------------------------------------

document.addEventListener("contextmenu", (e) => e.preventDefault());
document.addEventListener("dragstart", (e) => e.preventDefault());
document.addEventListener("selectstart", (e) => e.preventDefault());
document.addEventListener("wheel", (e) => { if (e.ctrlKey) e.preventDefault(); }, {passive: false});
// DevTools and view-source keys: a kiosk refuses them with its own "DevTools not allowed"
// notice drawn over the exhibit until someone dismisses it. Chromium gives these keys to
// the page first, so the page keeps them (the escape battery, tests/e2e/test_escape.py).
window.addEventListener("keydown", (e) => {
  if (devtoolsKey(e)) e.preventDefault();
}, {capture: true});

function devtoolsKey(e) {
  // the key's place on the keyboard, as Chromium's shortcuts go by it (any layout)
  const key = /^Key[A-Z]$/.test(e.code || "") ? e.code.slice(3) : String(e.key || "").toUpperCase();
  if (key === "F12") return true;
  const mod = e.ctrlKey || e.metaKey;
  if (mod && e.shiftKey && ["I", "J", "C"].includes(key)) return true;  // inspect, console, pick
  if (e.metaKey && e.altKey && ["I", "J", "C", "U"].includes(key)) return true;  // macOS
  return mod && !e.shiftKey && !e.altKey && key === "U";  // view source
}
let resizeTimer = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(refit, 150);
});

// -- start ---------------------------------------------------------------------------------------

watchIndexedDB();
buildTray();
applyA11y();
document.body.dataset.role = state.role;
scenes.warm((detail) => problem("script", null, detail));
setInterval(() => {
  if (conn.open && state.welcome) conn.send("metrics", meter.report());
}, METRICS_EVERY);
conn.connect();
