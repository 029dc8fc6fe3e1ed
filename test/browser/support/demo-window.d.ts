// The page's debugging handle (demo/web/main.ts assigns window.spinnDemo), typed for page.evaluate in the test.
import type { RequestRecord } from '../../../demo/web/request-record.js';

declare global {
  interface Window {
    spinnDemo: {
      records: RequestRecord[];
      classifySample(i: number): Promise<RequestRecord | undefined>;
      checkEdge(): Promise<unknown>;
      proxy: boolean;
    };
  }
}
