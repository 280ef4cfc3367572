// Words in a headset: 2-D text drawn onto a canvas and shown on a flat panel
// in the world (a CanvasTexture on a plane). Sizes are in metres; a canvas
// gets PX pixels per metre. Fonts: Noto Sans CJK SC / Noto Sans (installed).
// Colours as the 2-D page: navy cards, cream text, peach-amber actions.

import {THREE} from "../three/core.js";

export const PX = 900;              // canvas pixels per metre (a 1.2 m panel: 1080 px)
export const INK = "#fff6e6";
export const INK_2 = "#d9dfe9";
export const INK_3 = "#b4c0d3";
export const ACCENT = "#ffb76b";
export const ACCENT_2 = "#ffc990";
export const NAVY = "#0f1e3a";
export const CARD = "rgba(22, 42, 76, 0.94)";
export const CARD_2 = "#1d355c";

export function fontFor(lang, size, weight = 400) {
  const zh = /^(zh|ja|ko)/.test(lang || document.documentElement.lang || "");
  const families = zh ? '"Noto Sans CJK SC", "Noto Sans SC", "Noto Sans", sans-serif'
    : '"Noto Sans", "Noto Sans CJK SC", sans-serif';
  return `${weight} ${Math.round(size)}px ${families}`;
}

/** Break `text` into lines no wider than `max` px (CJK breaks anywhere, Latin at spaces). */
export function wrap(g, text, max) {
  const out = [];
  for (const para of String(text ?? "").split(/\n/)) {
    const tokens = para.match(/[\u2E80-\u9FFF\uF900-\uFAFF\uFF00-\uFFEF\u3000-\u303F][，。、；：！？）》」』”’]*|[^\s\u2E80-\u9FFF\uF900-\uFAFF\uFF00-\uFFEF\u3000-\u303F]+\s*|\s+/g) || [];
    let line = "";
    for (const tok of tokens) {
      const next = line + tok;
      if (line && g.measureText(next.trimEnd()).width > max) {
        out.push(line.trimEnd());
        line = tok.trimStart();
        // a single token wider than the line: cut it
        while (g.measureText(line).width > max && line.length > 1) {
          let cut = line.length - 1;
          while (cut > 1 && g.measureText(line.slice(0, cut)).width > max) cut--;
          out.push(line.slice(0, cut));
          line = line.slice(cut);
        }
      } else {
        line = next;
      }
    }
    if (line.trim()) out.push(line.trimEnd());
  }
  return out;
}

export function roundRect(g, x, y, w, h, r) {
  g.beginPath();
  g.moveTo(x + r, y);
  g.arcTo(x + w, y, x + w, y + h, r);
  g.arcTo(x + w, y + h, x, y + h, r);
  g.arcTo(x, y + h, x, y, r);
  g.arcTo(x, y, x + w, y, r);
  g.closePath();
}

/**
 * A canvas-textured plane. `draw(g, w, h)` paints it; `redraw()` repaints.
 * Width and height in metres.
 */
export class CanvasPlane {
  constructor(width, height, draw, {transparent = true, depthTest = true} = {}) {
    this.width = width;
    this.height = height;
    this.draw = draw;
    this.canvas = document.createElement("canvas");
    this.canvas.width = Math.max(8, Math.round(width * PX));
    this.canvas.height = Math.max(8, Math.round(height * PX));
    this.texture = new THREE.CanvasTexture(this.canvas);
    this.texture.colorSpace = THREE.SRGBColorSpace;
    this.texture.anisotropy = 4;
    this.material = new THREE.MeshBasicMaterial({map: this.texture, transparent, depthTest, toneMapped: false,
      side: THREE.FrontSide});
    this.mesh = new THREE.Mesh(new THREE.PlaneGeometry(width, height), this.material);
    this.redraw();
  }

  redraw() {
    const g = this.canvas.getContext("2d");
    g.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.draw(g, this.canvas.width, this.canvas.height);
    this.texture.needsUpdate = true;
  }

  dispose() {
    this.texture.dispose();
    this.material.dispose();
    this.mesh.geometry.dispose();
    this.mesh.removeFromParent();
  }
}

/**
 * A text card: blocks of {text, size (px), weight, color, gap} stacked,
 * wrapped to the card's width; its height follows the words (within maxHeight m).
 * Returns a CanvasPlane.
 */
