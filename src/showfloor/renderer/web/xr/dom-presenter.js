// A 2-D scene in a headset (attract, story, quiz, media, end — and the idle
// warning): its words and its buttons, read from the page's own DOM, drawn on
// a panel in front of the visitor. Pressing a button in the headset clicks
// the page's button, so every scene keeps its own behaviour (a quiz's
// multiple choice, a double press sending one input, timing marks).

import {THREE} from "../three/core.js";
import {Button3D, INK, INK_2, INK_3, ACCENT_2, textCard} from "./panel.js";

const SKIP = ".sr-only, [aria-hidden='true'], .tray, .captions, .hotspots, [hidden]";

/** What a scene element shows: {title, blocks: [{text, kind}], buttons: [{el, label, kind, pressed}], image}. */
export function readScene(el) {
  if (!el) return null;
  const title = el.querySelector("[data-scene-title]")?.textContent.trim() || "";
  const blocks = [];
  const seen = new Set();
  for (const node of el.querySelectorAll("h2, h3, p, li")) {
    if (node.closest(SKIP) || node.closest("button") || node.matches("[data-scene-title]")) continue;
    if ([...seen].some((s) => s.contains(node))) continue;
    const text = node.textContent.replace(/\s+/g, " ").trim();
    if (!text) continue;
    seen.add(node);
    const kind = node.matches("h2, h3, .feedback__title, .eyebrow") ? "head"
      : node.closest(".source") ? "meta" : "body";
    blocks.push({text, kind});
  }
  const buttons = [];
  for (const b of el.querySelectorAll("button")) {
    if (b.disabled || b.closest("[hidden], [inert], .tray") || b.hidden) continue;
    const label = (b.querySelector(".choice__text, .btn__label, .attract__call-text")?.textContent ||
      b.textContent).replace(/\s+/g, " ").trim();
    if (!label) continue;
    const kind = b.classList.contains("choice") ? "choice"
      : b.classList.contains("btn--primary") || b.classList.contains("attract__call") ? "primary" : "secondary";
    const pressed = b.getAttribute("aria-pressed") === "true" || b.classList.contains("is-picked");
    buttons.push({el: b, label, kind, pressed});
  }
  const img = [...el.querySelectorAll(".art img")].find((i) => i.complete && i.naturalWidth && !i.closest(".attract__slide:not(.is-on)")) || null;
  return {title, blocks, buttons, image: img};
}

function signature(r) {
  return r ? JSON.stringify([r.title, r.blocks, r.buttons.map((b) => [b.label, b.kind, b.pressed]), r.image?.src || ""]) : "";
}

export class DomPresenter {
  constructor(xrs, el, {overlay = false} = {}) {
    this.xrs = xrs;
    this.el = el;
    this.overlay = overlay;
    this.kind = overlay ? "overlay" : "panel";
    this.group = new THREE.Group();
    this.group.name = overlay ? "overlay-presenter" : "panel-presenter";
    this.sig = "";
    this.items = [];
    this.refresh();
  }

  refresh() {
    const r = readScene(this.el);
    const sig = signature(r);
    if (sig === this.sig) return false;
    this.sig = sig;
    this.build(r);
    return true;
  }

  build(r) {
    for (const p of this.items) p.dispose();
    this.items = [];
    this.panel?.removeFromParent();
    if (!r) return;
    const lang = this.el.closest("[lang]")?.getAttribute("lang") || document.documentElement.lang;
    const panel = new THREE.Group();
    const width = this.overlay ? 0.8 : 1.2;
    const blocks = [{text: r.title, size: this.overlay ? 60 : 64, weight: 700, color: INK, leading: 1.2,
      align: this.overlay ? "center" : "left"}];
    for (const b of r.blocks.slice(0, 8)) {
      if (b.kind === "head") blocks.push({text: b.text, size: 44, weight: 700, color: ACCENT_2, gap: 22, leading: 1.25});
      else if (b.kind === "meta") blocks.push({text: b.text, size: 26, color: INK_3, gap: 20});
      else blocks.push({text: b.text, size: 38, color: b === r.blocks[0] && !r.title ? INK : INK_2, gap: 18,
        align: this.overlay ? "center" : "left"});
    }
    const image = r.image && !this.overlay ? r.image : null;
    const card = textCard({width, lang, blocks, maxHeight: 1.0, image, imageHeight: image ? 0.36 : 0,
      bg: this.overlay ? "rgba(10, 20, 40, 0.97)" : undefined});
    panel.add(card.mesh);
    this.items.push(card);
    // the buttons under it: choices in two columns, actions in a row
    const choices = r.buttons.filter((b) => b.kind === "choice");
    const acts = r.buttons.filter((b) => b.kind !== "choice");
    let y = -card.height / 2 - 0.03;
    const cols = choices.length >= 3 ? 2 : 1;
    const cw = cols === 2 ? (width - 0.03) / 2 : width;
    const ch = 0.13;
    choices.forEach((b, i) => {
      const btn = new Button3D({label: b.label, kind: "choice", width: cw, height: ch, lang, pressed: b.pressed, size: 38});
      const col = cols === 2 ? i % 2 : 0;
      const row = cols === 2 ? Math.floor(i / 2) : i;
      btn.mesh.position.set(cols === 2 ? (col - 0.5) * (cw + 0.03) : 0, y - ch / 2 - row * (ch + 0.022), 0);
      this.press(btn, b);
      panel.add(btn.mesh);
      this.items.push(btn);
    });
    if (choices.length) y -= Math.ceil(choices.length / cols) * (ch + 0.022) + 0.01;
    const aw = 0.36;
    acts.forEach((b, i) => {
      const btn = new Button3D({label: b.label, kind: b.kind, width: aw, height: 0.1, lang, pressed: b.pressed});
      const x = (i - (acts.length - 1) / 2) * (aw + 0.04);
      btn.mesh.position.set(acts.length === 1 && !this.overlay ? width / 2 - aw / 2 : x, y - 0.06, 0);
      this.press(btn, b);
      panel.add(btn.mesh);
      this.items.push(btn);
    });
    // centre the whole panel on its middle
    const box = new THREE.Box3().setFromObject(panel);
    const mid = box.getCenter(new THREE.Vector3());
    for (const c of panel.children) c.position.y -= mid.y;
    this.group.add(panel);
    this.panel = panel;
    this.xrs.retarget();
  }

  press(btn, b) {
    const id = `button:${b.label}`;
    btn.mesh.userData.target = {id, kind: b.kind === "choice" ? "answer" : "button", label: b.label,
      hover: (on) => btn.setState({hover: on}),
      press: () => {
        // the page's own button does the rest
        if (b.el.isConnected && !b.el.disabled) {
          b.el.dispatchEvent(new PointerEvent("pointerdown", {bubbles: true, pointerType: "mouse", button: 0}));
          b.el.click();
        }
      }};
  }

  targets() {
    const list = [];
    this.group.traverse((x) => { if (x.isMesh && x.userData.target) list.push(x); });
    return list;
  }

  update(dt, now, head) {
    if (!this.panel) return;
    const headPos = head.getWorldPosition(new THREE.Vector3());
    this.group.lookAt(headPos.x, this.group.getWorldPosition(new THREE.Vector3()).y, headPos.z);
  }

  dispose() {
    for (const p of this.items) p.dispose();
    this.items = [];
    this.group.removeFromParent();
  }
}
