// Process entry of the backend (`npm run backend -- --help`): parses the configuration, starts the server, and
// turns SIGTERM/SIGINT into a graceful shutdown (a second signal exits at once). pino flushes its buffered log lines
// when the process exits, so the last lines before process.exit are kept.

import { CommanderError } from 'commander';
import { parseConfig, type BackendConfig } from './config.js';
import { createLogger } from './log.js';
import { BACKEND_NODE_FLAGS, hasBackendNodeFlags } from './node-flags.js';
import { startServer } from './server.js';

let config: BackendConfig;
try {
  config = parseConfig();
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  throw e;
}
const log = createLogger(config.logLevel);
if (!config.token) log.warn('no --token / SPINN_BACKEND_TOKEN set: the API accepts unauthenticated calls');
if (!hasBackendNodeFlags()) {
  log.warn(
    { missing: BACKEND_NODE_FLAGS.filter((f) => !process.execArgv.includes(f)) },
    'started without the recommended Node flags (gpu-backend/node-flags.ts): more CPU per request',
  );
}

try {
  const running = await startServer(config, log);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down');
    running.close().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ error: (e as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
} catch (e) {
  log.error({ error: (e as Error).message }, 'backend failed to start');
  process.exit(1);
}
