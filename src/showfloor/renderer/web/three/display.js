// The station's display kind, from `welcome` (app.js calls setDisplay()):
//
//   touch, projector    nothing to do: the 3-D scenes draw themselves
//   hologram-pyramid,   on the `display` surface every 2-D scene type is drawn
//   hologram-fan        as its title alone, calm and centred on black (four
//                       times round the centre on a pyramid); model scenes
//                       draw the model on black (scenes/model.js); the page
//                       shows no chrome (3d.css, body[data-hologram])
//   vr                  a big "Enter VR" button on every scene where the
//                       browser can start immersive-vr (else nothing: the
//                       2-D page it is); in the headset every scene is drawn
//                       in 3-D (xr/)
//
// No three.js is loaded here: 2-D stations never load it for this.

import * as scenes from "../scenes/index.js";
import {config, configure, facts, hologram} from "./config.js";

const TITLE_TYPES = ["attract", "media", "story", "quiz", "end", "panorama"];
let vrCall = null;
let watching = false;

export function setDisplay(welcome) {
  try {
    apply(welcome);
  } catch (err) {
    console.error("showfloor 3-D display:", err);  // eslint-disable-line no-console
  }
}

function apply(welcome) {
  configure(welcome);
  const body = document.body;
  body.dataset.display = config.display;
  const holo = hologram();
  if (holo) {
    body.dataset.hologram = holo;
    // every 2-D scene type (and panoramas, which do not suit a hologram) as a title
    const url = new URL("../hologram/title.js", import.meta.url).href;
    for (const type of TITLE_TYPES) scenes.register(type, url);
  } else if (body.dataset.hologram) {
    delete body.dataset.hologram;
  }
  if (config.display === "vr" && config.role !== "display") setupVR();
  watchReset();
}

function setupVR() {
  if (vrCall) return;
  import("../xr/bridge.js").then(({xr}) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn--primary vr-call";
    b.dataset.action = "";
    b.hidden = true;
    const label = document.createElement("span");
    label.className = "btn__label";
    b.append(label);
    const relabel = () => {
      const zh = (document.documentElement.lang || "").startsWith("zh");
      label.textContent = zh ? "进入 VR" : "Enter VR";
      b.lang = zh ? "zh-CN" : "en";
    };
    relabel();
    new MutationObserver(relabel).observe(document.documentElement, {attributes: true, attributeFilter: ["lang"]});
    b.addEventListener("click", () => xr.enter(null));
    document.body.append(b);
    vrCall = b;
    const show = () => xr.supported().then((yes) => {
      b.hidden = !yes || xr.active;
      if (yes) import("../xr/session.js").catch(() => {});  // ready before the press (a gesture does not wait long)
    });
    show();
    xr.watch(show);
    // an emulator or a headset can turn up later: look again now and then while nothing is supported
    const again = setInterval(() => {
      if (facts.xrSupported) clearInterval(again);
      else xr.recheck();
    }, 3000);
  });
}

/**
 * A reset empties the stage at once (app.js). An immersive session ends
 * then, so the next visitor starts clean (and puts the headset on to a
 * page that says "Enter VR").
 */
function watchReset() {
  if (watching) return;
  const stage = document.getElementById("stage");
  if (!stage) return;
  watching = true;
  new MutationObserver(() => {
    if (stage.childElementCount === 0 && facts.xrSession) {
      import("../xr/bridge.js").then(({xr}) => xr.end());
    }
  }).observe(stage, {childList: true});
}
