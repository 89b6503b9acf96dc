// Which numeric columns are keys, not features, when features are inferred.

import { describe, expect, it } from 'vitest';
import { keyReason } from '../src/selection.js';

describe('keyReason', () => {
  it('takes integer columns named like identifiers for keys', () => {
    for (const name of ['id', 'ID', 'permno', 'PERMNO', 'gvkey', 'cusip', 'firm_id', 'stock id', 'firmId', 'Unnamed: 0']) {
      expect(keyReason(name, [10107, 14593, 10107]), name).toBe('named like an identifier');
    }
  });

  it('takes yyyymmdd integers for dates', () => {
    expect(keyReason('d', [20240131, 20240229, 19991231])).toBe('yyyymmdd dates');
    expect(keyReason('d', [20240131, 20241331])).toBeUndefined();
  });

  it('leaves features alone: market caps, volumes, counts, returns, and names that merely contain "id"', () => {
    expect(keyReason('Market Cap', [92293693440, 8573113344, 167959003136])).toBeUndefined();
    expect(keyReason('volume', [7430000, 15550000, 7430000])).toBeUndefined();
    expect(keyReason('trades', [3, 3, 5, 9])).toBeUndefined();
    expect(keyReason('ret', [0.01, -0.02])).toBeUndefined();
    // Consecutive integers alone are no key: a step or a count is a feature as often as an index.
    expect(keyReason('step', Array.from({ length: 50 }, (_, i) => i + 1))).toBeUndefined();
    expect(keyReason('bid', [101, 102, 103])).toBeUndefined();
    expect(keyReason('dividend', [1, 2, 4])).toBeUndefined();
    // Not every value an integer: not a key whatever the name.
    expect(keyReason('id', [1, 2.5])).toBeUndefined();
    // A month number is not a date; a year-month (yyyymm) is not yyyymmdd.
    expect(keyReason('m', [202401, 202402, 202404])).toBeUndefined();
  });
});
