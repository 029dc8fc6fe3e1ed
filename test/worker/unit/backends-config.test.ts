// The fleet as the edge reads it (worker/backends-config.ts): BACKENDS entries with weights and names, BACKEND_URL as
// a fleet of one, OIP_BACKENDS JSON with its defaults, and a clear problem (never a guess) for every bad setting.

import { describe, expect, it } from 'vitest';
import { oipBackendsFor, readBackends } from '../../../worker/backends-config.js';
import { candidatesFor, retryable } from '../../../worker/offload-router.js';

describe('BACKENDS', () => {
  it('reads url[;weight=w][;name=n] entries separated by commas, spaces or newlines', () => {
    const c = readBackends({
      BACKENDS:
        'https://a.example.com/, http://10.0.0.2:8790;weight=2;name=gpu-b\nhttps://c.example.com;name=c',
    });
    expect(c.problem).toBeNull();
    expect(c.backends).toEqual([
      { name: 'backend-0', url: 'https://a.example.com', weight: 1, kind: 'spinn' },
      { name: 'gpu-b', url: 'http://10.0.0.2:8790', weight: 2, kind: 'spinn' },
      { name: 'c', url: 'https://c.example.com', weight: 1, kind: 'spinn' },
    ]);
  });

  it('takes BACKEND_URL as a fleet of one, and ignores it (saying so) beside BACKENDS', () => {
    expect(readBackends({ BACKEND_URL: 'https://one.example.com' }).backends).toEqual([
      { name: 'backend-0', url: 'https://one.example.com', weight: 1, kind: 'spinn' },
    ]);
    const both = readBackends({
      BACKEND_URL: 'https://old.example.com',
      BACKENDS: 'https://new.example.com',
    });
    expect(both.backends.map((b) => b.url)).toEqual(['https://new.example.com']);
    expect(both.notice).toMatch(/BACKEND_URL is ignored/);
  });

  it('refuses bad entries with a message naming them', () => {
    const cases: [string, RegExp][] = [
      ['https://a.example.com;weight=0', /entry 1: weight "0"/],
      ['https://a.example.com;weight=x', /weight "x"/],
      ['https://a.example.com,https://b.example.com;speed=3', /entry 2: unknown parameter "speed=3"/],
      ['https://a.example.com;name=a/b', /name "a\/b" must be/],
      ['https://a.example.com;name=x,https://b.example.com;name=x', /name "x" is used twice/],
      ['ftp://a.example.com', /not an http\(s\) URL/],
    ];
    for (const [value, problem] of cases) {
      const c = readBackends({ BACKENDS: value });
      expect(c.backends, value).toEqual([]);
      expect(c.problem, value).toMatch(problem);
    }
  });
});

describe('OIP_BACKENDS', () => {
  const oip = JSON.stringify([
    { url: 'https://triton.example.com/', models: { 'resnet56-fmnist': 'resnet56' } },
    {
      url: 'https://kserve.example.com',
      name: 'kserve',
      weight: 3,
      models: { 'resnet56-fmnist': { model: 'r56', version: '2', output: 'logits', softmax: true } },
    },
  ]);

  it('reads servers and their models with defaults, after the SPINN backends', () => {
    const c = readBackends({ BACKENDS: 'https://a.example.com', OIP_BACKENDS: oip });
    expect(c.problem).toBeNull();
    expect(c.backends.map((b) => [b.name, b.kind, b.weight])).toEqual([
      ['backend-0', 'spinn', 1],
      ['oip-0', 'oip', 1],
      ['kserve', 'oip', 3],
    ]);
    expect(c.backends[1]!.models!['resnet56-fmnist']).toEqual({
      model: 'resnet56',
      output: 'probabilities',
      softmax: false,
      earlyExit: false,
    });
    expect(c.backends[2]!.models!['resnet56-fmnist']).toMatchObject({
      model: 'r56',
      version: '2',
      softmax: true,
    });
    expect(oipBackendsFor(c.backends, 'resnet56-fmnist').map((b) => b.name)).toEqual(['oip-0', 'kserve']);
    expect(oipBackendsFor(c.backends, 'mobilenetv2-fmnist96')).toEqual([]);
  });

  it('gives server-only requests of a model an OIP server holds to those servers, everything else to SPINN', () => {
    const { backends } = readBackends({ BACKENDS: 'https://a.example.com', OIP_BACKENDS: oip });
    const names = (modelId: string, split: number) =>
      candidatesFor(backends, { modelId, split }).map((b) => b.name);
    expect(names('resnet56-fmnist', 0)).toEqual(['oip-0', 'kserve']);
    expect(names('resnet56-fmnist', 5)).toEqual(['backend-0']);
    expect(names('mobilenetv2-fmnist96', 0)).toEqual(['backend-0']);
  });

  it('refuses malformed JSON, and needs SPINN backends beside it', () => {
    expect(readBackends({ BACKENDS: 'https://a.example.com', OIP_BACKENDS: '[{' }).problem).toMatch(
      /OIP_BACKENDS is not JSON/,
    );
    expect(
      readBackends({ BACKENDS: 'https://a.example.com', OIP_BACKENDS: '[{"url":"https://t.example.com"}]' })
        .problem,
    ).toMatch(/OIP_BACKENDS 0.models/);
    expect(readBackends({ OIP_BACKENDS: oip }).problem).toMatch(/BACKENDS is not set/);
  });
});

describe('retry rule', () => {
  it('sends elsewhere only what a backend never took: no answer at all, or a 503 refusal', () => {
    expect(retryable({ kind: 'unreachable', error: 'refused' })).toBe(true);
    expect(retryable({ kind: 'bad-response', httpStatus: 503, error: 'queue full' })).toBe(true);
    expect(retryable({ kind: 'timeout', error: 'slow' })).toBe(false);
    expect(retryable({ kind: 'bad-response', httpStatus: 500, error: 'boom' })).toBe(false);
    expect(retryable({ kind: 'aborted' })).toBe(false);
  });
});
