// Pointing and pressing in a headset.
//
//   controllers  a ray from each tracked-pointer controller; the trigger
//                (`selectstart`) presses what the ray is on, or grabs it
//                (the timeline slider, the model to turn it)
//   gaze         a reticle where the visitor looks; resting on something
//                that can be pressed fills a ring over `dwell` seconds and
//                presses it (then the gaze must leave before it fires again)
//
// A target is a mesh with userData.target = {id, kind, label, press(by),
// hover(on), grab(source) → {move(ray), release()} | null, dwell (default true)}.

import {THREE} from "../three/core.js";
import {facts} from "../three/config.js";

const RAY_LENGTH = 4;
const GAZE_QUIET_AFTER_TRIGGER = 2.5;   // s: a visitor using the trigger is not also dwelling

export class Selector {
  constructor({scene, renderer, dwell}) {
    this.scene = scene;
    this.renderer = renderer;
    this.dwell = dwell;
    this.targets = [];
    this.raycaster = new THREE.Raycaster();
    this.raycaster.far = 30;
    this.sources = [];
    this.gaze = {target: null, progress: 0, lock: null, point: new THREE.Vector3()};
    this.quietUntil = 0;
    this.time = 0;
    this.hovered = new Map();    // target → count of pointers on it

    // the reticle: a faint dot, and a ring that fills
    const ringGeo = new THREE.RingGeometry(0.014, 0.021, 48, 1);
    this.ringFill = new THREE.Mesh(ringGeo, new THREE.MeshBasicMaterial({color: 0xffb76b, transparent: true,
      opacity: 0.95, depthTest: false, toneMapped: false, side: THREE.DoubleSide}));
    this.ringFill.geometry.setDrawRange(0, 0);
    this.ringTrack = new THREE.Mesh(new THREE.RingGeometry(0.014, 0.021, 48, 1), new THREE.MeshBasicMaterial({
      color: 0xfff6e6, transparent: true, opacity: 0.28, depthTest: false, toneMapped: false, side: THREE.DoubleSide}));
    this.dot = new THREE.Mesh(new THREE.CircleGeometry(0.006, 20), new THREE.MeshBasicMaterial({color: 0xfff6e6,
      transparent: true, opacity: 0.8, depthTest: false, toneMapped: false}));
    this.reticle = new THREE.Group();
    this.reticle.name = "gaze-reticle";
    this.reticle.add(this.ringTrack, this.ringFill, this.dot);
    this.reticle.renderOrder = 1000;
    for (const m of [this.ringTrack, this.ringFill, this.dot]) m.renderOrder = 1000;
    scene.add(this.reticle);

    for (let i = 0; i < 2; i++) this.addController(i);
  }

