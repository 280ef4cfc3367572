// Immersive VR: one WebXR `immersive-vr` session, one renderer for it, and a
// calm world: a soft dome and a round floor (local-floor: y = 0 is the real
// floor), the scene in front of where the visitor faced when the session
// began. What is shown follows the page: a model scene shows its model, a
// panorama surrounds the head, any other scene (and the idle warning) is a
// panel of its words and buttons. Captions follow the head lazily. No
// artificial locomotion; scenes change with a short fade to black.
//
// The headset coming off needs nothing: no frames, no input, so the
// station's idle timer runs and warns and resets as for anyone who walks
// away. A reset ends the session (three/display.js), so the next visitor
// starts from the page, with "Enter VR".

import {config, facts} from "../three/config.js";
import {THREE, makeRenderer, studioEnvironment, studioLights} from "../three/core.js";
import {xr as bridge} from "./bridge.js";
import {CaptionPanel} from "./captions.js";
import {DomPresenter} from "./dom-presenter.js";
import {ModelPresenter} from "./model-presenter.js";
import {PanoramaPresenter} from "./panorama-presenter.js";
import {Selector} from "./select.js";

const FADE_OUT = 0.16;
const FADE_IN = 0.32;

let world = null;   // the one XRWorld (made at the first entry, kept for the page's life)

export function active() {
  return Boolean(world?.session);
}

export async function enter() {
  if (world?.session) return true;
  if (!world) world = new XRWorld();
  return world.start();
}

export function show(scene) {
  if (world?.session) world.sync();
  void scene;
}

export function refresh(scene) {
  if (world?.session && world.presenter?.scene === scene) world.presenter.refresh();
}

export function hide(scene) {
  if (world?.session && world.presenter?.scene === scene) {
    // the scene's model goes with it now: black until the next scene is there (at most a moment)
    world.holdBlack();
    world.swap(null, {fade: false});
  }
}

export function end() {
  world?.session?.end().catch(() => {});
}

