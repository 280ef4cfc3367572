// The timeline in a headset: a wide track to grab with a controller and slide
// (the model follows every frame), or to look at: resting the gaze on a
// point of the track sets the value there. A card above it says the label
// and the value; the narration of the current range is written below.

import {THREE} from "../three/core.js";
import {activeRange} from "../three/timeline.js";
import {ACCENT, CanvasPlane, INK, INK_2, fontFor, roundRect, textCard} from "./panel.js";

const TRACK_H = 0.09;

export class Slider3D {
  /**
   * @param {object} o
   * @param {object} o.timeline     the view's timeline
   * @param {string} o.lang
   * @param {number} o.width        metres
   * @param {(v: number) => void} o.onScrub    while it moves (every frame)
   * @param {(v: number) => void} o.onSettle   when it is let go (or a gaze set it)
   * @param {(t: object) => string} o.valueText  "4 years"
   */
  constructor({timeline, lang, width = 0.72, onScrub, onSettle, valueText}) {
    this.t = timeline;
    this.lang = lang;
    this.width = width;
    this.onScrub = onScrub;
    this.onSettle = onSettle;
    this.valueText = valueText;
    this.value = Number(timeline.value);
    this.group = new THREE.Group();
    this.group.name = "timeline-slider";
    this.hover = false;

    this.track = new CanvasPlane(width, TRACK_H, (g, w, h) => this.paintTrack(g, w, h));
    this.track.mesh.name = "timeline-track";
    this.group.add(this.track.mesh);

    const handleGeo = new THREE.CylinderGeometry(0.032, 0.032, 0.018, 40);
    handleGeo.rotateX(Math.PI / 2);
    this.handle = new THREE.Mesh(handleGeo, new THREE.MeshStandardMaterial({color: 0xfff6e6, roughness: 0.4,
      emissive: 0x3a2410}));
    const ring = new THREE.Mesh(new THREE.TorusGeometry(0.032, 0.006, 12, 40),
      new THREE.MeshBasicMaterial({color: 0xffb76b, toneMapped: false}));
    ring.position.z = 0.009;
    this.handle.add(ring);
    this.handle.position.z = 0.012;
    this.group.add(this.handle);

    const target = {
      id: `timeline:${timeline.id}`, kind: "timeline", label: timeline.label,
      hover: (on) => { this.hover = on; this.track.redraw(); },
      grab: (src) => this.grab(src),
      press: (by, point) => { if (point) this.setFromPoint(point, true); },
    };
    this.track.mesh.userData.target = target;
    this.handle.userData.target = {...target, press: () => {}};
    this.targets = [this.track.mesh, this.handle];
    this.shown = null;
    this.setValue(this.value, true);
  }

  paintTrack(g, w, h) {
    const t = this.t;
    const pad = 40;
    const y = h / 2;
    const f = (this.value - t.min) / (t.max - t.min || 1);
    // the bar
    g.lineCap = "round";
    g.lineWidth = 22;
    g.strokeStyle = "rgba(255, 246, 230, 0.2)";
    g.beginPath();
    g.moveTo(pad, y);
    g.lineTo(w - pad, y);
    g.stroke();
    const grad = g.createLinearGradient(pad, 0, w - pad, 0);
    grad.addColorStop(0, "#7edba7");
    grad.addColorStop(0.55, "#ffd08a");
    grad.addColorStop(1, "#ff9f8f");
    g.strokeStyle = grad;
    g.beginPath();
    g.moveTo(pad, y);
    g.lineTo(pad + Math.max(0.001, f) * (w - pad * 2), y);
    g.stroke();
    // ticks at each step (up to 20)
    const step = Number(t.step) || 0;
    const n = step > 0 ? Math.round((t.max - t.min) / step) : 0;
    if (n > 0 && n <= 20) {
      g.fillStyle = this.hover ? "#ffe27a" : "rgba(255, 246, 230, 0.55)";
      for (let i = 0; i <= n; i++) {
        const x = pad + (i / n) * (w - pad * 2);
        g.beginPath();
        g.arc(x, y, 5, 0, Math.PI * 2);
        g.fill();
      }
    }
    if (this.hover) {
      g.lineWidth = 5;
      g.strokeStyle = "#ffe27a";
      roundRect(g, 6, 6, w - 12, h - 12, (h - 12) / 2);
      g.stroke();
    }
  }

