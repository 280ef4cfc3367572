// Clearing every trace of a visit (the `reset` message).
//
// The renderer itself never writes visitor answers or choices anywhere but
// the current DOM; this is the belt to that pair of braces: whatever a
// plug-in scene (or a browser feature) may have stored goes too.

/** Clear Web Storage, IndexedDB and Cache Storage. Never throws. */
export async function wipeStorage() {
  try { localStorage.clear(); } catch { /* storage may be disabled */ }
  try { sessionStorage.clear(); } catch { /* ditto */ }
  const jobs = [];
  try {
    if (window.indexedDB && typeof indexedDB.databases === "function") {
      const dbs = await indexedDB.databases();
      for (const db of dbs) {
        if (!db.name) continue;
        jobs.push(new Promise((resolve) => {
          const req = indexedDB.deleteDatabase(db.name);
          req.onsuccess = req.onerror = req.onblocked = () => resolve();
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
