// Small pieces of 2-D interface the 3-D scenes share.

import {h} from "../dom.js";
import {xr} from "../xr/bridge.js";
import {config} from "./config.js";
import {s3} from "./strings3d.js";

/**
 * "Enter VR": a quiet button that shows itself only where the browser can
 * start an immersive-vr session (elsewhere the scene stays as it is, 2-D).
 */
export function vrButton(view, ctx, {onEnter}) {
  if (config.display === "vr") return null;  // a VR station has its own big call on every scene (display.js)
  const b = h("button", {type: "button", class: "btn btn--secondary btn--small vr-enter", "data-action": "",
    hidden: true},
  h("span", {class: "vr-enter__icon", "aria-hidden": "true"}), h("span", {class: "btn__label"}, s3(view, "enter_vr")));
  b.addEventListener("click", () => onEnter());
  const check = () => xr.supported().then((yes) => {
    if (!ctx.signal.aborted) b.hidden = !yes || xr.active;
  });
  check();
  xr.watch(check, ctx.signal);
  return b;
}

/**
 * Arrow keys on a focused 3-D view: turn (left/right), tilt (up/down),
 * zoom (+/-, PageUp/PageDown). Calls `fn(dYaw, dPitch, zoom)` (radians, factor).
 */
export function keyHandler(e, fn) {
  const step = (e.shiftKey ? 20 : 8) * (Math.PI / 180);
  switch (e.key) {
    case "ArrowLeft": fn(-step, 0, 1); return true;
    case "ArrowRight": fn(step, 0, 1); return true;
    case "ArrowUp": fn(0, step, 1); return true;
    case "ArrowDown": fn(0, -step, 1); return true;
    case "+": case "=": case "PageUp": fn(0, 0, 0.88); return true;
    case "-": case "_": case "PageDown": fn(0, 0, 1 / 0.88); return true;
    default: return false;
  }
}
