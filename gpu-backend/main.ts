// Process entry of the backend (`npm run backend -- --help`): parses the configuration, starts the server, and
// turns SIGTERM/SIGINT into a graceful shutdown (a second signal exits at once).

import { CommanderError } from 'commander';
import { parseConfig, type BackendConfig } from './config.js';
import { jsonLogger } from './log.js';
import { BACKEND_NODE_FLAGS, hasBackendNodeFlags } from './node-flags.js';
import { startServer } from './server.js';

const log = jsonLogger();

let config: BackendConfig;
try {
  config = parseConfig();
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  throw e;
}
if (!config.token) log('warn', 'no --token / SPINN_BACKEND_TOKEN set: the API accepts unauthenticated calls');
if (!hasBackendNodeFlags()) {
  log(
    'warn',
    'started without the recommended Node flags (gpu-backend/node-flags.ts): more CPU per request',
    {
      missing: BACKEND_NODE_FLAGS.filter((f) => !process.execArgv.includes(f)),
    },
  );
}

try {
  const running = await startServer(config, log);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log('warn', 'second signal; exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    log('info', 'shutting down', { signal, graceMs: config.shutdownGraceMs });
    running.close().then(
      () => process.exit(0),
      (e: unknown) => {
        log('error', 'shutdown failed', { error: (e as Error).message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
} catch (e) {
  log('error', 'backend failed to start', { error: (e as Error).message });
  process.exit(1);
}
