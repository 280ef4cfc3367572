// One model on one canvas: the GLB, soft studio light, framing from the
// view's camera, orbiting (with limits: the model can never be lost), slow
// turning while nobody touches it, the timeline's look, and where the
// hotspot anchors are on screen. Used by the model scene on touch screens,
// control panels, projectors and hologram displays (`mode`: "2d", "pyramid",
// "fan"); a headset borrows the loaded model from it (xr/).

import {OrbitControls} from "three/addons/controls/OrbitControls.js";
import {config, facts} from "./config.js";
import {
  DEG, Loop, THREE, bounds, cameraSpec, disposeMaterial, disposeTree, dropRenderer, ease, fitDistance,
  loadModel, makeRenderer, orbitOf, orbitPosition, recordInfo, sizeOf, studioEnvironment, studioLights,
} from "./core.js";
import {TimelineRig, activeRange} from "./timeline.js";
import {Pyramid} from "../hologram/pyramid.js";

const IDLE_RESUME_MS = 6000;   // a touch stops turning; it starts again after this long
const SETTLE_MS = 420;         // animating to a settled timeline value

export class ModelStage {
  /**
   * @param {object} o
   * @param {HTMLElement} o.host        the element the canvas fills
   * @param {object} o.view             the model view
   * @param {string} o.url              the model's URL
   * @param {"2d"|"pyramid"|"fan"} o.mode
   * @param {boolean} o.orbit           a visitor may turn it (OrbitControls)
   * @param {boolean} o.alwaysTurn      turn whenever auto_rotate says so (display surfaces)
   * @param {boolean} o.reducedMotion
   * @param {(stage: ModelStage) => void} o.onFrame   after each drawn frame
   * @param {() => boolean} o.owns      whether this stage may write window.showfloor3d
   */
  constructor({host, view, url, mode = "2d", orbit = true, alwaysTurn = false, reducedMotion = false,
    onFrame = null, owns = () => true}) {
    this.host = host;
    this.view = view;
    this.url = url;
    this.mode = mode;
    this.reducedMotion = reducedMotion;
    this.onFrame = onFrame;
    this.owns = owns;
    this.black = mode !== "2d" || Boolean(view.background);
    this.disposed = false;
    this.loaded = false;
    this.paused = false;          // a headset has the model now
    this.listeners = [];
    this.anchors = [];            // [{id, object}]
    this.open = view.open ?? null;
    this.autoRotateSpeed = Number(view.auto_rotate) || 0;
    this.alwaysTurn = alwaysTurn;
    this.touchedAt = -Infinity;
    this.turning = false;
    this.anim = null;             // timeline animation {from, to, start}
    this.value = view.timeline ? Number(view.timeline.value) : null;
    this.spec = cameraSpec(view.camera);

    const hologram = mode === "pyramid" || mode === "fan";
    this.renderer = makeRenderer({alpha: !this.black, antialias: mode !== "pyramid"});
    if (this.black) this.renderer.setClearColor(view.background && !hologram ? view.background : 0x000000, 1);
    else this.renderer.setClearColor(0x000000, 0);
    if (hologram) this.renderer.toneMappingExposure = 1.15;  // glass and fans lose light
    this.canvas = this.renderer.domElement;
    host.append(this.canvas);

    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(this.spec.fov, 1, 0.01, 100);
    this.pyramid = mode === "pyramid" ? new Pyramid(this.renderer) : null;

    this.loop = new Loop((dt, now) => this.tick(dt, now), {onFrame: () => this.afterFrame()});
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(host);
    this.resize();

    if (orbit && !hologram) {
      const c = new OrbitControls(this.camera, this.canvas);
      c.enableDamping = !reducedMotion;
      c.dampingFactor = 0.08;
      c.enablePan = false;
      c.rotateSpeed = 0.7;
      c.zoomSpeed = 0.8;
      c.addEventListener("change", () => this.loop.request());
      c.addEventListener("start", () => this.touched(true));
      c.addEventListener("end", () => this.touched(false));
      this.controls = c;
    }
  }

