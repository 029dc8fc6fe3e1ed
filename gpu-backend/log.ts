// Structured logging for the backend with pino: one JSON object per line on stderr (level as a word, ISO time, pid,
// hostname, message, fields), so the EP choice, worker restarts, request failures and the access log
// (access-log.ts) are greppable and machine-readable (journald, Loki, any JSON log pipeline; `pino-pretty` for
// people). pino writes through an asynchronous buffer (sonic-boom) that it flushes on exit: an access line per
// request must not cost the HTTP thread a blocking write each, which `process.stderr.write` is on Linux for files
// and pipes. Tests pass `silentLogger`, or a logger over their own stream to read what was logged.

import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Levels the backend logs at, and `silent`; `--log-level warn` drops the access log (info) and keeps problems. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(
  level: LogLevel = 'info',
  destination: DestinationStream = pino.destination({ dest: 2, sync: false }),
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
