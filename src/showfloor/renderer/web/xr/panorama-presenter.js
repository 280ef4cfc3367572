// A panorama in a headset: the image (or video) on a sphere around the head
// (it moves with the head, so nothing swims), the view's `yaw` straight
// ahead at entry; hotspot points with labels at their directions; the title
// and Continue low in front; an opened hotspot's detail below its point.

import {DEG, THREE} from "../three/core.js";
import {panoramaSphere, direction} from "../scenes/panorama.js";
import {buttonTarget, hotspotMarker} from "./hotspots.js";
import {Button3D, INK, INK_3, ACCENT_2, textCard} from "./panel.js";

const MARK_DIST = 3;

export class PanoramaPresenter {
  constructor(xrs, scene) {
    this.xrs = xrs;
    this.scene = scene;
    this.kind = "panorama";
    scene.pause();
    this.group = new THREE.Group();
    this.group.name = "panorama-presenter";
    this.turn = new THREE.Group();                 // the view's yaw ahead
    this.turn.rotation.y = (Number(scene.view.yaw) || 0) * DEG;
    this.sphere = panoramaSphere(scene.texture, 20);
    this.sphere.material.depthTest = false;
    this.turn.add(this.sphere);
    this.group.add(this.turn);
    this.panels = [];
    this.build();
  }

  build() {
    const view = this.scene.view;
    const lang = view.lang;
    for (const p of this.panels) p.dispose();
    this.panels = [];
    this.ui?.removeFromParent();
    this.ui = new THREE.Group();
    this.turn.add(this.ui);
    this.markers = [];
    for (const hs of view.hotspots || []) {
      const m = this.marker(hs, lang, hs.id === view.open);
      m.group.position.copy(direction(Number(hs.yaw) || 0, Number(hs.pitch) || 0)).multiplyScalar(MARK_DIST);
      this.ui.add(m.group);
      this.markers.push(m);
    }
    // title and Continue, low in front
    const front = new THREE.Group();
    front.position.copy(direction(Number(view.yaw) || 0, -24)).multiplyScalar(1.7);
    const card = textCard({width: 0.8, lang, maxHeight: 0.5, blocks: [
      {text: view.title, size: 56, weight: 700, color: INK, leading: 1.2},
      {text: view.body, size: 34, color: INK, gap: 20},
    ]});
    front.add(card.mesh);
    const next = new Button3D({label: view.ui?.next || "Continue", kind: "primary", width: 0.34, height: 0.1, lang});
    next.mesh.position.set(0, -card.height / 2 - 0.08, 0);
    buttonTarget(next, {id: "advance", kind: "button", label: next.state.label,
      press: () => this.scene.ctx.send({type: "advance"})});
    front.add(next.mesh);
    this.ui.add(front);
    this.front = front;
    this.panels.push(card, next);
    // the open hotspot's detail, just below its point
    const open = (view.hotspots || []).find((x) => x.id === view.open && x.detail);
    this.detail = null;
    if (open) {
      const g = new THREE.Group();
      g.position.copy(direction(Number(open.yaw) || 0, (Number(open.pitch) || 0) - 16)).multiplyScalar(2.0);
      const d = textCard({width: 0.72, lang, maxHeight: 0.5, blocks: [
        {text: open.label, size: 46, weight: 700, color: ACCENT_2, leading: 1.2},
        {text: open.detail?.text, size: 34, color: INK, gap: 18},
        {text: open.source ? this.scene.ctx.source(open.source) : "", size: 26, color: INK_3, gap: 20},
      ]});
      g.add(d.mesh);
      const close = new Button3D({label: view.ui?.close || (/^zh/.test(lang || "") ? "关闭" : "Close"), width: 0.26,
        height: 0.09, lang});
      close.mesh.position.set(0, -d.height / 2 - 0.07, 0);
      buttonTarget(close, {id: "hotspot:close", kind: "button", label: close.state.label,
        press: () => this.scene.ctx.send({type: "act", action: "hotspot", payload: {id: null}})});
      g.add(close.mesh);
      this.ui.add(g);
      this.detail = g;
      this.panels.push(d, close);
    }
    this.xrs.retarget();
  }

  marker(hs, lang, open) {
    const m = hotspotMarker({hs, lang, open, color: hs.goto ? 0xc8ffe0 : 0xffffff, kind: hs.goto ? "goto" : "hotspot",
      scale: MARK_DIST / 1.6, onTop: true,   // things 3 m away are drawn larger, to read about the same
      press: () => {
        const close = this.scene.view.open === hs.id && !hs.goto;
        this.scene.ctx.send({type: "act", action: "hotspot", payload: {id: close ? null : hs.id}});
      }});
    this.panels.push(m);
    return m;
  }

  targets() {
    const list = [];
    this.ui.traverse((x) => { if (x.isMesh && x.userData.target) list.push(x); });
    return list;
  }

  refresh() {
    this.build();
  }

  update(dt, now, head) {
    const headPos = head.getWorldPosition(new THREE.Vector3());
    // the sphere and everything on it move with the head: a photo has no parallax
    this.group.position.copy(this.group.parent.worldToLocal(headPos.clone()));
    for (const m of this.markers) m.group.lookAt(headPos);
    this.front.lookAt(headPos);
    this.detail?.lookAt(headPos);
  }

  dispose() {
    for (const p of this.panels) p.dispose();
    this.sphere.geometry.dispose();
    this.sphere.material.dispose();   // the texture belongs to the page's scene
    this.group.removeFromParent();
    if (!this.scene.abort?.signal.aborted) this.scene.resume();
  }
}
