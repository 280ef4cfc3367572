// A `model` scene (docs/3d.md): a glTF model to turn around, hotspots on its
// named nodes, and a "years of use" timeline that blends its morph targets
// and material colours in the page while a visitor scrubs.
//
//   kiosk    the model fills a panel, the timeline slider with its narration
//            under it; hotspot markers are buttons on it (labels kept whole
//            inside the frame); the side panel has the title, the text (or
//            the open hotspot's detail, Close at its top) and Continue.
//   control  a small preview with numbered points; the slider, the hotspots
//            as a numbered list of buttons, the open detail, Continue.
//   display  the model big, turning; the open detail and the timeline's
//            narration as text; no buttons.
//   hologram displays (pyramid, fan): the model alone on black, nothing else.
//
// The page sends only what a visitor settled on: `hotspot {id}` (or
// `{id: null}` to close) and, 300 ms after the slider is let go,
// `timeline {value}`. The view that comes back says what the station
// settled on; the page animates to it.

import {h, setText} from "../dom.js";
import {actions, button, paragraphs, sourceLine, title} from "../parts.js";
import {claimFacts, config, facts, hologram, ownsFacts, releaseFacts} from "../three/config.js";
import {ModelStage} from "../three/model-stage.js";
import {s3} from "../three/strings3d.js";
import {activeRange} from "../three/timeline.js";
import {detailBlock, keyHandler, labelPlace, vrButton} from "../three/ui.js";
import {xr} from "../xr/bridge.js";

const SEND_AFTER_MS = 300;     // the slider's value is sent this long after it was let go
const FADE_AFTER_MS = 460;     // a leaving scene keeps its last picture through the cross-fade

const scenes = new WeakMap();  // ctx → ModelScene

export function render(view, ctx) {
  const scene = new ModelScene(view, ctx);
  scenes.set(ctx, scene);
  return scene.root;
}

export function update(view, ctx) {
  const scene = scenes.get(ctx);
  return scene ? scene.update(view) : false;
}

export function dispose(el, ctx) {
  scenes.get(ctx)?.dispose();
  scenes.delete(ctx);
}

class ModelScene {
  constructor(view, ctx) {
    this.view = view;
    this.ctx = ctx;
    this.role = ctx.role;
    this.holo = hologram();
    this.abort = new AbortController();
    this.markers = new Map();    // id → marker element
    this.scrubbing = false;
    this.sendTimer = 0;
    this.pending = null;         // a value waiting to be sent
    this.sent = null;            // the last value sent
    this.played = "";            // the narration playing (hotspot or range)
    claimFacts(this);
    facts.scene = view.scene ?? null;
    facts.type = "model";
    facts.mode = this.holo || "2d";
    facts.openHotspot = view.open ?? null;
    facts.settled = view.timeline ? Number(view.timeline.value) : null;
    this.root = this.build(view);
    this.start();
  }

  owns() {
    return ownsFacts(this);
  }

  // -- drawing ------------------------------------------------------------------------

  build(view) {
    const ctx = this.ctx;
    if (this.holo) {
      // a hologram's picture: the model on black, no words, no chrome
      this.host = h("div", {class: `three__host holo holo--${this.holo}`, "aria-hidden": "true"});
      if (this.holo === "fan") this.host.style.setProperty("--fan", String(config.fan.diameter));
      return h("section", {class: `model3d model3d--${this.holo}`, "aria-labelledby": "scene-title"},
        h("h1", {id: "scene-title", class: "sr-only", "data-scene-title": ""}, view.title || ""),
        this.host);
    }
    const role = this.role;
    const root = h("section", {class: `model3d scene-grid role-${role}`, "aria-labelledby": "scene-title"});
    this.root = root;
    this.host = h("div", {class: "three__host", tabindex: role === "display" ? null : "0",
      role: role === "display" ? null : "group",
      "aria-label": role === "display" ? null : s3(view, "model_label", {title: view.title || ""}),
      "aria-hidden": role === "display" ? "true" : null});
    this.layer = h("div", {class: "hotspots", role: role === "kiosk" ? "group" : null,
      "aria-label": role === "kiosk" ? s3(view, "explore") : null,
      "aria-hidden": role === "kiosk" ? null : "true",
      "data-keys-group": role === "kiosk" ? "hotspots" : null});
    this.stageEl = h("div", {class: "frame model3d__stage", "data-captions-dock": ""},
      this.host, this.layer,
      role !== "display" ? h("p", {class: "model3d__hint", "aria-hidden": "true"}, s3(view, "drag_hint")) : null,
      this.loadingEl = h("div", {class: "model3d__loading", "aria-hidden": "true"}, h("span")));
    this.text = h("div", {class: "panel__text model3d__text", "data-fit": ""});
    this.detailEl = h("div", {class: "model3d__detail"});
    this.timelineEl = view.timeline ? this.timelineBlock(view) : null;
    this.listEl = role === "control" && (view.hotspots || []).length ? this.hotspotList(view) : null;
    const next = button(ctx, {label: view.ui?.next || "Continue", iconName: "arrow", input: {type: "advance"}});
    this.vrEl = role !== "display" ? vrButton(view, ctx, {onEnter: () => this.enterVR()}) : null;
    if (this.vrEl) this.stageEl.append(this.vrEl);
    // the timeline goes with the model (under it); the words and Continue beside (3d.css)
    root.append(h("div", {class: "model3d__left"}, this.stageEl, this.listEl), this.timelineEl,
      h("div", {class: "panel model3d__panel"}, this.text, actions(ctx, next)));
    this.fillText(view);
    this.fillMarkers(view);
    return root;
  }

