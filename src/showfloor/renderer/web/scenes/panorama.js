// A `panorama` scene (docs/3d.md): a 360° equirectangular image (or a
// looping, muted video) on the inside of a sphere; drag (or the arrow keys)
// to look around; hotspots at directions are buttons: a `detail` hotspot
// opens a panel, a `goto` hotspot leads to another scene (a tour).
//
// Yaw 0 is the image's middle column, positive yaw to the right, pitch 0 the
// horizon; in three.js's camera frame (looking along −Z at yaw 0) the
// direction is (sin yaw·cos pitch, sin pitch, −cos yaw·cos pitch).

import {h, setText} from "../dom.js";
import {actions, button, paragraphs, sourceLine, title} from "../parts.js";
import {claimFacts, facts, hologram, ownsFacts, releaseFacts} from "../three/config.js";
import {
  DEG, Loop, THREE, disposeTree, dropRenderer, ease, loadTexture, makeRenderer, recordInfo, round, sizeOf,
} from "../three/core.js";
import {s3} from "../three/strings3d.js";
import {detailBlock, keyHandler, vrButton} from "../three/ui.js";
import {xr} from "../xr/bridge.js";

const RADIUS = 50;
const FADE_AFTER_MS = 460;
const DRIFT = 2.5;            // degrees per second on a display surface (a slow look round)
const FACE_MS = 700;          // turning to an opened hotspot that the card would cover

const scenes = new WeakMap();

export function render(view, ctx) {
  const s = new PanoramaScene(view, ctx);
  scenes.set(ctx, s);
  return s.root;
}

export function update(view, ctx) {
  return scenes.get(ctx)?.update(view) ?? false;
}

export function dispose(el, ctx) {
  scenes.get(ctx)?.dispose();
  scenes.delete(ctx);
}

/** The unit vector of a direction (degrees), three.js frame. */
export function direction(yawDeg, pitchDeg, out = new THREE.Vector3()) {
  const y = yawDeg * DEG;
  const p = pitchDeg * DEG;
  return out.set(Math.sin(y) * Math.cos(p), Math.sin(p), -Math.cos(y) * Math.cos(p));
}

/**
 * The sphere a panorama is drawn on: inverted, its image's middle column at
 * −Z and its right half towards +X (yaw 0 ahead, yaw 90 to the right).
 */
export function panoramaSphere(texture, radius = RADIUS) {
  const geo = new THREE.SphereGeometry(radius, 96, 48);
  geo.scale(-1, 1, 1);
  const mat = new THREE.MeshBasicMaterial({map: texture, toneMapped: false, depthWrite: false});
  const mesh = new THREE.Mesh(geo, mat);
  mesh.rotation.y = -Math.PI / 2;
  mesh.name = "panorama";
  mesh.renderOrder = -10;
  return mesh;
}

class PanoramaScene {
  constructor(view, ctx) {
    this.view = view;
    this.ctx = ctx;
    this.role = ctx.role;
    this.abort = new AbortController();
    this.markers = new Map();
    this.yaw = Number(view.yaw) || 0;
    this.pitch = Number(view.pitch) || 0;
    this.baseFov = Math.min(110, Math.max(30, Number(view.fov) || 75));
    this.fov = this.baseFov;
    this.vel = {yaw: 0, pitch: 0};
    this.drag = null;
    claimFacts(this);
    facts.scene = view.scene ?? null;
    facts.type = "panorama";
    facts.mode = hologram() || "2d";
    facts.openHotspot = view.open ?? null;
    this.root = this.build(view);
    this.start();
  }

  owns() {
    return ownsFacts(this);
  }

