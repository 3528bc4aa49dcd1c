/* peta112 outbox: calls typed while the network or the server is down are kept in the browser.
 *
 * A 112 call-taker cannot ask the caller to ring back because the server did not answer.  Every
 * call is written here (IndexedDB, so it survives a reload or a crash of the tab) with its
 * Idempotency-Key *before* it is sent, and removed only when the server has answered it.  Sending
 * again with the same key is safe: the server returns the incident it stored the first time
 * (POST /api/v1/incidents honours Idempotency-Key), so a call whose answer was lost is not doubled.
 *
 * Items are kept per user: a call is sent only by the call-taker who typed it (the audit trail
 * names them), so a shared desk computer never files one call-taker's pending call as another's.
 */

const DB_NAME = "peta112";
const STORE = "outbox";
let dbPromise = null;

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      const req = window.indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(STORE)) {
          req.result.createObjectStore(STORE, { keyPath: "key" });
        }
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return dbPromise;
}

function run(mode, fn) {
  return openDb().then((db) => new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = fn(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  }));
}

/* Keep one call: {key, user, path, body, kind, label, saved_at, attempts, error}. */
export function put(item) { return run("readwrite", (s) => s.put(item)); }

export function remove(key) { return run("readwrite", (s) => s.delete(key)); }

/* Every pending call of this user, oldest first. */
export function list(user) {
  return run("readonly", (s) => s.getAll()).then((items) => (items || [])
    .filter((it) => !user || it.user === user)
    .sort((a, b) => (a.saved_at < b.saved_at ? -1 : a.saved_at > b.saved_at ? 1 : 0)));
}

/* May this answer be final for the call?  Network errors (status 0), a server or proxy down (5xx),
 * a timeout (408), rate limiting (429) and an expired sign-in (401: sent once signed in again) are
 * not: keep the call and send it again later.  Anything else (the incident, or a 4xx saying what is
 * wrong with it) is. */
export function shouldRetry(status) {
  return status === 0 || status === 401 || status === 408 || status === 429 || status >= 500;
}
