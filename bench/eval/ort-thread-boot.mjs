// Entry of the inference thread (ort-thread.ts): worker threads on Node 20 do not inherit the parent's
// `--import tsx` loader, so this plain-JavaScript entry registers tsx in the thread, then loads the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./ort-thread-worker.ts');
