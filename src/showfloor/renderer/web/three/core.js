// three.js building blocks every 3-D surface shares: the renderer, a soft
// studio light rig, framing by the bounding sphere, loading a model, a
// render-on-demand frame loop, and taking it all down again.
//
// Scenes change hundreds of times a day on a kiosk: everything made here is
// disposed of by the scene that made it (disposeTree, Loop.stop, dropRenderer).

import * as THREE from "three";
import {GLTFLoader} from "three/addons/loaders/GLTFLoader.js";
import {RoomEnvironment} from "three/addons/environments/RoomEnvironment.js";
import {facts} from "./config.js";

export {THREE};

export const DEG = Math.PI / 180;

/** A WebGL renderer for a 3-D scene: ACES tone mapping, sRGB output, capped pixel ratio. */
export function makeRenderer({alpha = false, antialias = true, maxPixelRatio = 2} = {}) {
  const renderer = new THREE.WebGLRenderer({
    antialias, alpha, powerPreference: "high-performance", preserveDrawingBuffer: false,
  });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, maxPixelRatio));
  renderer.toneMapping = THREE.ACESFilmicToneMapping;
  renderer.toneMappingExposure = 0.9;
  renderer.outputColorSpace = THREE.SRGBColorSpace;
  renderer.info.autoReset = true;
  const canvas = renderer.domElement;
  canvas.classList.add("three__canvas");
  canvas.setAttribute("aria-hidden", "true");
  canvas.addEventListener("webglcontextlost", (e) => e.preventDefault());
  return renderer;
}

/**
 * Let a renderer go: its GPU objects, then the context itself (a kiosk that
 * makes a context per scene must not wait for the garbage collector).
 * `after` ms later (the scene's cross-fade keeps showing the last picture).
 */
export function dropRenderer(renderer, after = 0) {
  if (!renderer) return;
  const go = () => {
    try {
      renderer.setAnimationLoop(null);
      renderer.renderLists.dispose();
      renderer.dispose();
      renderer.forceContextLoss();
    } catch { /* gone already */ }
    renderer.domElement.remove();
  };
  if (after > 0) setTimeout(go, after);
  else go();
}

/** A neutral, soft "photo studio" environment map (for gentle reflections), made once per renderer. */
export function studioEnvironment(renderer) {
  const pmrem = new THREE.PMREMGenerator(renderer);
  const room = new RoomEnvironment();
  const env = pmrem.fromScene(room, 0.04).texture;
  room.traverse((o) => {
    if (o.geometry) o.geometry.dispose();
    if (o.material) o.material.dispose();
  });
  pmrem.dispose();
  return env;
}

/**
 * Soft studio light: a hemisphere (warm sky, navy ground), a warm key light
 * from the upper front left, a cool teal rim light from behind, a low fill.
 * Sized by the model's radius `r` (only directions matter for directional lights).
 */
export function studioLights(r = 1, {black = false} = {}) {
  const rig = new THREE.Group();
  rig.name = "studio-lights";
  const hemi = new THREE.HemisphereLight(0xfff1e0, black ? 0x241c26 : 0x1c2a48, black ? 0.8 : 0.55);
  const key = new THREE.DirectionalLight(0xffe2c4, 2.1);
  key.position.set(-2.2, 1.8, 1.6).multiplyScalar(r);
  const rim = new THREE.DirectionalLight(0x8fe3dc, black ? 2.6 : 2.6);
  rim.position.set(2.0, 1.2, -2.0).multiplyScalar(r);
  const fill = new THREE.DirectionalLight(0xbfd3ff, 0.35);
  fill.position.set(2.0, -0.6, 1.4).multiplyScalar(r);
  rig.add(hemi, key, rim, fill);
  return rig;
}

/** The centre of the model's bounding box and the radius of its bounding sphere. */
export function bounds(object) {
  object.updateMatrixWorld(true);
  const box = new THREE.Box3().setFromObject(object, true);
  if (box.isEmpty()) return {center: new THREE.Vector3(), radius: 1, box};
  const center = box.getCenter(new THREE.Vector3());
  const radius = Math.max(box.getSize(new THREE.Vector3()).length() / 2, 1e-4);
  return {center, radius, box};
}

/** The camera view of docs/3d.md, with its defaults (fit to the bounding sphere when absent). */
export function cameraSpec(cam) {
  const c = cam && typeof cam === "object" ? cam : {};
  const n = (v, d) => (Number.isFinite(Number(v)) ? Number(v) : d);
  const spec = {
    distance: n(c.distance, 3), yaw: n(c.yaw, 0), pitch: n(c.pitch, 10), fov: n(c.fov, 35),
    min_distance: n(c.min_distance, 1.6), max_distance: n(c.max_distance, 6),
    min_pitch: n(c.min_pitch, -45), max_pitch: n(c.max_pitch, 75),
  };
  if (!cam) {
    // no camera given: just far enough for the bounding sphere to fill 80 % of the view
    spec.distance = fitDistance(spec.fov, 1, 0.8);
  }
  spec.max_distance = Math.max(spec.max_distance, spec.min_distance);
  spec.distance = Math.min(spec.max_distance, Math.max(spec.min_distance, spec.distance));
  spec.min_pitch = Math.max(-89, Math.min(spec.min_pitch, spec.max_pitch));
  spec.max_pitch = Math.min(89, Math.max(spec.max_pitch, spec.min_pitch));
  spec.pitch = Math.min(spec.max_pitch, Math.max(spec.min_pitch, spec.pitch));
  return spec;
}

