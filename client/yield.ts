// Yielding to the event loop between blocks. Wasm inference runs on the calling thread and its promises resolve as
// microtasks, so without a real macrotask turn a network response could not be read until the local run ended.
// MessageChannel gives one turn without setTimeout's clamping (≥ 1 ms in Node, ≥ 4 ms in nested browser timers).

/** Resolves after one turn of the event loop (I/O callbacks included). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof MessageChannel === 'undefined') {
      setTimeout(resolve, 0);
      return;
    }
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
