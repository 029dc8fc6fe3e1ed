// Structured logging for the backend: one JSON object per line on stderr (level, time, message, fields), so the
// EP choice, worker restarts and request failures are greppable and machine-readable. Tests pass a silent logger.

export type LogLevel = 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

export function jsonLogger(write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  return (level, msg, fields = {}) => {
    write(JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields }) + '\n');
  };
}

export const silentLogger: Logger = () => {};
