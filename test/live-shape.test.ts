import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// A defect found by the live benchmark: every live object after the first with the same keys fell back to
// dictionary-mode properties (4.2x slower reads), because they shared one prototype and V8 one map transition.
describe('live object shapes', () => {
  it('gives every live object fast properties, however many share its keys', async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [
          '--allow-natives-syntax',
          '--import',
          'tsx',
          join(import.meta.dirname, 'fixtures', 'live', 'shapes.ts'),
        ],
        { timeout: 20_000 },
        (error, out) => (error === null ? resolve(out) : reject(error)),
      );
    });
    expect(JSON.parse(stdout)).toEqual([true, true, true]);
  });
});