  addController(i) {
    const r = this.renderer;
    const controller = r.xr.getController(i);
    const geo = new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(0, 0, 0), new THREE.Vector3(0, 0, -1)]);
    const line = new THREE.Line(geo, new THREE.LineBasicMaterial({color: 0xffe2c0, transparent: true, opacity: 0.75,
      toneMapped: false}));
    line.name = "ray";
    line.scale.z = RAY_LENGTH;
    const tip = new THREE.Mesh(new THREE.SphereGeometry(0.008, 12, 8), new THREE.MeshBasicMaterial({color: 0xffb76b,
      toneMapped: false}));
    tip.visible = false;
    controller.add(line);
    this.scene.add(tip);
    controller.visible = false;
    const src = {controller, line, tip, input: null, target: null, grab: null, i};
    controller.addEventListener("connected", (e) => {
      src.input = e.data;
      controller.visible = e.data?.targetRayMode === "tracked-pointer";
    });
    controller.addEventListener("disconnected", () => {
      src.input = null;
      controller.visible = false;
      tip.visible = false;
      this.endGrab(src);
      this.setHover(src, null);
    });
    controller.addEventListener("selectstart", () => this.onSelectStart(src));
    controller.addEventListener("selectend", () => this.endGrab(src));
    this.scene.add(controller);
    this.sources.push(src);
  }

  setTargets(list) {
    for (const [t] of this.hovered) t.userData.target?.hover?.(false);
    this.hovered.clear();
    for (const s of this.sources) s.target = null;
    this.gaze.target = null;
    this.gaze.lock = null;
    this.gaze.progress = 0;
    this.targets = list.filter(Boolean);
    const all = this.targets;
    facts.xrTargets = () => all.filter((m) => m.userData.target && isShown(m)).map((m) => {
      const t = m.userData.target;
      const p = m.getWorldPosition(new THREE.Vector3());
      return {id: t.id, kind: t.kind, label: t.label ?? t.id, at: [p.x, p.y, p.z].map((v) => Math.round(v * 1000) / 1000)};
    });
  }

  cast(origin, dir) {
    this.raycaster.set(origin, dir);
    const visible = this.targets.filter((m) => isShown(m));
    const hits = this.raycaster.intersectObjects(visible, false);
    return hits.length ? hits[0] : null;
  }

  setHover(src, target) {
    if (src.target === target) return;
    if (src.target) this.bump(src.target, -1);
    src.target = target;
    if (target) this.bump(target, 1);
  }

  bump(target, d) {
    const n = (this.hovered.get(target) || 0) + d;
    if (n <= 0) {
      this.hovered.delete(target);
      target.userData.target?.hover?.(false);
    } else {
      if (!this.hovered.has(target)) target.userData.target?.hover?.(true);
      this.hovered.set(target, n);
    }
  }

  get anyHover() {
    return this.hovered.size > 0 || this.sources.some((s) => s.grab);
  }

  onSelectStart(src) {
    this.quietUntil = this.time + GAZE_QUIET_AFTER_TRIGGER;
    const mesh = src.target;
    const t = mesh?.userData.target;
    if (!t) return;
    if (t.grab) {
      src.grab = t.grab(src) || null;
      if (src.grab) return;
    }
    this.fire(t, "controller", src.point?.clone() ?? null);
  }

  endGrab(src) {
    const g = src.grab;
    src.grab = null;
    if (g) g.release();
  }

  fire(t, by, point = null) {
    facts.selected = [...facts.selected.slice(-19), {id: t.id, by}];
    try {
      t.press?.(by, point);
    } catch (err) {
      console.error(err);  // eslint-disable-line no-console
    }
  }

  /** One frame: rays, hovers, grabs, the gaze dwell. `head` is the XR camera. */
  update(dt, head) {
    this.time += dt;
    const origin = new THREE.Vector3();
    const dir = new THREE.Vector3();
    const q = new THREE.Quaternion();
    for (const s of this.sources) {
      const c = s.controller;
      if (!c.visible) {
        this.setHover(s, null);
        s.tip.visible = false;
        continue;
      }
      c.getWorldPosition(origin);
      c.getWorldQuaternion(q);
      dir.set(0, 0, -1).applyQuaternion(q);
      if (s.grab) {
        s.grab.move(new THREE.Ray(origin.clone(), dir.clone()));
        s.line.scale.z = 1.2;
        s.tip.visible = false;
        continue;
      }
      const hit = this.cast(origin, dir);
      this.setHover(s, hit ? hit.object : null);
      s.line.scale.z = hit ? hit.distance : RAY_LENGTH;
      s.tip.visible = Boolean(hit);
      s.point = hit ? hit.point.clone() : null;
      if (hit) s.tip.position.copy(hit.point);
    }

    // gaze: where the head looks
    head.getWorldPosition(origin);
    head.getWorldQuaternion(q);
    dir.set(0, 0, -1).applyQuaternion(q);
    const hit = this.cast(origin, dir);
    const g = this.gaze;
    const mesh = hit ? hit.object : null;
    const t = mesh?.userData.target;
    const gazeSrc = this.gazeSrc || (this.gazeSrc = {target: null});
    this.setHover(gazeSrc, mesh);
    if (mesh !== g.target) {
      g.target = mesh;
      g.progress = 0;
      if (g.lock && g.lock !== mesh) g.lock = null;
    }
    const canDwell = t && t.dwell !== false && g.lock !== mesh && this.time >= this.quietUntil;
    if (canDwell) {
      g.progress = Math.min(1, g.progress + dt / this.dwell);
      if (g.progress >= 1) {
        g.lock = mesh;
        g.progress = 0;
        this.fire(t, "gaze", hit.point.clone());
      }
    } else {
      g.progress = 0;
    }
    // the reticle sits on what is looked at (just in front of it), else 1.8 m away, faint
    const dist = hit ? Math.max(0.3, hit.distance - 0.01) : 1.8;
    this.reticle.position.copy(origin).addScaledVector(dir, dist);
    this.reticle.quaternion.copy(q);
    this.reticle.scale.setScalar(dist / 1.2);
    this.ringTrack.visible = Boolean(t && t.dwell !== false);
    this.ringTrack.material.opacity = this.ringTrack.visible ? 0.32 : 0;
    this.dot.material.opacity = hit ? 0.95 : 0.45;
    const segs = Math.round(g.progress * 48);
    this.ringFill.geometry.setDrawRange(0, segs * 6);
    facts.gaze = t ? {target: t.id, progress: Math.round(g.progress * 100) / 100} : null;
  }

  /** Forget dwell progress (the headset came off, a new scene). */
  quiet() {
    this.gaze.progress = 0;
    this.gaze.lock = this.gaze.target;
  }

  dispose() {
    for (const s of this.sources) {
      s.controller.removeFromParent();
      s.tip.removeFromParent();
      s.line.geometry.dispose();
      s.line.material.dispose();
      s.tip.geometry.dispose();
      s.tip.material.dispose();
    }
    this.reticle.removeFromParent();
    for (const m of [this.ringFill, this.ringTrack, this.dot]) {
      m.geometry.dispose();
      m.material.dispose();
    }
  }
}

function isShown(obj) {
  for (let o = obj; o; o = o.parent) if (!o.visible) return false;
  return true;
}
