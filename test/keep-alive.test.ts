import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Defect 1 of the hardening issue: a read awaited at start-up while the source failed transiently ended the
// process silently (exit 13 under top-level await, exit 0 with no callback in CommonJS), because the only
// timers left (the retry delay, the fetch timeout) were unref'd. These run real Node processes.

const fixtures = join(import.meta.dirname, 'fixtures', 'keep-alive');
let bundleDir: string;

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[], env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { env: { ...process.env, ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  // Inside the project, so that the bundle resolves the AWS SDK (a peer dependency, left out of it).
  const cacheDir = join(import.meta.dirname, '..', 'node_modules', '.cache');
  mkdirSync(cacheDir, { recursive: true });
  bundleDir = mkdtempSync(join(cacheDir, 'secretcache-cjs-'));
  // The CommonJS build as users load it: one bundle, p-retry inside.
  await build({
    entryPoints: [join(import.meta.dirname, '..', 'src', 'index.ts')],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['@aws-sdk/*'],
    outfile: join(bundleDir, 'index.cjs'),
    logLevel: 'silent',
  });
}, 60_000);

afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));

describe('an awaited read keeps the process alive', () => {
  it.each([1, 2])(
    'an ESM program awaiting at top level gets the value after %i transient failures',
    async (failures) => {
      const outcome = await run(['--import', 'tsx', join(fixtures, 'top-level-await.ts')], {
        FAILURES: String(failures),
      });
      expect(outcome).toMatchObject({ code: 0, stdout: 'read 19 characters\n' });
    },
  );

  it.each([1, 2])('a CommonJS program has its .then called after %i transient failures', async (failures) => {
    const outcome = await run([join(fixtures, 'then-callback.cjs')], {
      FAILURES: String(failures),
      SECRETCACHE_CJS: join(bundleDir, 'index.cjs'),
    });
    expect(outcome).toMatchObject({ code: 0, stdout: 'read 19 characters\n' });
  });

  it('a CommonJS program has its .catch called when every attempt fails', async () => {
    const outcome = await run([join(fixtures, 'then-callback.cjs')], {
      FAILURES: '99',
      SECRETCACHE_CJS: join(bundleDir, 'index.cjs'),
    });
    expect(outcome).toMatchObject({ code: 0, stdout: 'failed with FETCH_FAILED\n' });
  });
});

describe('work nobody awaits does not keep the process alive', () => {
  it('a program exits when its only pending work is a background refresh that hangs', async () => {
    const outcome = await run(['--import', 'tsx', join(fixtures, 'background-hang.ts')], {});
    expect(outcome).toMatchObject({ code: 0, stdout: 'read 19 characters, 2 calls\n' });
  });
});

describe('live objects', () => {
  it('a program that keeps a live object open still exits once its own work is done', async () => {
    const outcome = await run(['--import', 'tsx', join(fixtures, 'live-idle.ts')], {});
    expect(outcome).toMatchObject({ code: 0, stdout: 'read 19 characters\n' });
  });

  it('a live object nobody holds stops refreshing once it is garbage-collected, even unclosed', async () => {
    const outcome = await run(['--expose-gc', '--import', 'tsx', join(fixtures, 'live-abandoned.ts')], {});
    expect(outcome.code).toBe(0);
    const counts = JSON.parse(outcome.stdout) as { kept: number; dropped: number; token: number };
    expect(counts.dropped).toBe(0);
    expect(counts.kept).toBeGreaterThanOrEqual(5); // about one refresh per 90 ms
    expect(counts.token).toBe(16);
  });
});