  fillText(view) {
    const open = this.openHotspot(view);
    const parts = [title(view.title)];
    if (open) parts.push(this.detail(open, view));
    else parts.push(paragraphs(view.body), sourceLine(this.ctx, view.source));
    this.text.replaceChildren(...parts.filter(Boolean));
    this.text.classList.toggle("is-detail", Boolean(open));
    // an open detail takes the panel under the title, which steps down a size (3d.css)
    this.root.classList.toggle("has-detail", Boolean(open));
  }

  openHotspot(view) {
    return (view.hotspots || []).find((x) => x.id === view.open) || null;
  }

  /** The open hotspot's detail: its label and Close, picture, text and source. */
  detail(hs, view) {
    return detailBlock(this.ctx, view, hs);
  }

  fillMarkers(view) {
    this.layer.replaceChildren();
    this.markers.clear();
    this.labelObserver?.disconnect();
    this.labelSizes = new Map();   // label element → {w, h}, kept by a ResizeObserver (large text changes it)
    this.labelObserver = new ResizeObserver((entries) => {
      for (const e of entries) {
        const box = e.borderBoxSize?.[0];
        this.labelSizes.set(e.target, box ? {w: box.inlineSize, h: box.blockSize}
          : {w: e.target.offsetWidth, h: e.target.offsetHeight});
      }
      this.stage?.loop.request();
    });
    (view.hotspots || []).forEach((hs, i) => {
      const open = hs.id === view.open;
      const label = this.role === "control" ? null : h("span", {class: "hotspot__label"}, hs.label || hs.id);
      // the control panel's small preview numbers its points, as its list does
      const num = this.role === "control" ? h("span", {class: "hotspot__num"}, String(i + 1)) : null;
      let el;
      if (this.role === "kiosk") {
        el = h("button", {type: "button", class: "hotspot", "data-action": "", "data-sends": "",
          "data-hotspot": hs.id, "aria-expanded": String(open)},
        h("span", {class: "hotspot__dot", "aria-hidden": "true"}), label);
        el.addEventListener("click", () => this.toggle(hs.id));
        // a finger on a point holds the turning model still, so the point stays under it
        el.addEventListener("pointerdown", () => this.hold(), {signal: this.abort.signal});
      } else {
        el = h("span", {class: "hotspot hotspot--static", "data-hotspot": hs.id},
          h("span", {class: "hotspot__dot"}, num), label);
      }
      el.classList.toggle("is-open", open);
      el.hidden = true;  // until the model is there and the marker placed
      el.label = label;
      if (label) this.labelObserver.observe(label);
      this.layer.append(el);
      this.markers.set(hs.id, el);
    });
  }

  /** A finger (or the mouse) is down on a hotspot: no turning until it lifts. */
  hold() {
    if (!this.stage || this.holding) return;
    this.holding = true;
    this.stage.hold(true);
    const lift = () => {
      this.holding = false;
      window.removeEventListener("pointerup", lift, true);
      window.removeEventListener("pointercancel", lift, true);
      this.stage?.hold(false);
    };
    window.addEventListener("pointerup", lift, {capture: true, signal: this.abort.signal});
    window.addEventListener("pointercancel", lift, {capture: true, signal: this.abort.signal});
  }

