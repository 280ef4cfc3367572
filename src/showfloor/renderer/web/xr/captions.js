// Captions in a headset: the page's caption bar (narration.js draws the
// active cue into `.captions__text`) shown on a panel that follows the head
// lazily — about 1.5 m ahead, low in the view (the lower third), catching
// up only when the visitor has turned away from it, so reading is calm.

import {THREE} from "../three/core.js";
import {CanvasPlane, fontFor, roundRect, wrap} from "./panel.js";

const DIST = 1.5;
const DROP = 0.6;           // metres below eye level at 1.5 m: about 22° (under the panels)
const WIDTH = 1.05;
const HEIGHT = 0.2;
const FOLLOW_ANGLE = 0.35;  // rad: beyond this it starts to catch up

export class CaptionPanel {
  constructor(scene) {
    this.text = "";
    this.lang = "";
    this.plane = new CanvasPlane(WIDTH, HEIGHT, (g, w, h) => this.paint(g, w, h), {depthTest: false});
    this.mesh = this.plane.mesh;
    this.mesh.name = "captions";
    this.mesh.renderOrder = 900;
    this.mesh.visible = false;
    scene.add(this.mesh);
    this.target = new THREE.Vector3();
    this.following = false;
    this.placed = false;
  }

  paint(g, w, h) {
    if (!this.text) return;
    g.font = fontFor(this.lang, 46, 700);
    const lines = wrap(g, this.text, w - 90).slice(-2);
    const lh = 60;
    const boxH = lines.length * lh + 44;
    const y0 = h - boxH;
    g.fillStyle = "rgba(7, 15, 31, 0.92)";
    roundRect(g, 0, y0, w, boxH, 28);
    g.fill();
    g.fillStyle = "#fff6e6";
    g.textBaseline = "middle";
    lines.forEach((line, i) => {
      g.fillText(line, (w - g.measureText(line).width) / 2, y0 + 22 + lh * (i + 0.5));
    });
  }

  /** The caption text the page shows now ("" when none). */
  static current() {
    const el = document.querySelector(".captions[data-state='on'] .captions__text");
    if (!el || document.documentElement.classList.contains("no-captions")) return {text: "", lang: ""};
    return {text: el.textContent.trim(), lang: el.getAttribute("lang") || document.documentElement.lang};
  }

  update(dt, head) {
    const {text, lang} = CaptionPanel.current();
    if (text !== this.text || lang !== this.lang) {
      this.text = text;
      this.lang = lang;
      this.plane.redraw();
    }
    this.mesh.visible = Boolean(text);
    const pos = new THREE.Vector3();
    const q = new THREE.Quaternion();
    head.getWorldPosition(pos);
    head.getWorldQuaternion(q);
    const fwd = new THREE.Vector3(0, 0, -1).applyQuaternion(q);
    fwd.y = 0;
    if (fwd.lengthSq() < 1e-6) fwd.set(0, 0, -1);
    fwd.normalize();
    this.target.copy(pos).addScaledVector(fwd, DIST);
    this.target.y = pos.y - DROP;
    if (!this.placed || !this.mesh.visible) {
      // shown anew: straight where the visitor looks
      this.mesh.position.copy(this.target);
      this.placed = this.mesh.visible;
    } else {
      const now = this.mesh.position.clone().sub(pos).setY(0).normalize();
      const angle = now.angleTo(fwd);
      if (angle > FOLLOW_ANGLE) this.following = true;
      if (this.following) {
        const k = 1 - Math.exp(-dt * 3.2);
        this.mesh.position.lerp(this.target, k);
        if (angle < 0.05) this.following = false;
      }
      // height follows the head gently all the time
      this.mesh.position.y += (this.target.y - this.mesh.position.y) * (1 - Math.exp(-dt * 4));
    }
    this.mesh.lookAt(pos.x, this.mesh.position.y + DROP * 0.5, pos.z);
  }

  dispose() {
    this.plane.dispose();
  }
}
