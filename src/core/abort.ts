/**
 * Many waiters on one long-lived AbortSignal (a run's deadline or shutdown signal shared by every
 * concurrent send, retry sleep and sink request) without one 'abort' listener each: Node warns
 * (MaxListenersExceededWarning) past 10 listeners on one EventTarget, and the listeners of
 * abandoned waiters would otherwise pile up. Each signal gets exactly one listener, added on the
 * first subscription, which fans the abort out to the subscribers current at that moment; a
 * subscriber removes itself (a Set delete) when its wait ends.
 */
const fanouts = new WeakMap<AbortSignal, Set<() => void>>();

const NOTHING = (): void => {};

/**
 * Calls `fn` once when `signal` aborts (at once if it already has). Returns the function that
 * cancels the subscription; call it when the wait ends.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) {
    fn();
    return NOTHING;
  }
  const subs = fanouts.get(signal) ?? fanOut(signal);
  subs.add(fn);
  return () => {
    subs.delete(fn);
  };
}

/** The signal's one listener and its subscriber set. */
function fanOut(signal: AbortSignal): Set<() => void> {
  const subs = new Set<() => void>();
  fanouts.set(signal, subs);
  signal.addEventListener(
    'abort',
    () => {
      fanouts.delete(signal);
      for (const f of subs) f();
      subs.clear();
    },
    { once: true },
  );
  return subs;
}

/**
 * A signal of its own for one request, aborted (with the parent's reason) when `parent` aborts.
 * Whatever the request hangs on it (an SDK's, fetch's or a client's listeners) stays on this
 * short-lived signal; `release()` detaches it from the parent when the request ends.
 */
export function requestSignal(parent: AbortSignal): { signal: AbortSignal; release: () => void } {
  const ctl = new AbortController();
  const release = onAbort(parent, () => ctl.abort(parent.reason));
  return { signal: ctl.signal, release };
}
