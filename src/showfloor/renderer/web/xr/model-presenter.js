// A model scene in a headset: the model the page loaded, floating at chest
// height about a metre ahead, `vr.model_size` across; glowing hotspot points
// with labels to press (trigger or gaze); the title and text on a panel to
// the left, the open hotspot's detail to the right; the timeline as a slider
// below the model; Continue under the text. The model turns slowly while
// nobody points at anything; a controller can grab it to turn it.

import {config} from "../three/config.js";
import {DEG, THREE} from "../three/core.js";
import {buttonTarget, hotspotMarker} from "./hotspots.js";
import {Button3D, INK, INK_3, ACCENT_2, textCard} from "./panel.js";
import {Slider3D} from "./slider.js";

const IDLE_TURN_AFTER = 6;   // s without pointing at anything

export class ModelPresenter {
  constructor(xrs, scene) {
    this.xrs = xrs;
    this.scene = scene;
    this.kind = "model";
    this.group = new THREE.Group();
    this.group.name = "model-presenter";
    this.idle = IDLE_TURN_AFTER;
    this.spin = 0;
    const stage = scene.stage;
    this.stage = stage;
    stage.pause();
    const {center, radius, root} = stage;
    this.root = root;
    this.rootParent = root.parent;
    const h = config.vr.height;
    this.holder = new THREE.Group();
    this.holder.position.set(0, h, -1.0);
    this.holder.scale.setScalar(config.vr.model_size / (2 * radius));
    this.holder.rotation.y = -(stage.spec.yaw || 0) * DEG;
    this.inner = new THREE.Group();
    this.inner.position.copy(center).negate();
    this.inner.add(root);
    this.holder.add(this.inner);
    this.group.add(this.holder);
    this.group.add(this.plinth(h, config.vr.model_size));

    // the model itself: grab to turn it (no dwell: looking at it must not do anything)
    this.modelMeshes = [];
    root.traverse((o) => {
      if (!o.isMesh) return;
      o.userData.target = {id: "model", kind: "model", label: scene.view.title || "model", dwell: false,
        grab: (src) => this.grabModel(src), press: () => {}};
      this.modelMeshes.push(o);
    });
    this.panelY = Math.min(1.55, Math.max(1.15, (xrs.headHeight || 1.6) - 0.22));
    this.build();
  }

  plinth(h, size) {
    const c = document.createElement("canvas");
    c.width = c.height = 256;
    const g = c.getContext("2d");
    const grad = g.createRadialGradient(128, 128, 20, 128, 128, 128);
    grad.addColorStop(0, "rgba(126, 219, 167, 0.0)");
    grad.addColorStop(0.62, "rgba(126, 219, 200, 0.22)");
    grad.addColorStop(0.72, "rgba(160, 230, 220, 0.5)");
    grad.addColorStop(0.8, "rgba(126, 219, 200, 0.12)");
    grad.addColorStop(1, "rgba(126, 219, 200, 0)");
    g.fillStyle = grad;
    g.fillRect(0, 0, 256, 256);
    const tex = new THREE.CanvasTexture(c);
    tex.colorSpace = THREE.SRGBColorSpace;
    const disc = new THREE.Mesh(new THREE.PlaneGeometry(size * 1.3, size * 1.3),
      new THREE.MeshBasicMaterial({map: tex, transparent: true, depthWrite: false, toneMapped: false}));
    disc.rotation.x = -Math.PI / 2;
    disc.position.set(0, h - size * 0.62, -1.0);
    disc.name = "plinth";
    return disc;
  }

  build() {
    const view = this.scene.view;
    const lang = view.lang;
    this.clearPanels();
    const left = new THREE.Group();
    left.position.set(-0.76, this.panelY, -0.92);
    const info = textCard({width: 0.62, lang, maxHeight: 0.9, blocks: [
      {text: view.title, size: 62, weight: 700, color: INK, leading: 1.2},
      {text: view.body, size: 36, color: INK, gap: 24},
      {text: this.sourceText(view.source), size: 26, color: INK_3, gap: 28},
    ]});
    info.mesh.position.y = info.height / 2 - 0.1;
    left.add(info.mesh);
    const next = new Button3D({label: view.ui?.next || "Continue", kind: "primary", width: 0.34, height: 0.1, lang});
    next.mesh.position.y = -0.1 - 0.08;
    buttonTarget(next, {id: "advance", kind: "button", label: next.state.label,
      press: () => this.scene.ctx.send({type: "advance"})});
    left.add(next.mesh);
    this.group.add(left);
    this.panels.push(info, next);
    this.left = left;

    // the open hotspot's detail, to the right
    const open = (view.hotspots || []).find((x) => x.id === view.open);
    if (open) {
      const right = new THREE.Group();
      right.position.set(0.76, this.panelY, -0.92);
      const card = textCard({width: 0.62, lang, maxHeight: 0.9, blocks: [
        {text: open.label, size: 48, weight: 700, color: ACCENT_2, leading: 1.2},
        {text: open.detail?.text, size: 36, color: INK, gap: 22},
        {text: this.sourceText(open.source), size: 26, color: INK_3, gap: 26},
      ]});
      card.mesh.position.y = card.height / 2 - 0.1;
      right.add(card.mesh);
      const close = new Button3D({label: this.s("close"), width: 0.26, height: 0.09, lang});
      close.mesh.position.y = -0.1 - 0.07;
      buttonTarget(close, {id: "hotspot:close", kind: "button", label: close.state.label,
        press: () => this.scene.ctx.send({type: "act", action: "hotspot", payload: {id: null}})});
      right.add(close.mesh);
      this.group.add(right);
      this.panels.push(card, close);
      this.right = right;
    }

    // hotspot markers
    this.markers = [];
    for (const a of this.stage.anchors) {
      const hs = (view.hotspots || []).find((x) => x.id === a.id);
      if (!hs) continue;
      const m = this.marker(hs, hs.id === view.open, lang);
      m.anchor = a.object;
      this.group.add(m.group);
      this.markers.push(m);
    }

    // the timeline
    if (view.timeline) {
      const slider = new Slider3D({timeline: view.timeline, lang, width: 0.74,
        valueText: (v) => this.scene.valueText(v, view.timeline),
        onScrub: (v) => { this.idle = 0; this.stage.scrub(v); },
        onSettle: (v) => this.scene.queueSend(v)});
      slider.group.position.set(0, config.vr.height - config.vr.model_size * 0.62 - 0.12, -0.8);
      slider.setValue(this.stage.value ?? Number(view.timeline.value), true);
      this.group.add(slider.group);
      this.slider = slider;
    }
    this.xrs.retarget();
  }