  async load(signal) {
    let gltf;
    try {
      gltf = await loadModel(this.url, signal);
    } catch (err) {
      if (!this.disposed && this.owns()) facts.error = String(err.message || err);
      throw err;
    }
    if (this.disposed) {
      disposeTree(gltf.scene);
      throw new Error("aborted");
    }
    this.gltf = gltf;
    const root = gltf.scene;
    this.root = root;
    root.traverse((o) => {
      if (o.isMesh) o.frustumCulled = false;  // morph targets change the shape: never culled by a stale box
    });
    this.scene.add(root);
    const {center, radius, box} = bounds(root);
    this.center = center;
    this.radius = radius;
    this.box = box;

    this.lights = studioLights(radius, {black: this.black});
    this.scene.add(this.lights);
    if (this.mode !== "pyramid") {
      try {
        this.envMap = studioEnvironment(this.renderer);
        this.scene.environment = this.envMap;
        this.scene.environmentIntensity = this.black ? 0.3 : 0.32;
      } catch { /* no environment: the lights alone */ }
    }
    if (!this.black) this.scene.add(this.shadow(center, radius, box));

    // anchors: named nodes (three.js sanitizes names; plain snake_case stays the same)
    for (const hs of this.view.hotspots || []) {
      const name = THREE.PropertyBinding.sanitizeNodeName(String(hs.node || ""));
      const object = root.getObjectByName(name) || root.getObjectByName(String(hs.node || ""));
      if (object) this.anchors.push({id: hs.id, object});
    }

    if (this.view.timeline) {
      this.rig = new TimelineRig(this.view.timeline, root);
      this.rig.apply(this.value);
    }

    this.frameCamera();
    this.loaded = true;
    this.updateTurning();
    this.publish();
    this.loop.request();
    return this;
  }

  /** A soft round shadow on the "floor" under the model (2-D surfaces only). */
  shadow(center, radius, box) {
    const size = 128;
    const c = document.createElement("canvas");
    c.width = c.height = size;
    const g = c.getContext("2d");
    const grad = g.createRadialGradient(size / 2, size / 2, 0, size / 2, size / 2, size / 2);
    grad.addColorStop(0, "rgba(3, 8, 20, 0.55)");
    grad.addColorStop(0.55, "rgba(3, 8, 20, 0.22)");
    grad.addColorStop(1, "rgba(3, 8, 20, 0)");
    g.fillStyle = grad;
    g.fillRect(0, 0, size, size);
    const tex = new THREE.CanvasTexture(c);
    tex.colorSpace = THREE.SRGBColorSpace;
    const mat = new THREE.MeshBasicMaterial({map: tex, transparent: true, depthWrite: false, toneMapped: false});
    const disc = new THREE.Mesh(new THREE.PlaneGeometry(1, 1), mat);
    disc.name = "soft-shadow";
    disc.rotation.x = -Math.PI / 2;
    disc.scale.setScalar(radius * 2.4);
    disc.position.set(center.x, box.min.y - radius * 0.06, center.z);
    disc.renderOrder = -1;
    return disc;
  }

  frameCamera() {
    const s = this.spec;
    const c = this.center;
    const r = this.radius;
    this.camera.fov = s.fov;
    this.camera.near = Math.max(r * 0.02, 0.001);
    this.camera.far = r * 200;
    if (this.mode === "pyramid" || this.mode === "fan") {
      this.yaw = s.yaw;
      this.pitch = Math.max(-10, Math.min(18, s.pitch));
      this.distance = fitDistance(s.fov, 1, this.mode === "pyramid" ? 0.86 : 0.82);
      this.placeHologramCamera(this.camera, this.yaw);
    } else {
      orbitPosition(c, r, s.distance, s.yaw, s.pitch, this.camera.position);
      this.camera.lookAt(c);
      const ctl = this.controls;
      if (ctl) {
        ctl.target.copy(c);
        ctl.minDistance = s.min_distance * r;
        ctl.maxDistance = s.max_distance * r;
        ctl.minPolarAngle = (90 - s.max_pitch) * DEG;
        ctl.maxPolarAngle = (90 - s.min_pitch) * DEG;
        ctl.update();
      }
    }
    this.camera.updateProjectionMatrix();
  }

