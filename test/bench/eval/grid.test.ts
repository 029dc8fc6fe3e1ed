// The evaluation's design as data: the grid is the full product in run order, every system runs once per
// repetition at a different position each time, and each cell's images come from the measurement half, shared by
// the systems of a repetition and fresh for every repetition and point.

import { describe, expect, it } from 'vitest';
import {
  cellImages,
  gridPoints,
  isCalibrationImage,
  measurementImage,
  rotatedOrder,
} from '../../../bench/eval/grid.js';
import { FULL, QUICK } from '../../../bench/eval/config.js';

describe('gridPoints', () => {
  it('is the product of classes, RTTs and bandwidths per spec, in run order', () => {
    const pts = gridPoints([
      { model: 'm', deviceModel: 'process', cpu: [0.1, 0.5], rttMs: [5, 80], mbps: [1, 10, 100] },
      { model: 'm', deviceModel: 'nn', cpu: [0.25], rttMs: [20], mbps: [10] },
    ]);
    expect(pts).toHaveLength(2 * 2 * 3 + 1);
    expect(pts[0]).toEqual({ model: 'm', deviceModel: 'process', cpu: 0.1, rttMs: 5, mbps: 1 });
    expect(pts[1]).toEqual({ model: 'm', deviceModel: 'process', cpu: 0.1, rttMs: 5, mbps: 10 });
    expect(pts[3]).toEqual({ model: 'm', deviceModel: 'process', cpu: 0.1, rttMs: 80, mbps: 1 });
    expect(pts.at(-1)).toEqual({ model: 'm', deviceModel: 'nn', cpu: 0.25, rttMs: 20, mbps: 10 });
    expect(new Set(pts.map((p) => JSON.stringify(p))).size).toBe(pts.length);
  });

  it('the full grid covers 10/25/50 % × 5/20/80 ms × 1/10/100 Mbit/s for both models', () => {
    const pts = gridPoints(FULL.grid);
    for (const model of ['resnet56-fmnist', 'mobilenetv2-fmnist96']) {
      const mine = pts.filter((p) => p.model === model && p.deviceModel === 'process');
      expect(mine).toHaveLength(27);
      expect(new Set(mine.map((p) => p.cpu))).toEqual(new Set([0.1, 0.25, 0.5]));
      expect(new Set(mine.map((p) => p.rttMs))).toEqual(new Set([5, 20, 80]));
      expect(new Set(mine.map((p) => p.mbps))).toEqual(new Set([1, 10, 100]));
    }
    expect(pts.filter((p) => p.deviceModel === 'nn')).toHaveLength(9);
    expect(FULL.reps).toBeGreaterThanOrEqual(5);
    expect(gridPoints(QUICK.grid).length).toBeLessThan(pts.length);
  });
});

describe('rotatedOrder', () => {
  const items = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'];
  it('runs every item once per repetition', () => {
    for (let rep = 0; rep < 5; rep++) expect([...rotatedOrder(items, rep, 5)].sort()).toEqual(items);
  });
  it('puts each item at a different position in every repetition', () => {
    for (const it of items) {
      const positions = Array.from({ length: 5 }, (_, rep) => rotatedOrder(items, rep, 5).indexOf(it));
      expect(new Set(positions).size).toBe(5);
    }
  });
  it('still rotates when there are more repetitions than items', () => {
    expect(rotatedOrder(['a', 'b'], 1, 5)).toEqual(['b', 'a']);
    expect(rotatedOrder([], 3, 5)).toEqual([]);
  });
});

describe('cellImages', () => {
  it('measures only the measurement half and warms up on the calibration half', () => {
    const { warmup, measured } = cellImages(7, 2, 5, 8, 4);
    expect(measured).toHaveLength(8);
    expect(warmup).toHaveLength(4);
    expect(measured.every((i) => !isCalibrationImage(i))).toBe(true);
    expect(warmup.every(isCalibrationImage)).toBe(true);
  });
  it('gives every (point, repetition) its own images', () => {
    const seen = new Set<number>();
    for (let point = 0; point < 27; point++)
      for (let rep = 0; rep < 5; rep++)
        for (const i of cellImages(point, rep, 5, 8, 0).measured) {
          expect(seen.has(i)).toBe(false);
          seen.add(i);
        }
  });
  it('is deterministic (the same images for every system of a repetition)', () => {
    expect(cellImages(3, 1, 5, 6, 2)).toEqual(cellImages(3, 1, 5, 6, 2));
  });
  it('stays within the test split', () => {
    expect(measurementImage(4999)).toBe(9999);
    expect(measurementImage(5000)).toBe(1);
  });
});
