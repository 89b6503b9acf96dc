// The option tables: combinations refused from what the tables declare, and
// declarations that name only options their command has.

import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { loadCommands } from '../src/cli.js';
import { type OptionSpec, checkCombinations } from '../src/options.js';

const flag = (flags: string, more: Partial<OptionSpec> = {}): OptionSpec => ({ flags, description: '', group: 'Input', schema: z.unknown(), ...more });

describe('checkCombinations', () => {
  const table: Record<string, OptionSpec> = {
    json: flag('--json', { conflicts: { csv: 'choose one output format' } }),
    csv: flag('--csv'),
    policy: flag('--policy <p>'),
    strict: flag('--strict', { needs: { anyOf: ['policy'], values: ['skip', 'null'] } }),
    minPeriods: flag('--min-periods <n>', { needs: { anyOf: ['window', 'expanding'], why: 'it counts rows of a window' } }),
    window: flag('-w, --window <n>'),
    expanding: flag('--expanding'),
  };
  const check = (given: string[], raw: Record<string, unknown> = {}) => () => checkCombinations(table, new Set(given), raw);

  it('refuses two options one of them declares a conflict with, whichever was given first', () => {
    expect(check(['csv', 'json'])).toThrow('--json and --csv cannot be used together: choose one output format');
    expect(check(['json'])).not.toThrow();
  });

  it('refuses an option without what it needs, naming the alternatives and the values', () => {
    expect(check(['minPeriods'])).toThrow('--min-periods needs --window or --expanding: it counts rows of a window');
    expect(check(['minPeriods', 'expanding'])).not.toThrow();
    expect(check(['strict'])).toThrow('--strict needs --policy skip or null');
    expect(check(['strict', 'policy'], { policy: 'stop' })).toThrow('--strict needs --policy skip or null');
    expect(check(['strict', 'policy'], { policy: 'null' })).not.toThrow();
  });
});

describe("the commands' option tables", () => {
  it('declare conflicts and needs only with options of the same command', async () => {
    for (const command of await loadCommands()) {
      for (const [key, spec] of Object.entries(command.options)) {
        const named = [...Object.keys(spec.conflicts ?? {}), ...(spec.needs?.anyOf ?? [])];
        for (const other of named) expect(command.options[other], `${command.name} --${key} names ${other}`).toBeDefined();
      }
    }
  });
});