  build(view) {
    const role = this.role;
    const root = h("section", {class: `pano3d role-${role}`, "aria-labelledby": "scene-title"});
    this.host = h("div", {class: "three__host", tabindex: role === "display" ? null : "0",
      role: role === "display" ? null : "group",
      "aria-label": role === "display" ? null : s3(view, "panorama_label", {title: view.title || ""}),
      "aria-hidden": role === "display" ? "true" : null});
    this.layer = h("div", {class: "hotspots", role: role === "display" ? null : "group",
      "aria-label": role === "display" ? null : s3(view, "explore"),
      "aria-hidden": role === "display" ? "true" : null,
      "data-keys-group": role === "display" ? null : "hotspots"});
    this.card = h("div", {class: "pano3d__card", "data-fit": ""});
    const next = button(this.ctx, {label: view.ui?.next || "Continue", iconName: "arrow", input: {type: "advance"}});
    this.vrEl = role !== "display" ? vrButton(view, this.ctx, {onEnter: () => xr.enter(this.ctx)}) : null;
    this.loadingEl = h("div", {class: "pano3d__loading", "aria-hidden": "true"}, h("span"));
    root.append(this.host, h("div", {class: "topshade", "aria-hidden": "true"}), this.layer, this.loadingEl,
      h("div", {class: "pano3d__bar", "data-captions-dock": ""}, this.card, actions(this.ctx, next)));
    if (this.vrEl) root.append(this.vrEl);
    this.fillCard(view);
    this.fillMarkers(view);
    return root;
  }

  fillCard(view) {
    const open = (view.hotspots || []).find((x) => x.id === view.open && x.detail);
    const parts = [title(view.title)];
    if (open) {
      parts.push(detailBlock(this.ctx, view, open));
    } else {
      parts.push(paragraphs(view.body), sourceLine(this.ctx, view.source));
    }
    this.card.replaceChildren(...parts.filter(Boolean));
  }

  fillMarkers(view) {
    this.layer.replaceChildren();
    this.markers.clear();
    for (const hs of view.hotspots || []) {
      const open = hs.id === view.open;
      let el;
      const go = Boolean(hs.goto);
      if (this.ctx.interactive) {
        el = h("button", {type: "button", class: `hotspot${go ? " hotspot--go" : ""}`, "data-action": "",
          "data-sends": "", "data-hotspot": hs.id, "aria-expanded": go ? null : String(open)},
        h("span", {class: "hotspot__dot", "aria-hidden": "true"}),
        h("span", {class: "hotspot__label"}, hs.label || hs.id));
        el.addEventListener("click", () => {
          const close = open && this.view.open === hs.id && !go;
          this.ctx.send({type: "act", action: "hotspot", payload: {id: close ? null : hs.id}});
        });
      } else {
        el = h("span", {class: `hotspot hotspot--static${go ? " hotspot--go" : ""}`, "data-hotspot": hs.id},
          h("span", {class: "hotspot__dot"}), h("span", {class: "hotspot__label"}, hs.label || hs.id));
      }
      el.classList.toggle("is-open", open);
      el.hidden = true;
      this.layer.append(el);
      this.markers.set(hs.id, {el, dir: direction(Number(hs.yaw) || 0, Number(hs.pitch) || 0)});
    }
  }

