/**
 * `npm run demo` on a machine without moto_server: the same demo against memorySource, saying so on its first line,
 * and finishing cleanly.
 */
import { execFile } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { motoServerOnPath } from '../support/moto.js';

const root = join(import.meta.dirname, '..', '..');

/** The PATH without every directory that holds a moto_server. */
function pathWithoutMoto(): string {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => motoServerOnPath({ PATH: dir }) === undefined)
    .join(delimiter);
}

describe('the demo without moto_server', () => {
  it('runs against memorySource, says so first, and prints no value', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], {
      cwd: root,
      env: { ...process.env, PATH: pathWithoutMoto() },
      timeout: 30_000,
    });
    const lines = stdout.split('\n');

    expect(lines[0]).toBe(
      "moto_server not found on PATH: running against secretcache/testing's memorySource " +
        '(pip install "moto[server]" for a local Secrets Manager)',
    );
    expect(stdout).toContain('is the new key: true');
    expect(stdout).toContain('code=NOT_FOUND');
    expect(stdout).not.toMatch(/sk_live_/);
    expect(lines.at(-2)).toMatch(/^Done in [\d.]+ ms\. No secret value was printed\.$/);
  });
});
