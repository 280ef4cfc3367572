// The scene registry: view `type` → the ES module that draws it.
//
// A scene module exports
//   render(view, ctx) → HTMLElement            required: draw the view
//   update(view, ctx) → boolean                optional: change the drawn scene in
//                                              place (same scene id); true = done
//   dispose()                                  optional: stop timers and media
// Modules are loaded with dynamic import(), so a plug-in scene type adds
// itself with register("my-type", new URL("./my-type.js", import.meta.url)).
// A type nobody registered is drawn by the generic panel (its title).

import * as generic from "./generic.js";

const registry = new Map([
  ["attract", new URL("./attract.js", import.meta.url).href],
  ["media", new URL("./media.js", import.meta.url).href],
  ["story", new URL("./story.js", import.meta.url).href],
  ["quiz", new URL("./quiz.js", import.meta.url).href],
  ["end", new URL("./end.js", import.meta.url).href],
  ["model", new URL("./model.js", import.meta.url).href],
  ["panorama", new URL("./panorama.js", import.meta.url).href],
  ["ask", new URL("./ask.js", import.meta.url).href],
]);
const loaded = new Map();   // type → module (once imported)
const loading = new Map();  // type → Promise<module>

/** Add (or replace) the module for a scene type. */
export function register(type, url) {
  if (registry.get(type) === String(url)) return;
  registry.set(type, String(url));
  loaded.delete(type);
  loading.delete(type);
}

/** The module for `type` if it is already loaded (no waiting), else null. */
export function cached(type) {
  if (!registry.has(type)) return generic;
  return loaded.get(type) || null;
}

/**
 * The module for `type`. `onError(detail)` is told when a module fails to
 * load; the generic panel draws the scene instead.
 */
export function load(type, onError = () => {}) {
  if (!registry.has(type)) return Promise.resolve(generic);
  if (loaded.has(type)) return Promise.resolve(loaded.get(type));
  if (!loading.has(type)) {
    loading.set(type, import(registry.get(type)).then((mod) => {
      if (typeof mod.render !== "function") throw new Error("it does not export render()");
      loaded.set(type, mod);
      return mod;
    }).catch((err) => {
      loading.delete(type);
      onError(`scene type '${type}': ${err && err.message ? err.message : err}`);
      return generic;
    }));
  }
  return loading.get(type);
}

/** Load every registered module now (so the first visitor never waits for one). */
export function warm(onError) {
  return Promise.all([...registry.keys()].map((type) => load(type, onError)));
}

export {generic};
