// What the 3-D parts of the page share: the station's display kind and its
// settings (from `welcome`), and the read-only facts tests read on
// `window.showfloor3d`. No three.js here: app.js imports this (through
// display.js) on every station, 2-D ones included.

const DISPLAYS = new Set(["touch", "projector", "vr", "hologram-pyramid", "hologram-fan"]);

export const config = {
  display: "touch",
  role: "kiosk",
  pyramid: {faces: 4, gap: 0.2, mirror: true, size: 1},
  fan: {diameter: 1},
  vr: {model_size: 0.5, height: 1.1, dwell: 1.2},
};

/** Take the station's display settings from a `welcome` message. */
export function configure(welcome) {
  const w = welcome || {};
  config.display = DISPLAYS.has(w.display) ? w.display : "touch";
  config.role = ["kiosk", "control", "display"].includes(w.surface?.role) ? w.surface.role : "kiosk";
  const num = (v, lo, hi, dflt) => (Number.isFinite(Number(v)) ? Math.min(hi, Math.max(lo, Number(v))) : dflt);
  const p = w.pyramid || {};
  config.pyramid = {
    faces: Number(p.faces) === 3 ? 3 : 4,
    gap: num(p.gap, 0, 0.45, 0.2),
    mirror: p.mirror !== false,
    size: num(p.size, 0.05, 1, 1),
  };
  config.fan = {diameter: num(w.fan?.diameter, 0.05, 1, 1)};
  const v = w.vr || {};
  config.vr = {
    model_size: num(v.model_size, 0.05, 3, 0.5),
    height: num(v.height, 0.2, 2.5, 1.1),
    dwell: num(v.dwell, 0.3, 5, 1.2),
  };
  facts.mode = hologram() || "2d";
}

/** "pyramid" | "fan" when this surface is a hologram's picture, else null. */
export function hologram() {
  if (config.role !== "display") return null;
  if (config.display === "hologram-pyramid") return "pyramid";
  if (config.display === "hologram-fan") return "fan";
  return null;
}

// -- window.showfloor3d: facts for tests (read-only from outside) ---------------

export const facts = {
  mode: "2d",          // "2d" | "vr" | "pyramid" | "fan"
  scene: null,         // the 3-D scene drawn now (its id), null on a 2-D scene
  type: null,          // "model" | "panorama" | null
  loaded: false,       // the model (or panorama image) is on screen
  error: null,         // why it could not be drawn, if it could not
  morph: {},           // {target name: weight} as drawn now
  materials: {},       // {material name: {base_color, roughness, emissive}} as drawn now
  timeline: null,      // the value drawn now (while scrubbing: the local value)
  settled: null,       // the last value the station settled on
  narration: null,     // the timeline narration text shown now
  openHotspot: null,   // the open hotspot's id
  hotspots: [],        // [{id, label, x, y, visible, behind}] (CSS px in the viewport)
  autoRotate: false,   // turning by itself now
  rendering: false,    // drawing every frame now (else on demand)
  camera: null,        // {yaw, pitch, distance} (degrees; distance in model radii)
  look: null,          // panorama: {yaw, pitch, fov}
  xrSupported: false,  // navigator.xr says immersive-vr is supported
  xrSession: false,    // an immersive session is running
  xrPresenting: null,  // what the headset shows: "model" | "panorama" | "panel" | null
  xrTargets: [],       // VR: [{id, kind, label, at: [x, y, z]}] that can be pressed now (at: world metres)
  gaze: null,          // VR: {target, progress 0…1} of the dwell ring
  selected: [],        // VR: the last presses [{id, by: "controller" | "gaze"}] (newest last)
  frames: 0,           // frames drawn by the 3-D scene (and the headset) since the page loaded
  drawCalls: 0,        // in the last frame
  triangles: 0,        // in the last frame
  views: 0,            // hologram pyramid: views drawn in the last frame
};

function freeze(x) {
  return x && typeof x === "object" ? structuredClone(x) : x;
}

if (!Object.getOwnPropertyDescriptor(window, "showfloor3d")) {
  const api = {};
  for (const key of Object.keys(facts)) {
    Object.defineProperty(api, key, {enumerable: true, get: () => {
      const v = facts[key];
      return freeze(typeof v === "function" ? v() : v);  // some facts are worked out when read
    }});
  }
  Object.defineProperty(window, "showfloor3d", {configurable: false, writable: false, value: Object.freeze(api)});
}

let owner = null;

/** A scene takes over the facts (the newest scene drawn owns them). */
export function claimFacts(who) {
  owner = who;
  clearFacts();
}

/** Whether `who` owns the facts now (a leaving scene must not write them). */
export function ownsFacts(who) {
  return owner === who;
}

/** A scene leaves: forget its facts, unless a newer scene took them already. */
export function releaseFacts(who) {
  if (owner !== who) return;
  owner = null;
  clearFacts();
}

function clearFacts() {
  Object.assign(facts, {scene: null, type: null, loaded: false, error: null, morph: {}, materials: {},
    timeline: null, settled: null, narration: null, openHotspot: null, hotspots: [],
    autoRotate: false, rendering: false, camera: null, look: null, drawCalls: 0, triangles: 0, views: 0});
}
