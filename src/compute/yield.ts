// Long computations on the main thread starve everything else a worker does there: BullMQ's lock
// renewal timer among them (a lock that is not renewed in time makes a healthy worker look dead).
// Kernels call a time slicer between units of work so no stretch of JavaScript runs longer than a
// few tens of milliseconds; ONNX Runtime calls already return to the event loop (they run from
// setImmediate), so what remains to bound there is the size of each call.

/** One turn of the event loop: pending timers and I/O run before this resolves. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Returns a function to await between units of work: it yields to the event loop when sliceMs have
 * passed since the last yield, and otherwise returns at once (no cost inside fast loops).
 */
export function timeSlicer(sliceMs = 25): () => Promise<void> | undefined {
  let last = performance.now();
  return () => {
    const now = performance.now();
    if (now - last < sliceMs) return undefined;
    return yieldToEventLoop().then(() => {
      last = performance.now();
    });
  };
}