  s(key) {
    const zh = /^zh/.test(this.scene.view.lang || "");
    const t = {close: zh ? "关闭" : "Close"};
    return this.scene.view.ui?.[key] || t[key] || key;
  }

  sourceText(id) {
    const name = id ? this.scene.ctx.source(id) : null;
    if (!name) return "";
    const label = this.scene.view.ui?.source || "Source";
    return `${label}${/^zh/.test(this.scene.view.lang || "") ? "：" : ": "}${name}`;
  }

  marker(hs, open, lang) {
    const m = hotspotMarker({hs, lang, open, color: open ? 0xffffff : 0xffe0c0, kind: "hotspot",
      press: () => this.scene.toggle(hs.id)});
    this.panels.push(m);
    return {...m, id: hs.id};
  }

  clearPanels() {
    for (const p of this.panels || []) p.dispose();
    this.panels = [];
    this.slider?.dispose();
    this.slider = null;
    for (const g of [this.left, this.right]) g?.removeFromParent();
    for (const m of this.markers || []) m.group.removeFromParent();
    this.left = this.right = null;
    this.markers = [];
  }

  targets() {
    const list = [...this.modelMeshes];
    const walk = (o) => o.traverse((x) => { if (x.userData.target && x.isMesh && !list.includes(x)) list.push(x); });
    for (const g of [this.left, this.right]) if (g) walk(g);
    for (const m of this.markers) walk(m.group);
    if (this.slider) list.push(...this.slider.targets);
    return list;
  }

  grabModel(src) {
    const start = src.controller.getWorldPosition(new THREE.Vector3());
    const from = this.holder.rotation.y;
    this.idle = 0;
    this.grabbing = true;
    return {
      move: () => {
        const now = src.controller.getWorldPosition(new THREE.Vector3());
        this.holder.rotation.y = from + (now.x - start.x) * 5;
        this.idle = 0;
      },
      release: () => { this.grabbing = false; },
    };
  }

  /** The view changed (a hotspot opened, new words): redraw the panels. */
  refresh() {
    this.build();
  }

  update(dt, now, head, anyHover) {
    this.stage.animate(now);
    if (this.slider) this.slider.setValue(this.stage.value);
    this.idle = anyHover || this.grabbing || this.scene.view.open ? 0 : this.idle + dt;
    const speed = Number(this.scene.view.auto_rotate) || 0;
    if (speed && this.idle > IDLE_TURN_AFTER && !this.xrs.reducedMotion) this.holder.rotation.y += speed * DEG * dt;
    const headPos = head.getWorldPosition(new THREE.Vector3());
    const p = new THREE.Vector3();
    for (const m of this.markers) {
      m.anchor.getWorldPosition(p);
      // a little towards the viewer, so the point never sinks into the surface
      const toHead = headPos.clone().sub(p).normalize();
      m.group.position.copy(this.group.worldToLocal(p.clone().addScaledVector(toHead, 0.02)));
      m.group.lookAt(headPos);
    }
    for (const g of [this.left, this.right]) if (g) g.lookAt(headPos.x, g.getWorldPosition(p).y, headPos.z);
    if (this.slider) this.slider.group.lookAt(headPos);
  }

  dispose() {
    this.clearPanels();
    for (const m of this.modelMeshes) delete m.userData.target;
    // the model goes back to the page's own stage (if it is still there)
    if (!this.stage.disposed && this.rootParent) {
      this.rootParent.add(this.root);
      this.stage.resume();
    } else {
      this.root.removeFromParent();
    }
    this.group.traverse((o) => {
      if (o.name === "plinth") {
        o.geometry.dispose();
        o.material.map?.dispose();
        o.material.dispose();
      }
    });
    this.group.removeFromParent();
  }
}
