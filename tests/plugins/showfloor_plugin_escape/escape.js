// The `escape` scene type's renderer module (a test plug-in, see __init__.py).
// Every control sits at a fixed place so the test can tap it through X:
// slot i is a 180×70 px box at (20 + (i % 5) · 200, 120 + ⌊i / 5⌋ · 90) in the
// window (below the shell's language and display buttons, which stay on top), in the
// order of SLOTS (tests/e2e/test_escape.py keeps the same list).

import {h} from "/renderer/dom.js";

let pings = 0;

const ACTIONS = {
  ping: () => { pings += 1; document.title = `escape-battery ${pings}`; },
  window_open: () => window.open("/?surface=main"),
  location_file: () => { location.href = "file:///etc/passwd"; },
  location_chrome: () => { location.href = "chrome://settings"; },
  location_blank: () => { location.href = "about:blank"; },
  print: () => window.print(),
  alert: () => alert("escape battery / 逃逸测试"),
};

const SLOTS = ["ping", "window_open", "location_file", "location_chrome", "location_blank",
  "print", "alert", "blank_link", "drag_link", "drag_image"];

function box(i) {
  return {position: "fixed", left: `${20 + (i % 5) * 200}px`, top: `${120 + Math.floor(i / 5) * 90}px`,
    width: "180px", height: "70px", margin: "0", "box-sizing": "border-box", "font-size": "18px",
    display: "grid", "place-content": "center", background: "#fff", color: "#000",
    border: "2px solid #000"};
}

function control(name, i) {
  if (name === "blank_link") {
    return h("a", {href: "/healthz", target: "_blank", "data-slot": name, style: box(i),
      text: name});
  }
  if (name === "drag_link") {
    return h("a", {href: "/healthz", "data-slot": name, style: box(i), text: name});
  }
  if (name === "drag_image") {
    return h("img", {src: "/exhibit/media/pic.png", alt: name, "data-slot": name, style: box(i)});
  }
  return h("button", {type: "button", "data-slot": name, style: box(i), text: name,
    on: {click: ACTIONS[name]}});
}

export function render(view, ctx) {
  document.title = `escape-battery ${pings}`;
  return h("section", {class: "plugin-escape", "data-plugin": "escape",
    style: {position: "fixed", inset: "0", "z-index": "10000", background: "#2a7f62"}},
    h("h1", {class: "title", id: "scene-title", text: view.heading,
      style: {position: "fixed", left: "20px", bottom: "20px", margin: "0", color: "#fff"}}),
    SLOTS.map(control));
}