  start() {
    const view = this.view;
    this.renderer = makeRenderer({antialias: false});
    this.host.append(this.renderer.domElement);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(this.fov, 1, 0.1, RADIUS * 2);
    this.loop = new Loop((dt) => this.tick(dt), {onFrame: () => this.afterFrame()});
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.host);
    this.resize();
    if (this.ctx.interactive) this.wireInput();
    window.addEventListener("keydown", (e) => this.onKey(e), {capture: true, signal: this.abort.signal});
    const pano = view.panorama || {};
    const done = (tex) => {
      if (this.abort.signal.aborted) {
        tex.dispose();
        return;
      }
      this.texture = tex;
      this.sphere = panoramaSphere(tex);
      this.scene.add(this.sphere);
      this.loaded = true;
      this.root.classList.add("is-loaded");
      this.loadingEl.remove();
      if (this.owns()) facts.loaded = true;
      if (this.role === "display" && !this.ctx.reducedMotion) this.loop.hold("drift");
      // once the card is laid out (and whenever it changes size: large text, another language),
      // a start view that has a point under the card looks a little up or down
      this.cardObserver = new ResizeObserver(() => requestAnimationFrame(() => this.clearStart()));
      this.cardObserver.observe(this.card);
      this.loop.request();
      xr.offer(this);
    };
    const fail = (err) => {
      if (this.abort.signal.aborted) return;
      this.loadingEl.remove();
      this.root.classList.add("is-failed");
      if (this.owns()) facts.error = String(err?.message || err);
      this.ctx.problem("asset", pano.video || pano.image, String(err?.message || err));
    };
    if (pano.video) this.loadVideo(pano.video).then(done, fail);
    else loadTexture(this.ctx.url(pano.image), this.abort.signal).then(done, fail);
  }

  loadVideo(path) {
    return new Promise((resolve, reject) => {
      const video = h("video", {class: "pano3d__video", muted: true, loop: true, playsinline: true, preload: "auto",
        crossorigin: "anonymous", "aria-hidden": "true", hidden: true});
      video.muted = true;
      this.video = video;
      this.root.append(video);
      video.addEventListener("error", () => reject(new Error("video could not be played")), {once: true});
      video.addEventListener("loadeddata", () => {
        const tex = new THREE.VideoTexture(video);
        tex.colorSpace = THREE.SRGBColorSpace;
        this.loop.hold("video");
        resolve(tex);
      }, {once: true});
      this.ctx.later?.(() => {
        video.src = this.ctx.url(path);
        const p = video.play();
        if (p && p.catch) p.catch(() => {});
      });
    });
  }

  wireInput() {
    const el = this.host;
    const sig = {signal: this.abort.signal};
    const pointers = new Map();
    el.addEventListener("pointerdown", (e) => {
      el.setPointerCapture?.(e.pointerId);
      pointers.set(e.pointerId, {x: e.clientX, y: e.clientY});
      this.drag = {t: performance.now()};
      this.vel = {yaw: 0, pitch: 0};
      if (this.facing) {
        this.facing = null;  // the visitor's own look wins over turning to an opened point
        this.loop.release("face");
      }
      this.root.classList.add("is-touched");
      this.loop.hold("drag");
    }, sig);
    el.addEventListener("pointermove", (e) => {
      const p = pointers.get(e.pointerId);
      if (!p) return;
      const dx = e.clientX - p.x;
      const dy = e.clientY - p.y;
      p.x = e.clientX;
      p.y = e.clientY;
      if (pointers.size === 2) {
        // pinch: the distance between the two fingers sets the field of view
        const [a, b] = [...pointers.values()];
        const d = Math.hypot(a.x - b.x, a.y - b.y);
        if (this.pinch) this.zoom(this.pinch / Math.max(1, d));
        this.pinch = d;
        return;
      }
      const perPx = this.fov / this.size.height;   // degrees per CSS px: the image follows the finger
      const dYaw = -dx * perPx;
      const dPitch = dy * perPx;
      this.look(dYaw, dPitch);
      const now = performance.now();
      const dt = Math.max(8, now - this.drag.t) / 1000;
      this.drag.t = now;
      this.vel = {yaw: dYaw / dt, pitch: dPitch / dt};
    }, sig);
    const up = (e) => {
      pointers.delete(e.pointerId);
      this.pinch = null;
      if (!pointers.size) {
        this.drag = null;
        if (this.ctx.reducedMotion || performance.now() - (this.lastMove || 0) > 80) this.vel = {yaw: 0, pitch: 0};
        this.loop.release("drag");
        this.loop.request();
      }
    };
    el.addEventListener("pointerup", up, sig);
    el.addEventListener("pointercancel", up, sig);
    el.addEventListener("wheel", (e) => {
      if (e.ctrlKey) return;
      e.preventDefault();
      this.zoom(e.deltaY > 0 ? 1.06 : 1 / 1.06);
    }, {passive: false, signal: this.abort.signal});
  }

  look(dYaw, dPitch) {
    this.lastMove = performance.now();
    this.yaw = ((this.yaw + dYaw + 540) % 360) - 180;
    this.pitch = Math.max(-85, Math.min(85, this.pitch + dPitch));
    this.loop.request();
  }

  zoom(factor) {
    const lo = Math.max(30, this.baseFov - 30);
    const hi = Math.min(100, this.baseFov + 15);
    this.fov = Math.max(lo, Math.min(hi, this.fov * factor));
    this.camera.fov = this.fov;
    this.camera.updateProjectionMatrix();
    this.loop.request();
  }

  onKey(e) {
    if (e.altKey || e.ctrlKey || e.metaKey || document.activeElement !== this.host) return;
    const used = keyHandler(e, (dYaw, dPitch, zoom) => {
      this.look(dYaw / DEG * 1.25, dPitch / DEG);
      if (zoom !== 1) this.zoom(zoom);
    });
    if (used) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  resize() {
    const {width, height} = sizeOf(this.host);
    this.size = {width, height};
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    this.loop.request();
  }

  tick(dt) {
    if (this.paused) return false;
    let more = false;
    if (!this.drag && (Math.abs(this.vel.yaw) > 0.5 || Math.abs(this.vel.pitch) > 0.5)) {
      // a flick glides on and slows down
      this.look(this.vel.yaw * dt, this.vel.pitch * dt);
      const k = Math.exp(-dt * 5);
      this.vel.yaw *= k;
      this.vel.pitch *= k;
      more = true;
    }
    if (this.facing) {
      const f = this.facing;
      const t = Math.min(1, (performance.now() - f.start) / FACE_MS);
      const k = ease(t);
      this.yaw = ((f.from.yaw + f.dYaw * k + 540) % 360) - 180;
      this.pitch = f.from.pitch + (f.to.pitch - f.from.pitch) * k;
      if (t >= 1) {
        this.facing = null;
        this.loop.release("face");
      }
    }
    if (this.loop.holds.has("drift")) this.yaw = ((this.yaw + DRIFT * dt + 540) % 360) - 180;
    const dir = direction(this.yaw, this.pitch);
    this.camera.position.set(0, 0, 0);
    this.camera.lookAt(dir);
    this.renderer.render(this.scene, this.camera);
    if (this.owns()) recordInfo(this.renderer);
    return more;
  }

  afterFrame() {
    const {width, height} = this.size;
    const p = new THREE.Vector3();
    const out = [];
    const rect = this.owns() ? this.host.getBoundingClientRect() : null;
    for (const [id, m] of this.markers) {
      p.copy(m.dir).multiplyScalar(10).project(this.camera);
      const ahead = p.z < 1 && Math.abs(p.x) < 1.1 && Math.abs(p.y) < 1.1;
      const show = this.loaded && ahead;
      if (m.el.hidden === show) m.el.hidden = !show;
      const x = Math.round((p.x * 0.5 + 0.5) * width * 2) / 2;
      const y = Math.round((-p.y * 0.5 + 0.5) * height * 2) / 2;
      if (show) {
        const key = `${x},${y}`;
        if (m.el.dataset.at !== key) {
          m.el.dataset.at = key;
          m.el.style.transform = `translate(${x}px, ${y}px)`;
        }
        m.el.classList.toggle("is-flipped", x > width * 0.7);
      }
      if (rect) {
        const hs = (this.view.hotspots || []).find((x2) => x2.id === id);
        out.push({id, label: hs?.label ?? id, x: Math.round(rect.left + x), y: Math.round(rect.top + y), visible: show,
          behind: !ahead});
      }
    }
    if (rect) {
      facts.hotspots = out;
      facts.look = {yaw: round(this.yaw, 2), pitch: round(this.pitch, 2), fov: round(this.fov, 2)};
      facts.rendering = this.loop.running;
    }
  }

  update(view) {
    const old = this.view;
    if (JSON.stringify(old.panorama) !== JSON.stringify(view.panorama)) return false;
    if (JSON.stringify((old.hotspots || []).map((x) => [x.id, x.yaw, x.pitch, Boolean(x.goto)])) !==
        JSON.stringify((view.hotspots || []).map((x) => [x.id, x.yaw, x.pitch, Boolean(x.goto)]))) return false;
    this.view = view;
    this.ctx.view = view;
    if (this.owns()) facts.openHotspot = view.open ?? null;
    const focusWasIn = this.card.contains(document.activeElement);
    this.fillCard(view);
    if (old.lang !== view.lang || JSON.stringify(old.hotspots) !== JSON.stringify(view.hotspots)) {
      this.fillMarkers(view);
      this.host.setAttribute("aria-label", s3(view, "panorama_label", {title: view.title || ""}));
      setText(this.root.querySelector(".pano3d__bar .actions .btn__label"), view.ui?.next || "Continue");
      if (this.vrEl) setText(this.vrEl.querySelector(".btn__label"), s3(view, "enter_vr"));
    } else {
      for (const [id, m] of this.markers) {
        m.el.classList.toggle("is-open", id === view.open);
        if (m.el.hasAttribute("aria-expanded")) m.el.setAttribute("aria-expanded", String(id === view.open));
      }
    }
    if (focusWasIn || (view.open && !old.open && this.ctx.interactive && document.activeElement?.closest?.(".hotspots"))) {
      this.card.querySelector(".model3d__close")?.focus({preventScroll: true});
    }
    const opened = (view.hotspots || []).find((x) => x.id === view.open && x.detail);
    if (opened && old.open !== view.open) {
      // once the card has its new size: turn so that it does not cover the point it opened
      requestAnimationFrame(() => requestAnimationFrame(() => {
        if (!this.abort.signal.aborted && this.view.open === opened.id) this.face(opened);
      }));
    }
    this.loop.request();
    xr.changed(this);
    return true;
  }

  /** The card's box and the free screen above the top bar, in canvas px, and --u. */
  layout() {
    const host = this.host.getBoundingClientRect();
    const card = this.card.getBoundingClientRect();
    const u = Math.min(window.innerWidth, window.innerHeight) / 135;
    const top = Math.max(0, (document.querySelector(".topbar")?.getBoundingClientRect().bottom ?? 0) - host.top);
    const box = {l: card.left - host.left, t: card.top - host.top, r: card.right - host.left, b: card.bottom - host.top};
    return {box, top, u, reach: u * 7};
  }

  /** Whether a point at x, y (its label to the right, `labelW` wide) is clear of the card and on screen. */
  clear(x, y, labelW, {box, top, reach}) {
    const {width, height} = this.size;
    const covered = !(x + reach + labelW <= box.l || x - reach >= box.r || y + reach <= box.t || y - reach >= box.b);
    return !covered && x - reach >= 0 && x + reach + labelW <= width && y - reach >= top && y + reach <= height;
  }

  /**
   * The start view (`yaw`, `pitch`) with a hotspot under the card: look a few degrees
   * down (or up) until every point in sight is clear of it. Not once the visitor has looked.
   */
  clearStart() {
    if (!this.loaded || this.abort.signal.aborted || this.root.classList.contains("is-touched") || this.facing ||
      this.view.open) return;
    const lay = this.layout();
    const seen = [...this.markers.values()].filter((m) => {
      const p = this.project(m.dir, this.yaw, this.pitch);
      return p && p.x >= 0 && p.x <= this.size.width && p.y >= 0 && p.y <= this.size.height;
    });
    const labelW = (m) => (m.el.querySelector(".hotspot__label")?.offsetWidth || 0) + lay.u * 2;
    const ok = (pitch) => seen.every((m) => {
      const p = this.project(m.dir, this.yaw, pitch);
      return p && this.clear(p.x, p.y, labelW(m), lay);
    });
    if (!seen.length || ok(this.pitch)) return;
    for (let d = 2; d <= 30; d += 2) {
      for (const pitch of [this.pitch - d, this.pitch + d]) {
        if (Math.abs(pitch) <= 85 && ok(pitch)) {
          this.pitch = pitch;
          this.loop.request();
          return;
        }
      }
    }
  }

  /**
   * Turn the view (smoothly unless motion is reduced) so that the hotspot's
   * point and label are clear of the card: above it where the card is wide
   * (portrait), beside it where it is not. Nothing moves if they are clear.
   */
  face(hs) {
    const marker = this.markers.get(hs.id);
    if (!this.loaded || !marker) return;
    const lay = this.layout();
    const {box, top, reach} = lay;
    const {width, height} = this.size;
    const labelW = (marker.el.querySelector(".hotspot__label")?.offsetWidth || 0) + lay.u * 2;
    const at = this.project(marker.dir, this.yaw, this.pitch);
    if (at && this.clear(at.x, at.y, labelW, lay)) return;
    // where the point should be: the middle of the free part of the screen
    const wide = box.r - box.l > width * 0.6;
    const tx = wide ? (width - labelW) / 2 : Math.min(width - reach - labelW, (box.r + width - labelW) / 2);
    const ty = wide ? Math.max(top + reach, (top + box.t) / 2) : Math.max(top + reach, (top + height) / 2);
    let yaw = Number(hs.yaw) || 0;
    let pitch = Number(hs.pitch) || 0;
    for (let i = 0; i < 6; i++) {             // a few steps of "move by the error": exact on the sphere
      const p = this.project(marker.dir, yaw, pitch);
      if (!p) break;
      const perPx = this.fov / height;
      yaw -= (tx - p.x) * perPx;
      pitch = Math.max(-85, Math.min(85, pitch + (ty - p.y) * perPx));
    }
    const dYaw = ((yaw - this.yaw + 540) % 360) - 180;
    if (this.ctx.reducedMotion) {
      this.yaw = ((this.yaw + dYaw + 540) % 360) - 180;
      this.pitch = pitch;
      this.loop.request();
      return;
    }
    this.facing = {start: performance.now(), from: {yaw: this.yaw, pitch: this.pitch}, dYaw, to: {pitch}};
    this.vel = {yaw: 0, pitch: 0};
    this.loop.hold("face");
  }

  /** Where a direction lands on the canvas (CSS px) looking at yaw/pitch, or null behind. */
  project(dir, yaw, pitch) {
    const cam = this.camera;
    cam.position.set(0, 0, 0);
    cam.lookAt(direction(yaw, pitch));
    cam.updateMatrixWorld();
    const p = dir.clone().multiplyScalar(10).project(cam);
    cam.lookAt(direction(this.yaw, this.pitch));
    cam.updateMatrixWorld();
    if (p.z >= 1) return null;
    return {x: (p.x * 0.5 + 0.5) * this.size.width, y: (-p.y * 0.5 + 0.5) * this.size.height};
  }

  pause() {
    this.paused = true;
  }

  resume() {
    this.paused = false;
    this.loop.request();
  }

  dispose() {
    this.abort.abort();
    xr.withdraw(this);
    this.loop.stop();
    this.resizeObserver.disconnect();
    this.cardObserver?.disconnect();
    const video = this.video;
    if (video) {
      try {
        video.pause();
        video.removeAttribute("src");
        video.load();
      } catch { /* gone */ }
    }
    const scene = this.scene;
    const renderer = this.renderer;
    const texture = this.texture;
    setTimeout(() => {
      disposeTree(scene);
      texture?.dispose();
      dropRenderer(renderer);
    }, this.ctx.reducedMotion ? 0 : FADE_AFTER_MS);
    releaseFacts(this);
  }
}