  /** The control panel's list of hotspots (the preview is too small to touch). */
  hotspotList(view) {
    const list = h("div", {class: "choices model3d__list", role: "group", "data-keys-group": "hotspots",
      "aria-label": s3(view, "explore")});
    (view.hotspots || []).forEach((hs, i) => {
      // the number is the one on the preview's point
      const b = h("button", {type: "button", class: "choice choice--compact", "data-action": "", "data-sends": "",
        "data-hotspot": hs.id, "aria-pressed": String(hs.id === view.open)},
      h("span", {class: "choice__mark", "aria-hidden": "true"}, String(i + 1)),
      h("span", {class: "choice__text"}, hs.label || hs.id));
      b.addEventListener("click", () => this.toggle(hs.id));
      list.append(b);
    });
    return list;
  }

  timelineBlock(view) {
    const t = view.timeline;
    const id = `timeline-${t.id}`;
    const block = h("div", {class: "timeline", "data-keys-group": this.ctx.interactive ? "timeline" : null});
    this.tLabel = h("label", {class: "timeline__label", for: this.ctx.interactive ? id : null}, t.label || "");
    this.tValue = h("output", {class: "timeline__value", for: this.ctx.interactive ? id : null, "aria-hidden": "true"});
    this.tNarr = h("p", {class: "timeline__narration", id: `${id}-text`, "aria-live": "polite"});
    block.append(h("div", {class: "timeline__head"}, this.tLabel, this.tValue));
    if (this.ctx.interactive) {
      const slider = h("input", {type: "range", id, class: "timeline__slider", min: String(t.min), max: String(t.max),
        step: "any", value: String(t.value), "aria-describedby": `${id}-text`, "data-action": ""});
      this.slider = slider;
      const ticks = h("div", {class: "timeline__ticks", "aria-hidden": "true"}, h("span"), h("span"));
      this.ticks = ticks;
      this.fillTicks(view);
      block.append(h("div", {class: "timeline__track"}, slider), ticks);
      this.wireSlider(slider);
    } else {
      this.meter = h("div", {class: "timeline__meter", "aria-hidden": "true"}, h("span"));
      block.append(this.meter);
    }
    block.append(this.tNarr);
    this.showValue(Number(t.value), t);
    return block;
  }

  fillTicks(view) {
    const t = view.timeline;
    const [lo, hi] = this.ticks.children;
    setText(lo, this.valueText(t.min, t, view.lang));
    setText(hi, this.valueText(t.max, t, view.lang));
  }

  valueText(value, t = this.view.timeline, lang = this.view.lang) {
    const step = Number(t.step) || 1;
    const decimals = Math.max(0, Math.min(3, (String(step).split(".")[1] || "").length));
    const n = Number(value).toFixed(decimals);
    const unit = t.unit ? (/^zh|^ja/.test(lang || "") ? t.unit : ` ${t.unit}`) : "";
    return `${n}${unit}`;
  }

  /** Show a value on the slider's readout and its narration (while scrubbing too). */
  showValue(value, t = this.view.timeline) {
    if (!t) return;
    const step = Number(t.step) || 1;
    const shown = Math.min(t.max, Math.max(t.min, t.min + Math.round((value - t.min) / step) * step));
    const text = this.valueText(shown, t);
    setText(this.tValue, text);
    if (this.slider) {
      if (!this.scrubbing && Math.abs(this.slider.valueAsNumber - value) > 1e-6) this.slider.value = String(value);
      this.slider.setAttribute("aria-valuetext", text);
      const f = (value - t.min) / (t.max - t.min || 1);
      this.slider.style.setProperty("--f", String(Math.min(1, Math.max(0, f))));
    }
    if (this.meter) this.meter.style.setProperty("--f", String(Math.min(1, Math.max(0, (value - t.min) / (t.max - t.min || 1)))));
    const i = activeRange(t, this.scrubbing ? value : shown);
    const words = i === null ? "" : t.narration[i].text || "";
    if (this.tNarr.textContent !== words) {
      this.tNarr.textContent = words;
      this.tNarr.classList.remove("is-new");
      void this.tNarr.offsetWidth;  // restart the soft fade-in
      this.tNarr.classList.add("is-new");
    }
  }

