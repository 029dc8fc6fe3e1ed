// Structured logging for the backend with pino: one JSON object per line on stderr (level as a word, ISO time, pid,
// hostname, message, fields), so the EP choice, worker restarts, request failures and the access log
// (access-log.ts) are greppable and machine-readable (journald, Loki, any JSON log pipeline; `pino-pretty` for
// people). pino writes through an asynchronous buffer (sonic-boom) that it flushes on exit: an access line per
// request must not cost the HTTP thread a blocking write each, which `process.stderr.write` is on Linux for files
// and pipes. The buffer is also written in chunks (LOG_CHUNK_BYTES, or every LOG_FLUSH_MS): one write per line was
// 10-12 % of the HTTP thread's CPU at 2500 requests/s (CPU profile, gpu-backend/README.md); a line waits at most
// LOG_FLUSH_MS, and only a SIGKILL loses the lines of that last instant. Tests pass `silentLogger`, or a logger over
// their own stream to read what was logged.

import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Levels the backend logs at, and `silent`; `--log-level warn` drops the access log (info) and keeps problems. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Log lines are written once this many bytes are buffered (about 40 access lines), or after LOG_FLUSH_MS. */
export const LOG_CHUNK_BYTES = 8192;
export const LOG_FLUSH_MS = 200;

export function createLogger(
  level: LogLevel = 'info',
  destination: DestinationStream = pino.destination({
    dest: 2,
    sync: false,
    minLength: LOG_CHUNK_BYTES,
    periodicFlush: LOG_FLUSH_MS,
  }),
): Logger {
  return pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
