// The time-order check of causal runs: values compare as what they are.

import { describe, expect, it } from 'vitest';
import { TimeOrder } from '../../src/pipeline/time-order.js';

/** Feeds one group's values; returns the index of the first refused, or −1. */
function firstRefused(values: string[]): number {
  const order = new TimeOrder('date');
  return values.findIndex((value) => order.follow('g', value, () => '') !== undefined);
}

describe('TimeOrder', () => {
  it('compares plain ISO dates, timestamps with offsets, and numbers by what they mean', () => {
    expect(firstRefused(['2024-01-30', '2024-01-31', '2024-02-01', '2024-02-01'])).toBe(-1);
    expect(firstRefused(['2024-01-31', '2024-01-30'])).toBe(1);
    // Midnight UTC of a date, then the same instant as a timestamp, then 01:00Z written at −02:00.
    expect(firstRefused(['2024-01-02', '2024-01-02T00:00:00Z', '2024-01-01T23:00:00-02:00'])).toBe(-1);
    expect(firstRefused(['2024-01-02', '2024-01-01T23:00:00Z'])).toBe(1);
    expect(firstRefused(['20231231', '20240102', '20240102'])).toBe(-1);
    expect(firstRefused(['20240102', '20231231'])).toBe(1);
    expect(firstRefused(['9', '10'])).toBe(-1);
  });

  it('keeps groups apart, skips empty values, and refuses text that has no order or a change of kind', () => {
    const order = new TimeOrder('date');
    expect(order.follow('A', '2024-01-05', () => '')).toBeUndefined();
    expect(order.follow('B', '2024-01-01', () => '')).toBeUndefined();
    expect(order.follow('A', '', () => '')).toBeUndefined();
    expect(order.follow('A', '2024-01-04', () => ' in group A')).toBe(
      'date goes backwards in group A: "2024-01-04" comes after "2024-01-05"; causal windows need the rows in time order: sort the input by date first',
    );
    expect(firstRefused(['day9', 'day10'])).toBe(0);
    expect(firstRefused(['20240102', '2024-01-03'])).toBe(1);
  });
});