  wireSlider(slider) {
    const sig = {signal: this.abort.signal};
    slider.addEventListener("pointerdown", () => {
      this.scrubbing = true;
      clearTimeout(this.sendTimer);
      this.stage?.nudge();
    }, sig);
    slider.addEventListener("input", () => {
      const v = slider.valueAsNumber;
      this.scrubbing = true;
      clearTimeout(this.sendTimer);
      this.stage?.scrub(v);
      this.showValue(v);
    }, sig);
    const letGo = () => {
      if (!this.scrubbing) return;
      this.scrubbing = false;
      this.queueSend(slider.valueAsNumber);
    };
    slider.addEventListener("pointerup", letGo, sig);
    slider.addEventListener("pointercancel", letGo, sig);
    slider.addEventListener("change", letGo, sig);
    slider.addEventListener("lostpointercapture", letGo, sig);
  }

  /** Keyboard on the slider: a step per arrow, a fifth per page key, the ends on Home/End. */
  sliderKey(e) {
    const t = this.view.timeline;
    const step = Number(t.step) || (t.max - t.min) / 10;
    const big = Math.max(step, Math.round((t.max - t.min) / 5 / step) * step);
    const cur = this.pending ?? this.stage?.value ?? Number(t.value);
    let v = null;
    switch (e.key) {
      case "ArrowRight": case "ArrowUp": v = cur + step; break;
      case "ArrowLeft": case "ArrowDown": v = cur - step; break;
      case "PageUp": v = cur + big; break;
      case "PageDown": v = cur - big; break;
      case "Home": v = t.min; break;
      case "End": v = t.max; break;
      default: return false;
    }
    v = Math.min(t.max, Math.max(t.min, t.min + Math.round((v - t.min) / step) * step));
    v = Number(v.toFixed(6));
    this.slider.value = String(v);
    this.stage?.settle(v);
    this.stage?.nudge();
    this.showValue(v);
    this.pending = v;
    clearTimeout(this.sendTimer);
    return true;
  }

  queueSend(value) {
    this.pending = value;
    clearTimeout(this.sendTimer);
    this.sendTimer = setTimeout(() => this.flush(), SEND_AFTER_MS);
  }

  flush(tries = 0) {
    if (this.abort.signal.aborted || this.pending === null) return;
    const value = Number(this.pending.toFixed(6));
    if (this.sent !== null && Math.abs(value - Number(this.view.timeline.value)) < 1e-9) {
      // nothing moved since the station settled: show the settled value again
      this.pending = null;
      this.stage?.settle(Number(this.view.timeline.value));
      this.showValue(Number(this.view.timeline.value));
      return;
    }
    const ok = this.ctx.send({type: "act", action: "timeline", payload: {value}});
    if (!ok && tries < 10) {
      // another input is on its way (or the connection is down): try again soon
      this.sendTimer = setTimeout(() => this.flush(tries + 1), SEND_AFTER_MS);
      return;
    }
    this.sent = value;
    this.pending = null;
  }

  toggle(id) {
    this.stage?.nudge();
    const open = this.view.open === id;
    this.ctx.send({type: "act", action: "hotspot", payload: {id: open ? null : id}});
  }

  // -- the 3-D stage --------------------------------------------------------------------

  start() {
    const ctx = this.ctx;
    const mode = this.holo || "2d";
    this.stage = new ModelStage({
      host: this.host, view: this.view, url: ctx.url(this.view.model), mode,
      orbit: !this.holo, alwaysTurn: this.role === "display" || Boolean(this.holo),
      reducedMotion: Boolean(ctx.reducedMotion), owns: () => this.owns(),
      onFrame: () => this.placeMarkers(),
    });
    window.addEventListener("keydown", (e) => this.onKey(e), {capture: true, signal: this.abort.signal});
    window.addEventListener("keyup", (e) => this.onKeyUp(e), {capture: true, signal: this.abort.signal});
    this.stage.load(this.abort.signal).then(() => {
      if (this.abort.signal.aborted) return;
      this.root.classList.add("is-loaded");
      this.loadingEl?.remove();
      this.stageEl?.addEventListener("pointerdown", () => this.root.classList.add("is-touched"), {once: true});
      xr.offer(this);  // a headset that is on shows this model
    }).catch((err) => {
      if (this.abort.signal.aborted) return;
      this.root.classList.add("is-failed");
      this.loadingEl?.remove();
      ctx.problem("asset", this.view.model, String(err?.message || err));
    });
    // timeline narration of the range the scene starts in, hotspot narration if one is open
    ctx.later?.(() => this.narrate(this.view, null));
  }

