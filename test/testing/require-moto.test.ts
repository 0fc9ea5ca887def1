/**
 * The test set-up without moto_server: the integration project's globalSetup fails once, before any test, with what
 * is missing and how to install it; the PATH look-up it uses finds only an executable `moto_server`.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MOTO_SERVER_MISSING, motoServerOnPath } from '../support/moto.js';
import requireMotoServer from '../support/require-moto.js';

const dirs: string[] = [];
function dirWith(file?: { name: string; mode: number }): string {
  const dir = mkdtempSync(join(tmpdir(), 'secretcache-path-'));
  dirs.push(dir);
  if (file !== undefined) {
    writeFileSync(join(dir, file.name), '#!/bin/sh\n');
    chmodSync(join(dir, file.name), file.mode);
  }
  return dir;
}

afterEach(() => {
  vi.unstubAllEnvs();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(process.platform === 'win32')('finding moto_server', () => {
  it('finds the first executable moto_server on the PATH, skipping one that cannot be run', () => {
    const notExecutable = dirWith({ name: 'moto_server', mode: 0o644 });
    const executable = dirWith({ name: 'moto_server', mode: 0o755 });

    expect(motoServerOnPath({ PATH: [dirWith(), notExecutable, executable].join(delimiter) })).toBe(
      join(executable, 'moto_server'),
    );
    expect(motoServerOnPath({ PATH: [dirWith(), notExecutable].join(delimiter) })).toBeUndefined();
    expect(motoServerOnPath({})).toBeUndefined();
  });

  it('fails the integration set-up with one error naming what is missing and the command that installs it', () => {
    vi.stubEnv('PATH', dirWith());

    const error = (() => {
      try {
        requireMotoServer();
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();

    expect(error?.message).toBe(MOTO_SERVER_MISSING);
    expect(error?.message).toContain('pip install "moto[server]"');
    expect(error?.stack).toBe(`Error: ${MOTO_SERVER_MISSING}`);
  });

  it('lets the integration set-up through when moto_server is on the PATH', () => {
    vi.stubEnv('PATH', dirWith({ name: 'moto_server', mode: 0o755 }));

    expect(() => requireMotoServer()).not.toThrow();
  });
});