  /** Value at the point where a ray meets the track's plane. */
  valueAt(worldPoint) {
    const local = this.track.mesh.worldToLocal(worldPoint.clone());
    const inner = this.width - (80 / 900);  // the painted bar leaves 40 px each side (900 px per metre)
    const f = Math.min(1, Math.max(0, local.x / inner + 0.5));
    return this.t.min + f * (this.t.max - this.t.min);
  }

  snap(v) {
    const step = Number(this.t.step) || 0;
    if (step <= 0) return v;
    return Math.min(this.t.max, Math.max(this.t.min, this.t.min + Math.round((v - this.t.min) / step) * step));
  }

  setFromPoint(point, settle) {
    const v = this.valueAt(point);
    if (settle) {
      const s = this.snap(v);
      this.onScrub(s);
      this.onSettle(s);
    } else {
      this.onScrub(v);
    }
  }

  grab() {
    const plane = new THREE.Plane();
    const normal = new THREE.Vector3(0, 0, 1).applyQuaternion(this.track.mesh.getWorldQuaternion(new THREE.Quaternion()));
    plane.setFromNormalAndCoplanarPoint(normal, this.track.mesh.getWorldPosition(new THREE.Vector3()));
    let last = this.value;
    this.grabbing = true;
    return {
      move: (ray) => {
        const p = new THREE.Vector3();
        if (ray.intersectPlane(plane, p)) {
          last = this.valueAt(p);
          this.onScrub(last);
        }
      },
      release: () => {
        this.grabbing = false;
        this.onSettle(last);
      },
    };
  }

  /** Show `value` (the model's timeline value, every frame). */
  setValue(value, force = false) {
    const t = this.t;
    if (!force && Math.abs(value - this.value) < 1e-5) return;
    this.value = value;
    const f = (value - t.min) / (t.max - t.min || 1);
    const inner = this.width - 80 / 900;
    this.handle.position.x = (f - 0.5) * inner;
    this.track.redraw();
    const shown = `${this.snap(value)}|${activeRange(t, value)}`;
    if (shown !== this.shown) {
      this.shown = shown;
      this.relabel();
    }
  }

  relabel() {
    const t = this.t;
    const i = activeRange(t, this.value);
    const words = i === null ? "" : t.narration[i].text || "";
    this.label?.dispose();
    this.narr?.dispose();
    const head = new CanvasPlane(this.width, 0.075, (g, w, h) => {
      g.textBaseline = "middle";
      g.font = fontFor(this.lang, 34, 700);
      g.fillStyle = INK_2;
      g.fillText(t.label || "", 30, h / 2);
      g.font = fontFor(this.lang, 50, 700);
      g.fillStyle = ACCENT;
      const v = this.valueText(this.snap(this.value));
      g.fillText(v, w - 30 - g.measureText(v).width, h / 2);
    });
    head.mesh.position.y = TRACK_H / 2 + 0.045;
    this.label = head;
    this.group.add(head.mesh);
    const card = textCard({width: this.width, lang: this.lang, bg: null, pad: 30, blocks: [
      {text: words, size: 34, color: INK},
    ], maxHeight: 0.32});
    card.mesh.position.y = -TRACK_H / 2 - card.height / 2 - 0.005;
    this.narr = card;
    this.group.add(card.mesh);
  }

  dispose() {
    this.track.dispose();
    this.label?.dispose();
    this.narr?.dispose();
    this.handle.geometry.dispose();
    this.handle.material.dispose();
    for (const c of this.handle.children) {
      c.geometry.dispose();
      c.material.dispose();
    }
    this.group.removeFromParent();
  }
}
