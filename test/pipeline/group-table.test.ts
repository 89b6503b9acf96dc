// Per-group statistics on many threads: each thread keeps a table of the
// groups it met, and hands it over with the piece that makes it outgrow its
// budget (FINORM_GROUP_TABLE_BYTES, here 1 byte: every piece). The driver's
// table, merged from those and the totals, must be the table of one thread
// that saw every row, to the last bit and in the order of first appearance.

import { describe, expect, it } from 'vitest';
import type { GroupParts } from '../../src/groups.js';

process.env.FINORM_GROUP_TABLE_BYTES = '1';
const { GroupTable } = await import('../../src/groups.js');
const { pieceProcessor } = await import('../../src/pipeline/processor.js');
const { TableBudget } = await import('../../src/pipeline/statistics.js');
const { rowPosition } = await import('../../src/groups.js');
const { seededRandom } = await import('../support/random.js');

const COLUMNS = ['ticker', 'open', 'ret', 'cap'];

describe('per-group tables handed over by budget', () => {
  it('merge into the one-thread table, group by group, to the last bit', () => {
    const random = seededRandom(42);
    const rows: string[] = [];
    for (let r = 0; r < 6000; r++) {
      const ticker = `K${Math.floor(random() * 2500)}`;
      rows.push(`${ticker},${(100 * random()).toFixed(2)},${random() < 0.1 ? '' : ((random() - 0.5) / 10).toFixed(6)},${Math.floor(random() * 5e9)}`);
    }
    const setup = {
      table: { format: 'csv' as const, delimiter: 44, columns: COLUMNS, features: [1, 2, 3], names: ['open', 'ret', 'cap'], na: [[''], [''], ['']], onError: 'stop' as const },
      job: { kind: 'statistics' as const, sketches: false, groups: { indexes: [0], names: ['ticker'] } },
    };
    // Two "threads" taking pieces of 200 rows in turn; the driver merges what comes back in input order.
    const threads = [pieceProcessor(setup), pieceProcessor(setup)];
    const driver = new GroupTable(3, true);
    let handedOver = 0;
    for (let p = 0; p * 200 < rows.length; p++) {
      const text = rows.slice(p * 200, (p + 1) * 200).join('\n') + '\n';
      const result = threads[p % 2].process({ id: p, source: 'in.csv', bytes: new Uint8Array(Buffer.from(text)), firstLine: 2 + p * 200 });
      expect(result.failure).toBeUndefined();
      if (result.groups) {
        handedOver++;
        driver.mergeParts(result.groups);
      }
    }
    for (const thread of threads) driver.mergeParts(thread.totals().groups as GroupParts);
    // Keys come back (2,500 among 6,000 rows), so some tables are kept: still, many were handed over.
    expect(handedOver).toBeGreaterThan(5);

    const alone = new GroupTable(3, true);
    rows.forEach((row, r) => {
      const [ticker, ...values] = row.split(',');
      alone.addRow(ticker, Float64Array.from(values, (v) => (v === '' ? NaN : Number(v))), 0, r);
    });
    // The same groups in the order of first appearance, with the same rows and statistics, to the last bit.
    const inOrder = (table: InstanceType<typeof GroupTable>) => {
      const entries = [...table.entries()];
      return [...table.inFirstSeenOrder()].map((g) => {
        const m = table.segmentOf(g);
        const c = table.firstColumnOf(g);
        return {
          key: entries[g].key,
          rows: entries[g].rows,
          columns: [0, 1, 2].map((j) => [m.count[c + j], m.missing[c + j], m.min[c + j], m.max[c + j], ...m.meanParts(c + j), m.m2Wide(c + j)]),
        };
      });
    };
    const want = inOrder(alone);
    expect(want.map((g) => g.key)).toEqual([...new Set(rows.map((row) => row.split(',')[0]))]);
    expect(inOrder(driver)).toEqual(want);
  });

  it('are kept while their groups come back (a panel), handed over when they do not (ever new keys)', () => {
    const panelBudget = new TableBudget();
    let panel = panelBudget.table(16, true);
    const keysBudget = new TableBudget();
    let keys = keysBudget.table(16, true);
    let handedOver = 0;
    const values = new Float64Array(16).fill(1);
    for (let piece = 0; piece < 40; piece++) {
      // 5,000 tickers, a third of them in each piece; and keys seen once.
      for (let t = piece % 3; t < 5000; t += 3) panel.addRow(`T${t}`, values, 0, rowPosition(piece, t));
      for (let k = 0; k < 2000; k++) keys.addRow(`k${piece}-${k}`, values, 0, rowPosition(piece, k));
      // The first times over budget, the panel's table is handed over (no ticker has come back yet); then they keep coming back.
      if (panelBudget.handOver(panel)) {
        handedOver++;
        panel = panelBudget.table(16, true);
      }
      expect(keysBudget.handOver(keys), `piece ${piece}`).toBe(true);
      keys = keysBudget.table(16, true);
    }
    expect(handedOver).toBeLessThanOrEqual(8);
    expect(panel.size).toBe(5000);
  });
});
