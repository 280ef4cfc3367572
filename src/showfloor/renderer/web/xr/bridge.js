// The light half of immersive VR: whether the browser can do it, and which
// 3-D scene a headset should show. The heavy half (three.js, the session,
// the world in the headset) is xr/session.js, loaded only when a visitor
// enters VR. Where WebXR is missing or says no, nothing here shows anything:
// the page stays the 2-D renderer.

import {facts} from "../three/config.js";

let supportPromise = null;
let supportFor = null;          // the navigator.xr the answer is for (a test may install an emulator later)
const watchers = new Set();
let session = null;             // the xr/session.js module once loaded
let current = null;             // the 3-D scene on screen (model or panorama), if any

function check() {
  const sys = navigator.xr;
  if (supportPromise && supportFor === sys) return supportPromise;
  supportFor = sys;
  if (!sys || typeof sys.isSessionSupported !== "function" || !window.isSecureContext) {
    supportPromise = Promise.resolve(false);
  } else {
    supportPromise = sys.isSessionSupported("immersive-vr").then(Boolean).catch(() => false);
    try {
      sys.addEventListener?.("devicechange", () => {
        supportPromise = null;
        notify();
      });
    } catch { /* no events */ }
  }
  supportPromise.then((yes) => { facts.xrSupported = yes; });
  return supportPromise;
}

function notify() {
  for (const fn of [...watchers]) {
    try { fn(); } catch { /* a watcher's problem */ }
  }
}

export const xr = {
  /** Promise<boolean>: can this browser start an immersive-vr session? */
  supported() {
    return check();
  },

  /** Call `fn` when support or the session changes (until `signal` aborts). */
  watch(fn, signal) {
    watchers.add(fn);
    signal?.addEventListener("abort", () => watchers.delete(fn), {once: true});
  },

  /** Ask again (an emulator was installed, a headset plugged in). */
  recheck() {
    supportPromise = null;
    check().then(notify);
  },

  notify,

  get active() {
    return Boolean(session?.active());
  },

  /** A 3-D scene is ready (its model or panorama loaded). */
  offer(scene) {
    current = scene;
    session?.show(scene);
  },

  /** The 3-D scene's view changed (a hotspot opened, the timeline settled, new words). */
  changed(scene) {
    if (scene === current) session?.refresh(scene);
  },

  /** The 3-D scene is leaving. */
  withdraw(scene) {
    if (current === scene) current = null;
    session?.hide(scene);
  },

  get current() {
    return current;
  },

  /** Enter immersive VR (from a visitor's press: browsers need that gesture). */
  async enter(ctx) {
    if (!(await check())) return false;
    if (!session) session = await import("./session.js");
    return session.enter(ctx);
  },

  /** End the session (a reset: the next visitor starts clean). */
  end() {
    session?.end();
  },
};
