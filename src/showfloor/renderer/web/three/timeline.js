// The "years of use" timeline, blended in the page exactly as
// showfloor.content.scenes.model.sample() does it (docs/3d.md):
//   - a channel is one morph target's weight, or one material's base_color,
//     roughness or emissive;
//   - take the keyframes that give the channel, in order of `at`; between two
//     of them interpolate linearly; before the first / after the last, hold;
//   - a channel no keyframe gives keeps the model's own value;
//   - colours mix in linear sRGB (three.js's working space).

import {THREE} from "./core.js";

const PROPS = ["base_color", "roughness", "emissive"];

/** The channels of a timeline view: [{kind, name, prop, points: [[at, value]]}]. */
export function channels(timeline) {
  const frames = [...(timeline?.keyframes || [])]
    .filter((k) => k && Number.isFinite(Number(k.at)))
    .map((k, i) => ({k, i}))
    .sort((a, b) => Number(a.k.at) - Number(b.k.at) || a.i - b.i)
    .map(({k}) => k);
  const byKey = new Map();
  const add = (kind, name, prop, at, value) => {
    const key = `${kind}\u0000${name}\u0000${prop}`;
    if (!byKey.has(key)) byKey.set(key, {kind, name, prop, points: []});
    byKey.get(key).points.push([Number(at), value]);
  };
  for (const k of frames) {
    for (const [name, w] of Object.entries(k.morph || {})) {
      if (Number.isFinite(Number(w))) add("morph", name, "", k.at, Number(w));
    }
    for (const [name, look] of Object.entries(k.material || {})) {
      for (const prop of PROPS) {
        const v = look?.[prop];
        if (v === undefined || v === null) continue;
        if (prop === "roughness") {
          if (Number.isFinite(Number(v))) add("material", name, prop, k.at, Number(v));
        } else if (typeof v === "string") {
          add("material", name, prop, k.at, new THREE.Color(v));
        }
      }
    }
  }
  return [...byKey.values()];
}

/** One channel's value at `x` (numbers or THREE.Color; colours are new objects). */
export function interpolate(points, x, out = null) {
  const lerp = (a, b, f) => {
    if (a && a.isColor) return (out || new THREE.Color()).copy(a).lerp(b, f);
    return a + (b - a) * f;
  };
  const first = points[0];
  if (x <= first[0]) return lerp(first[1], first[1], 0);
  for (let i = 0; i + 1 < points.length; i++) {
    const [x0, a] = points[i];
    const [x1, b] = points[i + 1];
    if (x0 <= x && x <= x1) return lerp(a, b, x1 === x0 ? 0 : (x - x0) / (x1 - x0));
  }
  const last = points[points.length - 1];
  return lerp(last[1], last[1], 0);
}

/** The reference blend as plain data: {morph: {name: w}, material: {name: {prop: "#rrggbb" | number}}}. */
export function sample(timeline, value) {
  const out = {morph: {}, material: {}};
  for (const ch of channels(timeline)) {
    const v = interpolate(ch.points, value);
    if (ch.kind === "morph") out.morph[ch.name] = round(v);
    else (out.material[ch.name] ||= {})[ch.prop] = v.isColor ? `#${v.getHexString()}` : round(v);
  }
  return out;
}

/** The narration range that holds `value`: [from, to), the last also at to == max. */
export function activeRange(timeline, value) {
  const list = timeline?.narration || [];
  const max = Number(timeline?.max);
  for (let i = 0; i < list.length; i++) {
    const r = list[i];
    if ((r.from <= value && value < r.to) || (value === r.to && r.to === max)) return i;
  }
  return null;
}

/** Clamp and snap like the engine does (for the page's own preview of a settled value). */
export function snap(timeline, value) {
  const min = Number(timeline.min);
  const max = Number(timeline.max);
  const step = Number(timeline.step) || 0;
  let v = Math.min(max, Math.max(min, Number(value)));
  if (step > 0) v = Math.min(max, Math.max(min, min + Math.round((v - min) / step) * step));
  return Number(v.toFixed(6));
}

/**
 * A timeline bound to a loaded model: `apply(value)` sets the morph weights
 * of every mesh that has the target and the values of every material with
 * the name; `restore()` puts the model's own values back.
 */
export class TimelineRig {
  constructor(timeline, root) {
    this.timeline = timeline;
    this.channels = channels(timeline);
    this.meshes = [];
    this.materials = new Map();  // name → [material]
    this.original = new Map();   // material → {color, roughness, emissive}
    root.traverse((o) => {
      if (o.isMesh && o.morphTargetDictionary && o.morphTargetInfluences) this.meshes.push(o);
      if (!o.isMesh) return;
      for (const m of Array.isArray(o.material) ? o.material : [o.material]) {
        if (!m || !m.name) continue;
        if (!this.materials.has(m.name)) this.materials.set(m.name, []);
        const list = this.materials.get(m.name);
        if (!list.includes(m)) list.push(m);
        if (!this.original.has(m)) {
          this.original.set(m, {color: m.color?.clone(), roughness: m.roughness, emissive: m.emissive?.clone()});
        }
      }
    });
    this.scratch = new THREE.Color();
    this.value = null;
    this.state = {morph: {}, material: {}};
  }

  apply(value) {
    this.value = value;
    const morph = {};
    const material = {};
    for (const ch of this.channels) {
      if (ch.kind === "morph") {
        const w = interpolate(ch.points, value);
        morph[ch.name] = w;
        for (const mesh of this.meshes) {
          const i = mesh.morphTargetDictionary[ch.name];
          if (i !== undefined) mesh.morphTargetInfluences[i] = w;
        }
        continue;
      }
      const mats = this.materials.get(ch.name) || [];
      const v = interpolate(ch.points, value, ch.prop === "roughness" ? null : this.scratch);
      const look = (material[ch.name] ||= {});
      for (const m of mats) {
        if (ch.prop === "base_color" && m.color) m.color.copy(v);
        else if (ch.prop === "emissive" && m.emissive) m.emissive.copy(v);
        else if (ch.prop === "roughness" && "roughness" in m) m.roughness = v;
      }
      look[ch.prop] = v.isColor ? `#${v.getHexString()}` : v;
    }
    this.state = {morph, material};
  }

  restore() {
    for (const mesh of this.meshes) mesh.morphTargetInfluences.fill(0);
    for (const [m, o] of this.original) {
      if (o.color) m.color.copy(o.color);
      if (o.emissive) m.emissive.copy(o.emissive);
      if (o.roughness !== undefined) m.roughness = o.roughness;
    }
  }

  /** The look drawn now, rounded (for window.showfloor3d). */
  facts() {
    const morph = {};
    for (const [k, v] of Object.entries(this.state.morph)) morph[k] = round(v);
    const material = {};
    for (const [k, look] of Object.entries(this.state.material)) {
      material[k] = {};
      for (const [p, v] of Object.entries(look)) material[k][p] = typeof v === "number" ? round(v) : v;
    }
    return {morph, material};
  }
}

function round(x) {
  return Math.round(x * 10000) / 10000;
}