  placeHologramCamera(cam, yaw) {
    // the lights turn with the camera: every face of a pyramid (and a fan's turning model) is lit alike
    if (this.lights) this.lights.rotation.y = (yaw - this.spec.yaw) * DEG;
    orbitPosition(this.center, this.radius, this.distance, yaw, this.pitch, cam.position);
    cam.up.set(0, 1, 0);
    cam.lookAt(this.center);
  }

  resize() {
    if (this.disposed) return;
    const {width, height} = sizeOf(this.host);
    this.size = {width, height};
    this.renderer.setSize(width, height, false);
    this.canvas.style.width = "100%";
    this.canvas.style.height = "100%";
    this.camera.aspect = this.mode === "pyramid" ? 1 : width / height;
    // a narrow (portrait) view: keep the model's width in view too
    if (this.mode === "2d" && this.camera.aspect < 1) {
      const v = 2 * Math.atan(Math.tan((this.spec.fov * DEG) / 2) / Math.max(this.camera.aspect, 0.6));
      this.camera.fov = Math.min(v / DEG, 75);
    } else {
      this.camera.fov = this.spec.fov;
    }
    this.camera.updateProjectionMatrix();
    this.loop.request();
  }

  // -- turning ----------------------------------------------------------------------

  touched(down) {
    this.touchedAt = performance.now();
    this.pressing = down;
    this.updateTurning();
    if (!down) setTimeout(() => this.updateTurning(), IDLE_RESUME_MS + 50);
  }

  /**
   * A finger is down on a hotspot (`on`) or lifted: the model stops dead under it (the
   * turn's glide is spent at once, not carried on) and turns again a while after.
   */
  hold(on) {
    this.touched(on);
    const c = this.controls;
    if (on && c?.enableDamping) {
      c.enableDamping = false;
      c.update();
      c.enableDamping = true;
    }
    this.loop.request();
  }

  /** Something other than the canvas was used (a slider, a hotspot): stop turning a while. */
  nudge() {
    this.touched(false);
  }

  updateTurning() {
    if (this.disposed) return;
    const speed = this.autoRotateSpeed;
    const idle = performance.now() - this.touchedAt >= IDLE_RESUME_MS;
    const on = this.loaded && speed !== 0 && !this.reducedMotion && !this.paused &&
      (this.alwaysTurn || (idle && !this.pressing && !this.open));
    this.turning = on;
    if (this.controls) {
      this.controls.autoRotate = on;
      this.controls.autoRotateSpeed = speed / 6;  // OrbitControls: 1 = 6°/s given a frame time
    }
    if (on) this.loop.hold("turn");
    else this.loop.release("turn");
    if (this.owns()) facts.autoRotate = on;
  }

  setOpen(id) {
    this.open = id ?? null;
    this.updateTurning();
    this.loop.request();
  }

  // -- the timeline -------------------------------------------------------------------

  /** Draw the timeline at `value` now (scrubbing). */
  scrub(value) {
    if (!this.rig) return;
    this.anim = null;
    this.loop.release("settle");
    this.value = value;
    this.rig.apply(value);
    this.publish();
    this.loop.request();
  }

  /** Move to a settled value (smoothly unless motion is reduced). */
  settle(value) {
    if (!this.rig || !Number.isFinite(value)) return;
    if (this.reducedMotion || this.value === null || Math.abs(value - this.value) < 1e-9) {
      this.scrub(value);
      return;
    }
    this.anim = {from: this.value, to: value, start: performance.now()};
    this.loop.hold("settle");
  }

  /** Step the timeline's animation to a settled value (also called by a headset's frame loop). */
  animate(now) {
    if (!this.anim) return;
    const t = Math.min(1, (now - this.anim.start) / SETTLE_MS);
    this.value = this.anim.from + (this.anim.to - this.anim.from) * ease(t);
    this.rig.apply(this.value);
    if (t >= 1) {
      this.value = this.anim.to;
      this.anim = null;
      this.loop.release("settle");
    }
    this.publish();
  }