export function textCard({width = 1.1, blocks = [], lang, pad = 48, bg = CARD, radius = 36, maxHeight = 1.2,
  minHeight = 0.1, image = null, imageHeight = 0}) {
  const measure = document.createElement("canvas").getContext("2d");
  const inner = width * PX - pad * 2;
  const laid = [];
  let y = pad + (image ? imageHeight * PX + pad * 0.6 : 0);
  for (const b of blocks) {
    if (!b || !b.text) continue;
    measure.font = fontFor(b.lang || lang, b.size, b.weight || 400);
    const lines = wrap(measure, b.text, inner);
    const lh = b.size * (b.leading || 1.45);
    laid.push({...b, lines, lh, y: y + (laid.length ? (b.gap ?? b.size * 0.6) : 0)});
    y = laid[laid.length - 1].y + lines.length * lh;
  }
  const hPx = Math.min(maxHeight * PX, Math.max(minHeight * PX, y + pad));
  return new CanvasPlane(width, hPx / PX, (g, w, h) => {
    if (bg) {
      g.fillStyle = bg;
      roundRect(g, 0, 0, w, h, radius);
      g.fill();
      g.strokeStyle = "rgba(255, 246, 230, 0.12)";
      g.lineWidth = 3;
      g.stroke();
    }
    if (image && image.complete && image.naturalWidth) {
      const ih = imageHeight * PX;
      const iw = w - pad * 2;
      const scale = Math.max(iw / image.naturalWidth, ih / image.naturalHeight);
      const sw = iw / scale;
      const sh = ih / scale;
      g.save();
      roundRect(g, pad, pad, iw, ih, radius * 0.6);
      g.clip();
      g.drawImage(image, (image.naturalWidth - sw) / 2, (image.naturalHeight - sh) / 2, sw, sh, pad, pad, iw, ih);
      g.restore();
    }
    g.textBaseline = "top";
    for (const b of laid) {
      g.font = fontFor(b.lang || lang, b.size, b.weight || 400);
      g.fillStyle = b.color || INK;
      b.lines.forEach((line, i) => {
        const ly = b.y + i * b.lh + (b.lh - b.size) / 2;
        if (ly + b.size > h - pad * 0.5) return;
        const x = b.align === "center" ? (w - g.measureText(line).width) / 2 : pad;
        g.fillText(line, x, ly);
      });
    }
  });
}

/**
 * A button: a rounded card with a label; `state` {hover, pressed, kind}
 * ("primary" | "secondary" | "choice"), repainted by setState().
 */
export class Button3D {
  constructor({label, width = 0.5, height = 0.11, kind = "secondary", lang, pressed = false, size = 40}) {
    this.state = {hover: false, pressed, kind, label, progress: 0};
    this.lang = lang;
    this.size = size;
    this.plane = new CanvasPlane(width, height, (g, w, h) => this.paint(g, w, h));
    this.mesh = this.plane.mesh;
  }

  paint(g, w, h) {
    const {hover, pressed, kind, label} = this.state;
    const r = h / 2;
    const primary = kind === "primary";
    const inset = 6;
    roundRect(g, inset, inset, w - inset * 2, h - inset * 2, kind === "choice" ? 28 : r - inset);
    g.fillStyle = primary ? (hover ? ACCENT_2 : ACCENT) : pressed ? "#2a4a78" : hover ? "#294a7a" : CARD_2;
    g.fill();
    g.lineWidth = hover ? 8 : 4;
    g.strokeStyle = hover ? "#ffe27a" : pressed ? ACCENT : primary ? ACCENT : "rgba(255, 246, 230, 0.34)";
    g.stroke();
    g.font = fontFor(this.lang, this.size, 700);
    g.textBaseline = "middle";
    g.fillStyle = primary ? NAVY : INK;
    const lines = wrap(g, label, w - (kind === "choice" ? 150 : 70));
    const lh = this.size * 1.25;
    const x0 = kind === "choice" ? 110 : null;
    if (kind === "choice") {
      g.beginPath();
      g.arc(62, h / 2, 22, 0, Math.PI * 2);
      g.fillStyle = pressed ? ACCENT : "#21406a";
      g.fill();
      g.fillStyle = INK;
    }
    lines.slice(0, 3).forEach((line, i) => {
      const y = h / 2 + (i - (Math.min(lines.length, 3) - 1) / 2) * lh;
      const x = x0 ?? (w - g.measureText(line).width) / 2;
      g.fillText(line, x, y);
    });
  }

  setState(change) {
    let dirty = false;
    for (const [k, v] of Object.entries(change)) {
      if (this.state[k] !== v) {
        this.state[k] = v;
        dirty = true;
      }
    }
    if (dirty) this.plane.redraw();
  }

  dispose() {
    this.plane.dispose();
  }
}

/** A soft glowing dot (hotspot marker) texture, made once. */
let glow = null;
export function glowTexture() {
  if (glow) return glow;
  const c = document.createElement("canvas");
  c.width = c.height = 128;
  const g = c.getContext("2d");
  const grad = g.createRadialGradient(64, 64, 0, 64, 64, 64);
  grad.addColorStop(0, "rgba(255, 246, 230, 1)");
  grad.addColorStop(0.22, "rgba(255, 201, 144, 1)");
  grad.addColorStop(0.36, "rgba(255, 170, 100, 0.95)");
  grad.addColorStop(0.5, "rgba(255, 170, 100, 0.35)");
  grad.addColorStop(1, "rgba(255, 170, 100, 0)");
  g.fillStyle = grad;
  g.fillRect(0, 0, 128, 128);
  glow = new THREE.CanvasTexture(c);
  glow.colorSpace = THREE.SRGBColorSpace;
  return glow;
}

/** Turn a panel (its front is +Z) to face a world position, upright unless `upright` is false. */
const _p = new THREE.Vector3();
export function faceTowards(obj, target, {upright = true} = {}) {
  obj.getWorldPosition(_p);
  if (upright) obj.lookAt(target.x, _p.y, target.z);
  else obj.lookAt(target);
}
