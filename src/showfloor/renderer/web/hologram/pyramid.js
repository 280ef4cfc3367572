// The four-view layout of a Pepper's-ghost pyramid: a display lies flat under
// a glass pyramid; each face reflects the view on its side of the screen.
//
//            top (yaw + 180°)
//   left (yaw + 270°)  ■  right (yaw + 90°)
//           bottom (yaw)
//
// Each view is a square around a black centre of `gap` (share of the shorter
// screen side), the whole layout `share` of it; each view's "up" points away
// from the centre (a face shows the screen's outer edge highest), and with
// `mirror` each is flipped left to right, as a reflection needs. Camera k
// sits at yaw + k·(360°/faces) around the model's vertical axis: a visitor
// walking round the pyramid walks round the model.
//
// Every view is drawn into one half-float render target (so the tone mapping
// that happens on the way to the screen sees the same light as a direct
// render), then put on the screen as a rotated (and mirrored) quad.

import * as THREE from "three";

/** The layout in CSS px: [{x, y (centre, y down), size, angle (rad, outward, y down), yawOffset (deg)}]. */
export function layout({width, height}, {faces = 4, gap = 0.2, share = 1} = {}) {
  const m = Math.min(width, height);
  const total = m * share;
  const g = m * gap;
  let v = Math.max(0, (total - g) / 2);
  if (faces === 3) v *= 0.82;  // three views 120° apart: a little smaller, so they never overlap
  const cx = width / 2;
  const cy = height / 2;
  const out = [];
  for (let k = 0; k < faces; k++) {
    const angle = Math.PI / 2 - (k * 2 * Math.PI) / faces;  // bottom first, then right, top, left
    const r = g / 2 + v / 2;
    out.push({x: cx + r * Math.cos(angle), y: cy + r * Math.sin(angle), size: v, angle,
      yawOffset: (k * 360) / faces});
  }
  return out;
}

/** CSS transform for a face's element (centred on its point): up points outward, mirrored if asked. */
export function cssTransform(face, mirror) {
  const deg = (face.angle * 180) / Math.PI + 90;
  return `translate(-50%, -50%) rotate(${deg.toFixed(3)}deg)${mirror ? " scaleX(-1)" : ""}`;
}

export class Pyramid {
  constructor(renderer) {
    this.renderer = renderer;
    const gl = renderer.getContext();
    const halfFloat = Boolean(renderer.extensions.has("EXT_color_buffer_float") ||
      renderer.extensions.has("EXT_color_buffer_half_float") || gl instanceof WebGL2RenderingContext);
    this.target = new THREE.WebGLRenderTarget(1, 1, {
      type: halfFloat ? THREE.HalfFloatType : THREE.UnsignedByteType,
      samples: 4,
      depthBuffer: true,
    });
    this.viewCamera = new THREE.PerspectiveCamera(35, 1, 0.01, 100);
    this.screen = new THREE.Scene();
    this.ortho = new THREE.OrthographicCamera(0, 1, 1, 0, -1, 1);
    this.quad = new THREE.Mesh(new THREE.PlaneGeometry(1, 1),
      new THREE.MeshBasicMaterial({map: this.target.texture, side: THREE.DoubleSide, depthTest: false,
        depthWrite: false}));
    this.screen.add(this.quad);
    this.calls = 0;
    this.triangles = 0;
    this.views = 0;
  }

  /**
   * Draw the scene four (or three) times.
   * @param {THREE.Scene} scene
   * @param {THREE.PerspectiveCamera} camera   its fov, near and far are used
   * @param {object} o  size {width, height} (CSS px), yaw (deg), faces, gap, mirror, share,
   *                    place(camera, yaw) puts a camera at that yaw around the model
   */
  render(scene, camera, {size, yaw, faces, gap, mirror, share, place}) {
    const r = this.renderer;
    const ratio = r.getPixelRatio();
    const faceList = layout(size, {faces, gap, share});
    const px = Math.max(16, Math.round((faceList[0]?.size || 1) * ratio));
    if (this.target.width !== px) this.target.setSize(px, px);
    const cam = this.viewCamera;
    cam.fov = camera.fov;
    cam.near = camera.near;
    cam.far = camera.far;
    cam.aspect = 1;
    cam.updateProjectionMatrix();
    this.ortho.left = 0;
    this.ortho.right = size.width;
    this.ortho.top = size.height;
    this.ortho.bottom = 0;
    this.ortho.updateProjectionMatrix();

    const autoClear = r.autoClear;
    const autoReset = r.info.autoReset;
    r.info.autoReset = false;
    r.info.reset();
    r.autoClear = false;
    r.setRenderTarget(null);
    r.setClearColor(0x000000, 1);
    r.clear(true, true, true);
    let calls = 0;
    let triangles = 0;
    for (const face of faceList) {
      place(cam, yaw + face.yawOffset);
      r.setRenderTarget(this.target);
      r.setClearColor(0x000000, 1);
      r.clear(true, true, true);
      const before = r.info.render.calls;
      const beforeTri = r.info.render.triangles;
      r.render(scene, cam);
      calls += r.info.render.calls - before;
      triangles += r.info.render.triangles - beforeTri;
      r.setRenderTarget(null);
      // the face on the screen: centre, outward "up", mirrored
      const q = this.quad;
      q.position.set(face.x, size.height - face.y, 0);
      q.rotation.set(0, 0, Math.atan2(-Math.cos(face.angle), -Math.sin(face.angle)));
      q.scale.set(mirror ? -face.size : face.size, face.size, 1);
      r.render(this.screen, this.ortho);
    }
    r.autoClear = autoClear;
    r.info.autoReset = autoReset;
    this.calls = calls;
    this.triangles = triangles;
    this.views = faceList.length;
  }

  dispose() {
    this.target.dispose();
    this.quad.geometry.dispose();
    this.quad.material.dispose();
  }
}
