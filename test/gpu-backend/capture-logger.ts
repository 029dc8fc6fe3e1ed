// A backend logger (pino, gpu-backend/log.ts) that writes into an array instead of stderr, synchronously, so a test
// reads exactly the JSON lines the backend would have logged.

import { createLogger, type LogLevel, type Logger } from '../../gpu-backend/log.js';

export interface CapturedLogger {
  log: Logger;
  /** Every line logged so far, parsed. */
  lines: Record<string, unknown>[];
}

export function captureLogger(level: LogLevel = 'debug'): CapturedLogger {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(level, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}