/** Distance (in radii) at which a sphere fills `share` of a view's shorter side. */
export function fitDistance(fovDeg, aspect = 1, share = 0.8) {
  const vHalf = (fovDeg * DEG) / 2;
  const half = aspect < 1 ? Math.atan(Math.tan(vHalf) * aspect) : vHalf;
  return 1 / Math.sin(half * share + 1e-6);
}

/** Where the camera sits: C + d·R·(sin yaw·cos pitch, sin pitch, cos yaw·cos pitch). */
export function orbitPosition(center, radius, distance, yawDeg, pitchDeg, out = new THREE.Vector3()) {
  const y = yawDeg * DEG;
  const p = pitchDeg * DEG;
  return out.set(Math.sin(y) * Math.cos(p), Math.sin(p), Math.cos(y) * Math.cos(p))
    .multiplyScalar(distance * radius).add(center);
}

/** Yaw, pitch (degrees) and distance (radii) of a camera around a centre. */
export function orbitOf(camera, center, radius) {
  const v = camera.position.clone().sub(center);
  const d = v.length() || 1;
  return {
    yaw: round(Math.atan2(v.x, v.z) / DEG, 2),
    pitch: round(Math.asin(Math.max(-1, Math.min(1, v.y / d))) / DEG, 2),
    distance: round(d / radius, 3),
  };
}

export function round(x, digits = 3) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// -- loading -------------------------------------------------------------------------

const loader = new GLTFLoader();

/** Load a .glb: resolves {scene, gltf}; rejects with a short reason. */
export function loadModel(url, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error("aborted"));
      return;
    }
    loader.load(url, (gltf) => {
      if (signal?.aborted) {
        disposeTree(gltf.scene);
        reject(new Error("aborted"));
        return;
      }
      resolve(gltf);
    }, undefined, (err) => reject(new Error(`model could not be loaded: ${err?.message || err}`)));
  });
}

/** An image as a texture (equirectangular panoramas, detail images). */
export function loadTexture(url, signal) {
  return new Promise((resolve, reject) => {
    new THREE.TextureLoader().load(url, (tex) => {
      if (signal?.aborted) {
        tex.dispose();
        reject(new Error("aborted"));
        return;
      }
      tex.colorSpace = THREE.SRGBColorSpace;
      resolve(tex);
    }, undefined, () => reject(new Error("image could not be loaded")));
  });
}

/** Dispose of every geometry, material and texture under `root` (and detach it). */
export function disposeTree(root) {
  if (!root) return;
  const seen = new Set();
  root.traverse((o) => {
    if (o.geometry && !seen.has(o.geometry)) {
      seen.add(o.geometry);
      o.geometry.dispose();
    }
    const mats = Array.isArray(o.material) ? o.material : o.material ? [o.material] : [];
    for (const m of mats) disposeMaterial(m, seen);
  });
  root.removeFromParent();
}

export function disposeMaterial(m, seen = new Set()) {
  if (!m || seen.has(m)) return;
  seen.add(m);
  for (const value of Object.values(m)) {
    if (value && value.isTexture && !seen.has(value)) {
      seen.add(value);
      value.dispose();
    }
  }
  if (m.uniforms) {
    for (const u of Object.values(m.uniforms)) {
      if (u?.value?.isTexture && !seen.has(u.value)) {
        seen.add(u.value);
        u.value.dispose();
      }
    }
  }
  m.dispose();
}

// -- the frame loop -------------------------------------------------------------------

/**
 * Render on demand: `request()` draws one frame (soon); `hold(name)` keeps
 * drawing every frame until `release(name)` (auto-rotation, a fade, a drag).
 * `tick(dt, now)` returns true when it wants another frame (damping, an
 * animation still running). A page that is idle draws nothing, so WebSocket
 * messages are never stuck behind frames.
 */
export class Loop {
  constructor(tick, {onFrame} = {}) {
    this.tick = tick;
    this.onFrame = onFrame;
    this.holds = new Set();
    this.raf = 0;
    this.last = 0;
    this.stopped = false;
    this.frame = (now) => {
      this.raf = 0;
      if (this.stopped) return;
      const dt = this.last ? Math.min(0.1, (now - this.last) / 1000) : 1 / 60;
      this.last = now;
      let more = false;
      try {
        more = this.tick(dt, now) === true;
      } catch (err) {
        console.error(err);  // eslint-disable-line no-console
      }
      facts.frames += 1;
      this.onFrame?.();
      if (more || this.holds.size) this.schedule();
      else this.last = 0;
    };
  }

  get running() {
    return this.holds.size > 0;
  }

  request() {
    if (!this.stopped) this.schedule();
  }

  schedule() {
    if (!this.raf && !this.stopped) this.raf = requestAnimationFrame(this.frame);
  }

  hold(name) {
    this.holds.add(name);
    this.request();
  }

  release(name) {
    this.holds.delete(name);
  }

  stop() {
    this.stopped = true;
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
    this.holds.clear();
  }
}

/** Sizes of an element in CSS px, never 0. */
export function sizeOf(el) {
  const r = el.getBoundingClientRect();
  return {width: Math.max(1, Math.round(r.width)), height: Math.max(1, Math.round(r.height))};
}

/** Ease in and out, 0…1 → 0…1. */
export function ease(t) {
  const x = Math.min(1, Math.max(0, t));
  return x < 0.5 ? 4 * x * x * x : 1 - (-2 * x + 2) ** 3 / 2;
}

/** Record what the last frame cost (draw calls, triangles) for window.showfloor3d. */
export function recordInfo(renderer, calls = null, triangles = null) {
  facts.drawCalls = calls ?? renderer.info.render.calls;
  facts.triangles = triangles ?? renderer.info.render.triangles;
}