class XRWorld {
  constructor() {
    const r = makeRenderer({antialias: true, maxPixelRatio: 1});
    r.xr.enabled = true;
    r.xr.setReferenceSpaceType("local-floor");
    r.xr.setFoveation?.(0.5);
    r.domElement.classList.add("xr-canvas");
    r.domElement.removeAttribute("aria-hidden");
    r.domElement.setAttribute("aria-hidden", "true");
    document.body.append(r.domElement);
    this.renderer = r;
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(0x0a1428);
    this.camera = new THREE.PerspectiveCamera(70, window.innerWidth / window.innerHeight, 0.05, 200);
    this.camera.position.set(0, 1.6, 0);
    this.reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    this.root = new THREE.Group();      // y = 0 is the floor
    this.scene.add(this.root);
    this.env = this.environment();
    this.root.add(this.env);
    this.world = new THREE.Group();     // where the visitor faced at the start
    this.root.add(this.world);
    this.lights = studioLights(0.6);
    this.lights.position.set(0, 1.2, -1);
    this.world.add(this.lights);
    try {
      this.scene.environment = studioEnvironment(r);
      this.scene.environmentIntensity = 0.35;
    } catch { /* the lights alone */ }
    this.selector = new Selector({scene: this.scene, renderer: r, dwell: config.vr.dwell});
    this.captions = new CaptionPanel(this.scene);
    this.fade = this.fader();
    this.presenter = null;
    this.overlay = null;
    this.placed = false;
    this.dirty = true;
    this.last = 0;
    // the page's DOM says what is on screen: a new scene, new words, the idle warning
    const stage = document.getElementById("stage");
    const over = document.getElementById("overlay");
    this.observer = new MutationObserver(() => { this.dirty = true; });
    const opts = {childList: true, subtree: true, characterData: true, attributes: true,
      attributeFilter: ["aria-pressed", "class", "hidden", "disabled"]};
    if (stage) this.observer.observe(stage, opts);
    if (over) this.observer.observe(over, opts);
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) this.selector.quiet();
    });
  }

  environment() {
    const env = new THREE.Group();
    env.name = "environment";
    // a soft dome: deep navy above, a teal glow at the horizon
    const sky = new THREE.SphereGeometry(60, 48, 24);
    const colors = [];
    const top = new THREE.Color(0x0a1428);
    const mid = new THREE.Color(0x1f5566);
    const low = new THREE.Color(0x0d1a30);
    const pos = sky.attributes.position;
    for (let i = 0; i < pos.count; i++) {
      const y = pos.getY(i) / 60;
      const c = y >= 0 ? mid.clone().lerp(top, Math.min(1, y * 2.2)) : mid.clone().lerp(low, Math.min(1, -y * 5));
      colors.push(c.r, c.g, c.b);
    }
    sky.setAttribute("color", new THREE.Float32BufferAttribute(colors, 3));
    env.add(new THREE.Mesh(sky, new THREE.MeshBasicMaterial({vertexColors: true, side: THREE.BackSide,
      depthWrite: false, toneMapped: false})));
    // a round floor that fades into the dark: the visitor stands on something
    const c = document.createElement("canvas");
    c.width = c.height = 512;
    const g = c.getContext("2d");
    const grad = g.createRadialGradient(256, 256, 0, 256, 256, 256);
    grad.addColorStop(0, "rgba(52, 96, 120, 1)");
    grad.addColorStop(0.45, "rgba(30, 62, 86, 0.9)");
    grad.addColorStop(1, "rgba(13, 26, 48, 0)");
    g.fillStyle = grad;
    g.fillRect(0, 0, 512, 512);
    g.strokeStyle = "rgba(255, 246, 230, 0.10)";
    g.lineWidth = 2;
    for (const r of [60, 120, 180]) {
      g.beginPath();
      g.arc(256, 256, r, 0, Math.PI * 2);
      g.stroke();
    }
    const tex = new THREE.CanvasTexture(c);
    tex.colorSpace = THREE.SRGBColorSpace;
    const floor = new THREE.Mesh(new THREE.PlaneGeometry(10, 10), new THREE.MeshBasicMaterial({map: tex,
      transparent: true, depthWrite: false, toneMapped: false}));
    floor.rotation.x = -Math.PI / 2;
    floor.position.y = 0.001;
    env.add(floor);
    return env;
  }

  fader() {
    const m = new THREE.Mesh(new THREE.SphereGeometry(0.35, 24, 12), new THREE.MeshBasicMaterial({color: 0x000000,
      transparent: true, opacity: 0, side: THREE.BackSide, depthTest: false, depthWrite: false, toneMapped: false}));
    m.renderOrder = 2000;
    m.visible = false;
    this.scene.add(m);
    return {mesh: m, value: 0, target: 0, then: null};
  }

  async start() {
    const sys = navigator.xr;
    let session;
    try {
      session = await sys.requestSession("immersive-vr", {optionalFeatures: ["local-floor", "bounded-floor"]});
    } catch (err) {
      console.warn("showfloor: immersive-vr refused:", err?.message || err);  // eslint-disable-line no-console
      return false;
    }
    const r = this.renderer;
    try {
      r.xr.setReferenceSpaceType("local-floor");
      await r.xr.setSession(session);
      this.root.position.y = 0;
    } catch {
      // no floor-level space: eye level is y = 0; put the floor about 1.6 m below it
      r.xr.setReferenceSpaceType("local");
      await r.xr.setSession(session);
      this.root.position.y = -1.6;
    }
    this.session = session;
    this.placed = false;
    this.dirty = true;
    this.elShown = undefined;
    document.body.classList.add("xr-presenting");
    facts.xrSession = true;
    facts.mode = "vr";
    session.addEventListener("end", () => this.stop());
    session.addEventListener("visibilitychange", () => {
      if (session.visibilityState !== "visible") this.selector.quiet();
    });
    this.last = 0;
    r.setAnimationLoop((t, frame) => this.frame(t, frame));
    bridge.notify();
    return true;
  }

  stop() {
    this.renderer.setAnimationLoop(null);
    this.swap(null, {fade: false});
    this.overlay?.dispose();
    this.overlay = null;
    this.session = null;
    document.body.classList.remove("xr-presenting");
    facts.xrSession = false;
    facts.xrPresenting = null;
    facts.xrTargets = [];
    facts.gaze = null;
    facts.mode = "2d";
    bridge.notify();
  }

  /** Put the content where the visitor faces (once, when the head is first tracked). */
  place(head) {
    const p = head.getWorldPosition(new THREE.Vector3());
    if (p.lengthSq() === 0) return false;
    const q = head.getWorldQuaternion(new THREE.Quaternion());
    const fwd = new THREE.Vector3(0, 0, -1).applyQuaternion(q);
    const yaw = Math.atan2(-fwd.x, -fwd.z);
    this.world.position.set(p.x, 0, p.z);
    this.world.rotation.y = yaw;
    this.headHeight = p.y - this.root.position.y;
    this.placed = true;
    this.dirty = true;
    return true;
  }

  /** The scene element on the page now (the newest, not one fading out). */
  currentEl() {
    const stage = document.getElementById("stage");
    const all = stage ? [...stage.children].filter((el) => el.classList.contains("scene") &&
      !el.classList.contains("scene--leaving")) : [];
    return all[all.length - 1] || null;
  }

  /** Follow the page: which presenter, and the idle warning on top. */
  sync() {
    this.dirty = false;
    const el = this.currentEl();
    const type = el?.dataset.type;
    if (el !== this.elShown) {
      if (type === "model" || type === "panorama") {
        const s = bridge.current;
        if (s && s.root === el && (s.stage?.loaded || s.texture)) {
          this.elShown = el;
          this.swap(type === "model" ? () => new ModelPresenter(this, s) : () => new PanoramaPresenter(this, s));
        } else if (this.presenter) {
          this.swap(null);  // its model is on the way: the empty room meanwhile
        }
      } else if (el) {
        this.elShown = el;
        this.swap(() => new DomPresenter(this, el));
      } else {
        this.elShown = null;
        this.swap(null);
      }
    } else if (this.presenter instanceof DomPresenter) {
      this.presenter.refresh();
    }
    // the idle warning: a panel in front of everything
    const over = document.getElementById("overlay");
    const showOver = over && !over.hidden && over.firstElementChild;
    if (showOver && !this.overlay) {
      this.overlay = new DomPresenter(this, over.firstElementChild, {overlay: true});
      this.placeOverlay();
      this.world.add(this.overlay.group);
      this.retarget();
    } else if (!showOver && this.overlay) {
      this.overlay.dispose();
      this.overlay = null;
      this.retarget();
    } else if (this.overlay) {
      if (this.overlay.el !== over.firstElementChild) this.overlay.el = over.firstElementChild;
      this.overlay.refresh();
    }
  }

  placeOverlay() {
    // straight ahead of the head now, 1.2 m away, a little below the eyes
    const cam = this.renderer.xr.getCamera();
    const p = cam.getWorldPosition(new THREE.Vector3());
    const q = cam.getWorldQuaternion(new THREE.Quaternion());
    const fwd = new THREE.Vector3(0, 0, -1).applyQuaternion(q).setY(0);
    if (fwd.lengthSq() < 1e-6) fwd.set(0, 0, -1);
    fwd.normalize();
    const at = p.clone().addScaledVector(fwd, 1.2);
    at.y = p.y - 0.12;
    this.overlay.group.position.copy(this.world.worldToLocal(at));
  }

  /** Go black at once and stay black until something is shown (or 1.5 s passed). */
  holdBlack() {
    if (this.reducedMotion) return;
    const f = this.fade;
    f.value = 1;
    f.target = 1;
    f.then = null;
    clearTimeout(this.blackTimer);
    this.blackTimer = setTimeout(() => { f.target = 0; }, 1500);
  }

  /** Change what is shown (with a short fade to black unless motion is reduced). */
  swap(make, {fade = true} = {}) {
    const go = () => {
      this.presenter?.dispose();
      this.presenter = null;
      if (make) {
        try {
          this.presenter = make();
          const g = this.presenter.group;
          if (this.presenter instanceof DomPresenter) {
            g.position.set(0, Math.min(1.65, Math.max(1.25, (this.headHeight || 1.6) - 0.04)), -1.8);
          }
          this.world.add(g);
        } catch (err) {
          console.error(err);  // eslint-disable-line no-console
          this.presenter = null;
        }
      }
      this.env.visible = !(this.presenter instanceof PanoramaPresenter);
      if (this.presenter && this.fade.target === 1 && !this.fade.then) {
        clearTimeout(this.blackTimer);
        this.fade.target = 0;  // held black for this: fade in
      }
      facts.xrPresenting = this.presenter ? this.presenter.kind : null;
      this.retarget();
    };
    if (fade && !this.reducedMotion && this.session && this.presenter) {
      this.fade.target = 1;
      this.fade.then = go;
    } else {
      go();
    }
  }

  retarget() {
    const list = [...(this.presenter?.targets() || [])];
    if (this.overlay) {
      // the idle warning takes the input: only its buttons
      this.selector.setTargets(this.overlay.targets());
      return;
    }
    this.selector.setTargets(list);
  }

  frame(t, frame) {
    const now = performance.now();
    const dt = this.last ? Math.min(0.1, (now - this.last) / 1000) : 1 / 72;
    this.last = now;
    const r = this.renderer;
    const head = r.xr.getCamera();
    if (!this.placed && frame) this.place(head);
    if (this.dirty) this.sync();
    // the fade
    const f = this.fade;
    if (f.value !== f.target) {
      const speed = f.target > f.value ? 1 / FADE_OUT : 1 / FADE_IN;
      f.value = f.target > f.value ? Math.min(f.target, f.value + dt * speed) : Math.max(f.target, f.value - dt * speed);
      if (f.value >= 1 && f.then) {
        const go = f.then;
        f.then = null;
        go();
        f.target = 0;
      }
    }
    f.mesh.visible = f.value > 0.001;
    f.mesh.material.opacity = f.value;
    head.getWorldPosition(f.mesh.position);
    this.presenter?.update(dt, now, head, this.selector.anyHover);
    this.overlay?.update(dt, now, head);
    this.selector.update(dt, head);
    this.captions.update(dt, head);
    r.render(this.scene, this.camera);
    facts.frames += 1;
    facts.drawCalls = r.info.render.calls;
    facts.triangles = r.info.render.triangles;
  }
}
