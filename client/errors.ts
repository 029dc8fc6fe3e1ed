// Errors the client rejects with. Network and server trouble during `classify` is never an error (the device
// finishes alone); what remains is programmer error (bad input, bad plan) and a model that cannot be loaded.

/** The model (manifest or an ONNX file) could not be fetched, parsed or verified; the client cannot run. */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
