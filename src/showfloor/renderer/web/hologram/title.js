// A 2-D scene on a hologram's display surface: its title alone, calm and
// centred on black. A pyramid shows it four times round the centre (each
// copy's top away from the centre, mirrored for the glass, as the model
// views); a fan shows it once, inside its circle. No buttons, no chrome.

import {h, setText} from "../dom.js";
import {config, hologram} from "../three/config.js";
import {cssTransform, layout} from "./pyramid.js";

const shown = new WeakMap();

function words(view, ctx) {
  if (view.type === "quiz") return view.question?.prompt || view.title || ctx.exhibitTitle || "";
  return view.title || ctx.exhibitTitle || "";
}

export function render(view, ctx) {
  const text = words(view, ctx);
  const mode = hologram() || "fan";
  const root = h("section", {class: `holo-title holo-title--${mode}`, "aria-labelledby": "scene-title"},
    h("h1", {id: "scene-title", class: "sr-only", "data-scene-title": ""}, text));
  const faces = h("div", {class: "holo-title__faces", "aria-hidden": "true"});
  root.append(faces);
  const place = () => {
    faces.replaceChildren();
    const w = window.innerWidth;
    const hgt = window.innerHeight;
    if (mode === "pyramid") {
      const p = config.pyramid;
      for (const face of layout({width: w, height: hgt}, {faces: p.faces, gap: p.gap, share: p.size})) {
        faces.append(h("div", {class: "holo-title__face", style: {
          left: `${face.x}px`, top: `${face.y}px`, width: `${face.size}px`, height: `${face.size}px`,
          transform: cssTransform(face, p.mirror), "--holo-fs": `${Math.max(12, face.size * 0.085)}px`,
        }}, h("p", {class: "holo-title__text"}, text)));
      }
    } else {
      const d = Math.min(w, hgt) * config.fan.diameter;
      faces.append(h("div", {class: "holo-title__face", style: {
        left: `${w / 2}px`, top: `${hgt / 2}px`, width: `${d * 0.78}px`, height: `${d * 0.78}px`,
        transform: "translate(-50%, -50%)", "--holo-fs": `${Math.max(14, d * 0.07)}px`,
      }}, h("p", {class: "holo-title__text"}, text)));
    }
  };
  place();
  window.addEventListener("resize", place, {signal: ctx.signal});
  shown.set(ctx, {place, text});
  return root;
}

export function update(view, ctx) {
  const s = shown.get(ctx);
  if (!s) return false;
  const text = words(view, ctx);
  for (const p of ctx.root?.querySelectorAll(".holo-title__text") || []) setText(p, text);
  setText(ctx.root?.querySelector("[data-scene-title]"), text);
  return true;
}
