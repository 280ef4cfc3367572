// Clearing every trace of a visit (the `reset` message).
//
// The renderer itself never writes visitor answers or choices anywhere but
// the current DOM; this is the belt to that pair of braces: whatever a
// plug-in scene (or a browser feature) may have stored goes too.

const connections = new Set();  // IndexedDB connections opened on this page

/**
 * Keep track of the IndexedDB connections scripts on this page open, so a
 * reset can close them: an open connection would block deleting its database
 * (a careless component that never closes one must not keep its data).
 */
export function watchIndexedDB() {
  const factory = window.IDBFactory && IDBFactory.prototype;
  if (!factory || factory.open.__showfloor) return;
  const open = factory.open;
  const tracked = function (...args) {
    const request = open.apply(this, args);
    request.addEventListener("success", () => {
      const db = request.result;
      connections.add(db);
      db.addEventListener("close", () => connections.delete(db));
      // someone wants to delete or upgrade it (a reset): let go
      db.addEventListener("versionchange", () => { db.close(); connections.delete(db); });
    });
    return request;
  };
  tracked.__showfloor = true;
  factory.open = tracked;
}

/** Clear Web Storage, IndexedDB and Cache Storage. Never throws. */
export async function wipeStorage() {
  try { localStorage.clear(); } catch { /* storage may be disabled */ }
  try { sessionStorage.clear(); } catch { /* ditto */ }
  for (const db of connections) {
    try { db.close(); } catch { /* closed already */ }
  }
  connections.clear();
  const jobs = [];
  try {
    if (window.indexedDB && typeof indexedDB.databases === "function") {
      const dbs = await indexedDB.databases();
      for (const db of dbs) {
        if (!db.name) continue;
        jobs.push(new Promise((resolve) => {
          const req = indexedDB.deleteDatabase(db.name);
          req.onsuccess = req.onerror = () => resolve();
          // blocked by a connection we do not know of: the deletion stays
          // queued and finishes when that connection closes
          req.onblocked = () => resolve();
        }));
      }
    }
  } catch { /* no IndexedDB here */ }
  try {
    if (window.caches) {
      for (const key of await caches.keys()) jobs.push(caches.delete(key).catch(() => {}));
    }
  } catch { /* no Cache Storage here (insecure context) */ }
  await Promise.all(jobs);
}
