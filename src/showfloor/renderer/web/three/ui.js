// Small pieces of 2-D interface the 3-D scenes share.

import {h} from "../dom.js";
import {button, paragraphs, sourceLine} from "../parts.js";
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

/**
 * An open hotspot's detail (model and panorama scenes): a head with its label
 * and Close (at the top, so it is in sight however long the text), then the
 * picture, the text and the source line. The picture gives way first when
 * space is short (3d.css), the words never do.
 */
export function detailBlock(ctx, view, hs) {
  const d = hs.detail || {};
  const close = ctx.interactive ? button(ctx, {label: s3(view, "close"), kind: "secondary",
    className: "btn--small model3d__close", input: {type: "act", action: "hotspot", payload: {id: null}}}) : null;
  if (close) close.dataset.keysGroup = "detail";
  return h("div", {class: "detail", role: "region", "aria-labelledby": "detail-title"},
    h("div", {class: "detail__head"},
      h("h2", {id: "detail-title", class: "detail__title"}, hs.label || ""),
      close ? h("div", {class: "detail__actions", "data-keys-group": "detail"}, close) : null),
    d.image ? h("div", {class: "frame detail__art"}, ctx.image(d.image)) : null,
    paragraphs(d.text, "body detail__body"),
    sourceLine(ctx, hs.source));
}

/**
 * Where a hotspot's label goes beside its point so that all of it stays
 * inside a `width` × `height` frame and clear of the labels placed before it
 * (`taken`, rects {l, t, r, b}; the new one is added): to the right of the
 * point, else to its left, else a line lower or higher; slid along an edge
 * where it would stick out. `gap`: from the point's centre to the label;
 * `pad`: kept free at the edges. Returns {flipped, dx, dy} (px to move the
 * label from its plain place, beside the point and centred on it).
 */
export function labelPlace(x, y, w, h2, width, height, gap, pad, taken = []) {
  const place = (flipped, lift) => {
    let left = flipped ? x - gap - w : x + gap;
    left = Math.max(pad, Math.min(left, width - pad - w));
    let top = y - h2 / 2 + lift;
    top = Math.max(pad, Math.min(top, height - pad - h2));
    return {flipped, dx: Math.round(left - (flipped ? x - gap - w : x + gap)), dy: Math.round(top - (y - h2 / 2)),
      rect: {l: left, t: top, r: left + w, b: top + h2}};
  };
  const prefer = !(x + gap + w <= width - pad) && (x - gap - w >= pad || x > width / 2);
  const step = h2 + pad / 2;
  const tries = [[prefer, 0], [!prefer, 0], [prefer, step], [prefer, -step], [!prefer, step], [!prefer, -step]];
  const clear = (a) => taken.every((b) => a.r <= b.l || a.l >= b.r || a.b <= b.t || a.t >= b.b);
  const best = tries.map(([f, lift]) => place(f, lift)).find((c) => clear(c.rect)) || place(prefer, 0);
  taken.push(best.rect);
  return {flipped: best.flipped, dx: best.dx, dy: best.dy};
}
