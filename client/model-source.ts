// Where a model's manifest and files are downloaded from. The default is the edge worker's API
// (`GET /v1/models/:id/manifest`, `GET /v1/models/:id/files/<file>`); `staticModelSource` serves a directory laid
// out like `models/<id>/` (manifest.json next to blocks/ and exits/) from any static host or CDN.

/** URLs of a model's manifest and files. */
export interface ModelSource {
  /** Absolute URL of the manifest JSON. */
  readonly manifestUrl: string;
  /** Absolute URL of a file given its manifest-relative path (e.g. `blocks/block-00.onnx`). */
  fileUrl(file: string): string;
}

/** Splits a manifest-relative path into URL-encoded segments, refusing anything that could leave the model folder. */
function safeSegments(file: string): string[] {
  const segments = file.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\'))) {
    throw new RangeError(
      `model file path ${JSON.stringify(file)} must be relative and stay inside the model folder`,
    );
  }
  return segments.map(encodeURIComponent);
}

/** Removes trailing slashes so `${base}/v1/...` never doubles them. */
export function trimTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * The edge worker's layout. `baseUrl` defaults to `${edgeUrl}/v1/models/<modelId>/`; the manifest is `${base}manifest`
 * and files are `${base}files/<file>`.
 */
export function edgeModelSource(edgeUrl: string, modelId: string, baseUrl?: string): ModelSource {
  const base = baseUrl
    ? `${trimTrailingSlash(baseUrl)}/`
    : `${trimTrailingSlash(edgeUrl)}/v1/models/${encodeURIComponent(modelId)}/`;
  return {
    manifestUrl: `${base}manifest`,
    fileUrl: (file) => `${base}files/${safeSegments(file).join('/')}`,
  };
}

/** A static folder: the manifest at `manifestUrl`, files resolved relative to it. */
export function staticModelSource(manifestUrl: string): ModelSource {
  return {
    manifestUrl,
    fileUrl: (file) => new URL(safeSegments(file).join('/'), manifestUrl).href,
  };
}
