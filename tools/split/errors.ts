// Why this file exists: the splitter's user-facing failures (bad file, unsplittable graph, unsupported dtype)
// share one error class so the CLI can print them as one clear line and exit non-zero, while real bugs still
// surface with a stack trace.

/** A problem with the input model or the request, explained in `message`; never a bug in the splitter. */
export class SplitError extends Error {
  override readonly name = 'SplitError';
}
