// A hotspot in a headset, the same in a model and in a panorama: a glowing
// point and a pill-shaped label that fits its words; both are one target to
// point at (trigger or gaze), lit while pointed at.

import {THREE} from "../three/core.js";
import {CanvasPlane, fontFor, glowTexture, roundRect} from "./panel.js";

const SIZE = 34;   // label type size (canvas px)

/**
 * @param {object} o
 * @param {object} o.hs          the hotspot (id, label)
 * @param {string} o.lang
 * @param {boolean} o.open       it is the open one (a peach label)
 * @param {number} o.color       the point's tint
 * @param {string} o.kind        the target's kind ("hotspot" | "goto")
 * @param {() => void} o.press
 * @param {number} [o.scale]     drawn larger by this (far away things read the same)
 * @param {boolean} [o.onTop]    drawn over everything (a panorama's sphere)
 * @returns {{group: THREE.Group, dot: THREE.Mesh, label: CanvasPlane, dispose: () => void}}
 */
export function hotspotMarker({hs, lang, open, color, kind, press, scale = 1, onTop = false}) {
  const group = new THREE.Group();
  const dot = new THREE.Mesh(new THREE.PlaneGeometry(0.07 * scale, 0.07 * scale), new THREE.MeshBasicMaterial({
    map: glowTexture(), transparent: true, depthWrite: false, toneMapped: false, color,
    ...(onTop ? {depthTest: false} : {})}));
  if (onTop) dot.renderOrder = 10;
  group.add(dot);
  const measure = document.createElement("canvas").getContext("2d");
  measure.font = fontFor(lang, SIZE, 700);
  const wPx = Math.min(700, measure.measureText(hs.label || hs.id).width + 60);
  let hover = false;
  const label = new CanvasPlane(wPx / 900, 64 / 900, (g, w, h) => {
    roundRect(g, 3, 3, w - 6, h - 6, (h - 6) / 2);
    g.fillStyle = open ? "#ffb76b" : hover ? "#294a7a" : "rgba(9, 19, 38, 0.86)";
    g.fill();
    if (hover) {
      g.lineWidth = 5;
      g.strokeStyle = "#ffe27a";
      g.stroke();
    }
    g.font = fontFor(lang, SIZE, 700);
    g.textBaseline = "middle";
    g.fillStyle = open ? "#0f1e3a" : "#fff6e6";
    g.fillText(hs.label || hs.id, 30, h / 2 + 1);
  }, onTop ? {depthTest: false} : undefined);
  if (onTop) label.mesh.renderOrder = 11;
  if (scale !== 1) label.mesh.scale.setScalar(scale);
  label.mesh.position.set((0.04 + label.width / 2) * scale, 0, 0);
  group.add(label.mesh);
  const target = {id: `hotspot:${hs.id}`, kind, label: hs.label,
    hover: (on) => {
      hover = on;
      label.redraw();
      dot.scale.setScalar(on ? 1.35 : 1);
    },
    press};
  dot.userData.target = target;
  label.mesh.userData.target = target;
  const dispose = () => {
    label.dispose();
    dot.geometry.dispose();
    dot.material.dispose();
  };
  return {group, dot, label, dispose};
}

/** A 3-D button as a target: lit while pointed at, `t` says what it is and does. */
export function buttonTarget(button, t) {
  button.mesh.userData.target = {...t, hover: (on) => button.setState({hover: on})};
}
