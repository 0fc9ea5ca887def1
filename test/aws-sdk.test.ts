import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadSdk, type SecretsManagerSdk, sdkImport } from '../src/aws-sdk.js';
import { SecretCache } from '../src/cache.js';
import { isSecretCacheError, PERMANENT_CODES } from '../src/errors.js';

const fixtures = join(import.meta.dirname, 'fixtures', 'sdk');

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(script: string, env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--import', join(fixtures, 'sdk-hooks.mjs'), join(fixtures, script)],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function notFound(): Error {
  return Object.assign(
    new Error("Cannot find package '@aws-sdk/client-secrets-manager' imported from /app/index.js"),
    { code: 'ERR_MODULE_NOT_FOUND' },
  );
}

const original = sdkImport.load;
afterEach(() => {
  sdkImport.load = original;
  sdkImport.forget();
});

describe('the AWS SDK is loaded lazily', () => {
  it('importing secretcache resolves no @aws-sdk module', async () => {
    const outcome = await run('read-secret.ts', {});

    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toContain('sdk-resolved: 0');
  });

  it('without the SDK installed, the first read through the AWS source fails with MISSING_DEPENDENCY naming it', async () => {
    const outcome = await run('read-secret.ts', { HIDE_AWS_SDK: '1', READ: '1' });

    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as { code: string; message: string };
    expect(result.code).toBe('MISSING_DEPENDENCY');
    expect(result.message).toContain('npm install @aws-sdk/client-secrets-manager');
    expect(result.message).toContain('missing-dependency-test');
  });

  it('reports a missing SDK as a permanent error: one attempt, no retry, backed off', async () => {
    const load = vi.fn(() => Promise.reject(notFound()));
    sdkImport.load = load;
    const cache = new SecretCache({ retry: { retries: 3, minTimeoutMs: 0, maxTimeoutMs: 0 } });

    const first = await cache.getSecretString('prod/db').catch((error: unknown) => error);
    const second = await cache.getSecretString('prod/db').catch((error: unknown) => error);

    expect(isSecretCacheError(first) && first.code).toBe('MISSING_DEPENDENCY');
    expect(PERMANENT_CODES.has('MISSING_DEPENDENCY')).toBe(true);
    expect(second).toBe(first); // within the backoff: the same error, no second attempt
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('reports an SDK that fails to load for another reason as MISSING_DEPENDENCY, without its message', async () => {
    sdkImport.load = () => Promise.reject(new SyntaxError('Unexpected token in /node_modules/@aws-sdk/x.js'));

    const error = await loadSdk('prod/db').catch((thrown: unknown) => thrown);

    expect(error).toMatchObject({ code: 'MISSING_DEPENDENCY', secretId: 'prod/db' });
    expect((error as Error).message).toContain('failed to load (SyntaxError)');
    expect((error as Error).message).not.toContain('Unexpected token');
  });

  it('shares one import between concurrent callers, and tries again after a failed one', async () => {
    let release!: (sdk: SecretsManagerSdk) => void;
    const load = vi
      .fn<() => Promise<SecretsManagerSdk>>()
      .mockImplementationOnce(() => Promise.reject(notFound()))
      .mockImplementationOnce(
        () =>
          new Promise<SecretsManagerSdk>((resolve) => {
            release = resolve;
          }),
      );
    sdkImport.load = load;

    await expect(loadSdk('a')).rejects.toMatchObject({ code: 'MISSING_DEPENDENCY' });
    const both = Promise.all([loadSdk('a'), loadSdk('b')]);
    const sdk = {} as SecretsManagerSdk;
    release(sdk);

    expect(await both).toEqual([sdk, sdk]);
    expect(load).toHaveBeenCalledTimes(2);
  });
});

describe('an older AWS SDK', () => {
  it('without BatchGetSecretValue, a load falls back to one GetSecretValue per secret', async () => {
    const real = await original();
    const sent: string[] = [];
    class Client {
      send(command: { input: { SecretId: string } }) {
        sent.push(command.input.SecretId);
        return Promise.resolve({
          Name: command.input.SecretId,
          VersionId: 'v1',
          VersionStages: ['AWSCURRENT'],
          SecretString: `value-of-${command.input.SecretId}`,
        });
      }
    }
    sdkImport.load = () =>
      Promise.resolve({
        SecretsManagerClient: Client,
        GetSecretValueCommand: real.GetSecretValueCommand,
      } as unknown as SecretsManagerSdk);
    const { secret } = await import('../src/manifest.js');
    const cache = new SecretCache();

    const loaded = await cache.load({ a: secret.string('a'), b: secret.string('b') });

    expect({ ...loaded }).toEqual({ a: 'value-of-a', b: 'value-of-b' });
    expect(sent.sort()).toEqual(['a', 'b']);
  });
});