  onKey(e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const active = document.activeElement;
    // the page's keyboard layer moves focus with arrows; on the slider and the model they do their own job
    if (this.slider && active === this.slider) {
      if (this.sliderKey(e)) {
        e.preventDefault();
        e.stopPropagation();
      }
      return;
    }
    if (active === this.host && this.stage?.controls) {
      const used = keyHandler(e, (dYaw, dPitch, zoom) => this.orbitBy(dYaw, dPitch, zoom));
      if (used) {
        e.preventDefault();
        e.stopPropagation();
      }
    }
  }

  onKeyUp(e) {
    if (this.slider && document.activeElement === this.slider && this.pending !== null &&
        /^(Arrow|Page|Home|End)/.test(e.key)) this.queueSend(this.pending);
  }

  orbitBy(dYaw, dPitch, zoom) {
    const st = this.stage;
    if (!st?.loaded) return;
    st.nudge();
    const c = st.controls;
    const offset = st.camera.position.clone().sub(c.target);
    const r = offset.length();
    const yaw = Math.atan2(offset.x, offset.z) + dYaw;
    let polar = Math.acos(Math.max(-1, Math.min(1, offset.y / r))) - dPitch;
    polar = Math.max(c.minPolarAngle, Math.min(c.maxPolarAngle, polar));
    const dist = Math.max(c.minDistance, Math.min(c.maxDistance, r * zoom));
    offset.set(Math.sin(polar) * Math.sin(yaw), Math.cos(polar), Math.sin(polar) * Math.cos(yaw)).multiplyScalar(dist);
    st.camera.position.copy(c.target).add(offset);
    st.camera.lookAt(c.target);
    c.update();
    st.loop.request();
  }

  placeMarkers() {
    if (!this.layer || !this.stage?.loaded) return;
    const pts = this.stage.project();
    const out = [];
    let rect = null;
    if (this.owns()) rect = this.host.getBoundingClientRect();
    const {width, height} = this.stage.size;
    const u = Math.min(window.innerWidth, window.innerHeight) / 135;  // --u in px
    // labels are placed open first, then those in front, then those behind: each clear of the ones before
    const rank = (p) => (p.id === this.view.open ? 0 : p.behind ? 2 : 1);
    const taken = [];
    for (const p of [...pts].sort((a, b) => rank(a) - rank(b))) {
      const el = this.markers.get(p.id);
      if (!el) continue;
      const show = p.visible;
      if (el.hidden === show) el.hidden = !show;
      const x = Math.round(p.x * 2) / 2;
      const y = Math.round(p.y * 2) / 2;
      const size = el.label && show ? this.labelSizes.get(el.label) : null;
      // the whole label inside the frame: beside the point, flipped or moved near an edge or another label
      const at = size ? labelPlace(x, y, size.w, size.h, width, height, u * 2, u, taken)
        : {flipped: false, dx: 0, dy: 0};
      const key = `${x},${y},${at.flipped},${at.dx},${at.dy}`;
      if (el.dataset.at !== key) {
        el.dataset.at = key;
        el.style.transform = `translate(${x}px, ${y}px)`;
        el.classList.toggle("is-flipped", at.flipped);
        if (el.label) el.label.style.translate = at.dx || at.dy ? `${at.dx}px ${at.dy}px` : "";
      }
      el.classList.toggle("is-behind", p.behind);
      if (rect) {
        const hs = (this.view.hotspots || []).find((x2) => x2.id === p.id);
        out.push({id: p.id, label: hs?.label ?? p.id, x: Math.round(rect.left + p.x), y: Math.round(rect.top + p.y),
          visible: show, behind: p.behind});
      }
    }
    if (rect) facts.hotspots = out;
  }

  // -- a new view for the same scene -----------------------------------------------------

