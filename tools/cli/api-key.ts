// `npm run key:new -- <name>`: makes an API key for the edge. Prints the key (give it to the client, once; it is
// not stored anywhere) and its API_KEYS entry `name:sha256hex` (append it to the worker's API_KEYS secret:
// `wrangler secret put API_KEYS`, or .dev.vars locally). `--hash <key>` prints the entry of an existing key.

import { Command } from 'commander';
import { ApiKeyConfigError, apiKeyEntry, hashApiKey, newApiKey } from '../../core/api-keys.js';

const program = new Command()
  .name('key:new')
  .description('make an API key for the SPINN edge and its API_KEYS entry')
  .argument(
    '<name>',
    "the key's holder (1-64 characters of [A-Za-z0-9._-]); keys the rate limit and owns request ids",
  )
  .option('--hash <key>', 'hash this existing key instead of making a new one (rotation: same name, new key)')
  .option('--json', 'print {name, key, entry} as one JSON line')
  .parse();
const [name] = program.args as [string];
const opts = program.opts<{ hash?: string; json?: boolean }>();

const key = opts.hash ?? newApiKey();
async function entryFor(keyName: string, keyValue: string): Promise<string> {
  try {
    return apiKeyEntry(keyName, await hashApiKey(keyValue));
  } catch (e) {
    if (e instanceof ApiKeyConfigError) program.error(`error: ${e.message}`);
    throw e;
  }
}
const entry = await entryFor(name, key);
if (opts.json) {
  console.log(JSON.stringify({ name, key, entry }));
} else {
  console.log(`key (give to the client; shown once): ${key}`);
  console.log(`API_KEYS entry (append, comma-separated): ${entry}`);
}
