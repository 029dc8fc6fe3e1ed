// What the page remembers about one classification: the input, the plan and where it came from, every local step
// the client reported (onStep), what went over the wire (EmulatedLink) and the client's result. Times are ms
// relative to `t0` (performance.now() just before classify was called). Renderers only read these.

import type { RawImage } from '../../core/preprocess.js';
import type { ClassifyResult, DecidedBy } from '../../client/index.js';
import type { LinkEvents } from './emulated-link.js';
import type { ChosenPlan } from './sla-presets.js';

export interface StepEvent {
  phase: 'device' | 'after-split';
  kind: 'block' | 'exit';
  index: number;
  start: number;
  end: number;
  taken?: boolean;
  confidence?: number;
}

export interface RequestRecord {
  n: number;
  /** What was classified, for people ("sample #12", "upload: shoe.jpg"). */
  source: string;
  /** Ground-truth label when the input is a labelled sample. */
  truth?: number;
  /** The image classified: a sample's 28×28 grey pixels or an upload at the model's size. */
  pixels: Uint8Array | RawImage;
  plan: ChosenPlan;
  presetLabel: string;
  /** Emulated uplink (bits/s, 0 = off) and device slowdown (1 = real) in force for this request. */
  bandwidthBps: number;
  deviceFactor: number;
  t0: number;
  steps: StepEvent[];
  link: LinkEvents;
  result?: ClassifyResult;
  error?: string;
  /** When classify settled (relative). */
  end?: number;
}

export const DECIDED_LABEL: Record<DecidedBy, string> = {
  device: 'device (early exit before the split)',
  server: 'server',
  'device-race': 'device (won the race after the split)',
  'device-fallback': 'device (fallback: offload failed)',
};

export const DECIDED_COLOUR: Record<DecidedBy, string> = {
  device: '#2563eb',
  server: '#7c3aed',
  'device-race': '#0891b2',
  'device-fallback': '#b45309',
};