  update(view) {
    const old = this.view;
    if (old.model !== view.model || this.holo !== hologram()) return false;
    const ids = (v) => JSON.stringify([(v.hotspots || []).map((x) => [x.id, x.node]), v.timeline?.id ?? null,
      v.timeline?.min, v.timeline?.max, v.camera, v.auto_rotate, v.background]);
    if (ids(old) !== ids(view)) return false;
    const sameWords = old.lang === view.lang && JSON.stringify([old.title, old.body, old.hotspots, old.timeline?.label,
      old.timeline?.narration, old.timeline?.unit]) === JSON.stringify([view.title, view.body, view.hotspots,
      view.timeline?.label, view.timeline?.narration, view.timeline?.unit]);
    this.view = view;
    this.ctx.view = view;
    if (this.stage) this.stage.view = view;
    if (this.owns()) {
      facts.openHotspot = view.open ?? null;
      facts.settled = view.timeline ? Number(view.timeline.value) : null;
    }
    if (!this.holo) {
      if (!sameWords || old.open !== view.open) {
        const focusWasIn = this.text.contains(document.activeElement);
        this.fillText(view);
        if (focusWasIn && this.ctx.interactive) {
          // focus stays in the panel: on the close button when a detail opened, else the title's panel
          (this.text.querySelector(".model3d__close") || this.markers.get(old.open))?.focus({preventScroll: true});
        }
      }
      if (!sameWords) {
        this.fillMarkers(view);
        this.stage?.loop.request();
        if (this.timelineEl) setText(this.tLabel, view.timeline.label || "");
        if (this.ticks) this.fillTicks(view);
        if (this.listEl) {
          const fresh = this.hotspotList(view);
          this.listEl.replaceWith(fresh);
          this.listEl = fresh;
        }
        this.host.setAttribute("aria-label", s3(view, "model_label", {title: view.title || ""}));
        setText(this.root.querySelector(".model3d__hint"), s3(view, "drag_hint"));
        setText(this.root.querySelector(".model3d__panel .actions .btn__label"), view.ui?.next || "Continue");
        if (this.vrEl) setText(this.vrEl.querySelector(".btn__label"), s3(view, "enter_vr"));
      }
      for (const [id, el] of this.markers) {
        el.classList.toggle("is-open", id === view.open);
        if (el.tagName === "BUTTON") el.setAttribute("aria-expanded", String(id === view.open));
      }
      for (const b of this.listEl?.querySelectorAll("[data-hotspot]") || []) {
        b.setAttribute("aria-pressed", String(b.dataset.hotspot === view.open));
      }
    }
    this.stage?.setOpen(view.open);
    if (view.timeline) {
      const v = Number(view.timeline.value);
      if (!this.scrubbing && this.pending === null) {
        this.stage?.settle(v);
        if (this.timelineEl) this.showValue(v, view.timeline);
      }
    }
    xr.changed(this);
    this.narrate(view, old);
    return true;
  }

  /** Narration of the open hotspot, or of a timeline range that was just entered. */
  narrate(view, old) {
    if (!this.ctx.narrates || this.holo) return;
    const hs = this.openHotspot(view);
    let want = null;
    if (hs && hs.detail?.narration && (!old || old.open !== view.open || old.lang !== view.lang)) {
      want = {src: hs.detail.narration, vtt: hs.detail.captions};
    } else if (view.timeline) {
      const i = view.timeline.active;
      const was = old?.timeline?.active;
      const r = i === null || i === undefined ? null : view.timeline.narration?.[i];
      if (r?.narration && (!old || i !== was || old.lang !== view.lang)) want = {src: r.narration, vtt: r.captions};
    }
    if (!want && old && old.open && !view.open && this.played.startsWith("hotspot")) this.stopSound();
    if (want) this.play(want, hs ? "hotspot" : "range");
  }

  play({src, vtt}, kind) {
    const ctx = this.ctx;
    this.stopSound();
    const audio = h("audio", {preload: "auto", class: "model3d__audio"});
    if (vtt) audio.append(ctx.track(vtt));
    audio.addEventListener("error", () => ctx.problem("media", src, "narration could not be played"), {once: true});
    this.root.append(audio);
    this.audio = audio;
    this.played = `${kind}|${src}`;
    audio.src = ctx.url(src);
    if (vtt) ctx.captions(audio, this.stageEl);
    const p = audio.play();
    if (p && p.catch) p.catch(() => {});
  }

  stopSound() {
    const a = this.audio;
    this.audio = null;
    this.played = "";
    if (!a) return;
    try {
      a.pause();
      a.removeAttribute("src");
      a.load();
    } catch { /* gone */ }
    a.remove();
  }

  enterVR() {
    xr.enter(this.ctx);
  }

  dispose() {
    this.abort.abort();
    clearTimeout(this.sendTimer);
    this.labelObserver?.disconnect();
    this.stopSound();
    xr.withdraw(this);
    this.stage?.dispose({after: this.ctx.reducedMotion ? 0 : FADE_AFTER_MS});
    releaseFacts(this);
  }
}