  // -- frames -------------------------------------------------------------------------

  tick(dt, now) {
    if (this.disposed || !this.loaded) return false;
    if (this.paused) return false;
    let more = false;
    this.animate(now);
    if (this.controls) {
      if (this.controls.update(dt)) more = true;
    } else if (this.turning) {
      this.yaw += this.autoRotateSpeed * dt;
    }
    if (this.mode === "pyramid") {
      this.pyramid.render(this.scene, this.camera, {
        size: this.size, yaw: this.yaw, faces: config.pyramid.faces, gap: config.pyramid.gap,
        mirror: config.pyramid.mirror, share: config.pyramid.size,
        place: (cam, yaw) => this.placeHologramCamera(cam, yaw),
      });
      if (this.owns()) {
        recordInfo(this.renderer, this.pyramid.calls, this.pyramid.triangles);
        facts.views = this.pyramid.views;
      }
    } else {
      if (this.mode === "fan") this.placeHologramCamera(this.camera, this.yaw);
      this.renderer.render(this.scene, this.camera);
      if (this.owns()) recordInfo(this.renderer);
    }
    return more;
  }

  afterFrame() {
    if (this.disposed) return;
    if (this.owns()) {
      facts.rendering = this.loop.running;
      if (this.center && this.mode === "2d") facts.camera = orbitOf(this.camera, this.center, this.radius);
    }
    this.onFrame?.(this);
  }

  /**
   * Where each anchor is on the canvas (CSS px from its top left), and
   * whether it faces away from the camera (behind the model).
   */
  project() {
    if (!this.loaded || this.mode !== "2d") return [];
    const {width, height} = this.size;
    const out = [];
    const p = new THREE.Vector3();
    const toCam = new THREE.Vector3();
    const normal = new THREE.Vector3();
    for (const a of this.anchors) {
      a.object.getWorldPosition(p);
      normal.copy(p).sub(this.center).normalize();
      toCam.copy(this.camera.position).sub(p).normalize();
      const facing = normal.dot(toCam);
      p.project(this.camera);
      const inView = p.z < 1 && Math.abs(p.x) <= 1.05 && Math.abs(p.y) <= 1.05;
      out.push({
        id: a.id,
        x: (p.x * 0.5 + 0.5) * width,
        y: (-p.y * 0.5 + 0.5) * height,
        facing,
        behind: facing < -0.05,
        visible: inView,
      });
    }
    return out;
  }

  publish() {
    if (!this.owns()) return;
    facts.loaded = this.loaded;
    if (this.rig) {
      const f = this.rig.facts();
      facts.morph = f.morph;
      facts.materials = f.material;
      facts.timeline = this.value === null ? null : Math.round(this.value * 10000) / 10000;
      const i = activeRange(this.view.timeline, this.value);
      facts.narration = i === null ? null : this.view.timeline.narration[i].text;
    }
  }

  /** Stop drawing (a headset took the model); `resume()` gives it back. */
  pause() {
    this.paused = true;
    this.updateTurning();
  }

  resume() {
    this.paused = false;
    this.updateTurning();
    this.loop.request();
  }

  dispose({after = 0} = {}) {
    if (this.disposed) return;
    this.disposed = true;
    this.loop.stop();
    this.resizeObserver.disconnect();
    this.controls?.dispose();
    for (const off of this.listeners.splice(0)) off();
    if (this.rig) this.rig.restore();
    const scene = this.scene;
    const root = this.root;
    const renderer = this.renderer;
    const envMap = this.envMap;
    const pyramid = this.pyramid;
    const free = () => {
      scene.traverse((o) => {
        if (o.geometry) o.geometry.dispose();
        for (const m of Array.isArray(o.material) ? o.material : o.material ? [o.material] : []) disposeMaterial(m);
      });
      scene.clear();
      if (root) disposeTree(root);  // a headset may have held it: it is not in the scene then
      envMap?.dispose();
      pyramid?.dispose();
      dropRenderer(renderer);
    };
    // the leaving scene fades out showing its last picture; its GPU memory goes after that
    if (after > 0) setTimeout(free, after);
    else free();
  }
}
