/**
 * secretcache/testing needs no AWS SDK: a project that reads through another transport (secretcache/http) and has
 * no @aws-sdk package installed can test with memorySource. A real process with every @aws-sdk/* import made to
 * fail as a missing package does.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const hooks = join(import.meta.dirname, '..', 'fixtures', 'sdk', 'sdk-hooks.mjs');
const script = join(import.meta.dirname, 'fixtures', 'without-sdk.ts');

const run = (env: Record<string, string>) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', '--import', hooks, script], {
    env: { ...process.env, ...env },
    timeout: 30_000,
  });

describe('memorySource without the AWS SDK', () => {
  it('reads, rotates and fails by injection when no @aws-sdk package can be found', async () => {
    const { stdout } = await run({ HIDE_AWS_SDK: '1' });

    expect(JSON.parse(stdout)).toEqual({ first: 'pw-1', second: ['pw-2', 'v2'], denied: 'ACCESS_DENIED' });
  });

  it('does not even look for one when it is installed', async () => {
    const { stderr } = await run({});

    expect(stderr).toContain('sdk-resolved: 0');
  });
});
