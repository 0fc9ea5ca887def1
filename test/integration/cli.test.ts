/**
 * The `secretcache` command as a user runs it: a child process (from source, through tsx) whose AWS SDK client
 * finds moto_server through `AWS_ENDPOINT_URL`, with dummy credentials. The commands it runs report whether a
 * variable holds the expected value by comparing hashes; no value is ever printed, except by `get`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoFragment } from '../support/leaks.js';
import { createJsonSecret, createStringSecret, type MotoServer, startMotoServer } from '../support/moto.js';

const root = join(import.meta.dirname, '..', '..');
const CLI = join(root, 'src', 'cli.ts');
const runId = randomUUID().slice(0, 8);
const DB_NAME = `cli-${runId}/db`;
const KEY_NAME = `cli-${runId}/api-key`;
const DB = { username: 'orders', password: `pw-${randomUUID()}`, port: 5432 };
const API_KEY = `sk-${randomUUID()}`;

let moto: MotoServer;
let client: SecretsManagerClient;
let dbArn: string;

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/** A Node program for `exec` to run: for each of `CHECK`'s variables, whether it matches `<name>_SHA256`. */
const CHECKER = `
  const { createHash } = require('node:crypto');
  for (const name of process.env.CHECK.split(',')) {
    const actual = createHash('sha256').update(process.env[name] ?? '').digest('hex');
    console.log(name + (actual === process.env[name + '_SHA256'] ? ' matches' : ' differs'));
  }
`;

/** Starts the command with only the variables given, plus what Node and the SDK need to reach moto. */
function start(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_NO_WARNINGS: '1',
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function outcome(child: ChildProcess): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const run = (args: readonly string[], env?: Record<string, string>): Promise<Outcome> =>
  outcome(start(args, env));

/** `exec` running the checker over `variables` (references), each expected to resolve to `expected[name]`. */
function check(variables: Record<string, string>, expected: Record<string, string>): Promise<Outcome> {
  const hashes = Object.fromEntries(
    Object.entries(expected).map(([name, value]) => [`${name}_SHA256`, sha256(value)]),
  );
  return run(['exec', '--', process.execPath, '-e', CHECKER], {
    ...variables,
    ...hashes,
    CHECK: Object.keys(expected).join(','),
  });
}

function expectNoValue(out: Outcome): void {
  for (const value of [DB.password, API_KEY]) expectNoFragment(`${out.stdout}\n${out.stderr}`, value, 8);
}

beforeAll(async () => {
  moto = await startMotoServer();
  client = moto.client();
  dbArn = (await createJsonSecret(client, DB_NAME, DB)).ARN!;
  await createStringSecret(client, KEY_NAME, API_KEY);
});

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

describe('secretcache exec', () => {
  it('runs the command with every reference in its environment resolved, and the other variables as they were', async () => {
    const out = await check(
      {
        DB_PASSWORD: `secretsmanager:${dbArn}:password::`,
        DB_USER: `{{resolve:secretsmanager:${DB_NAME}:SecretString:username}}`,
        DB_PORT: `secretsmanager:${DB_NAME}:port:AWSCURRENT`,
        API_KEY: `secretsmanager:${KEY_NAME}`,
        NODE_ENV: 'production',
      },
      { DB_PASSWORD: DB.password, DB_USER: DB.username, DB_PORT: '5432', API_KEY, NODE_ENV: 'production' },
    );

    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout).toBe(
      'DB_PASSWORD matches\nDB_USER matches\nDB_PORT matches\nAPI_KEY matches\nNODE_ENV matches\n',
    );
    expectNoValue(out);
  });

  it('a checker sees a wrong value as one (the test can fail)', async () => {
    const out = await check({ API_KEY: `secretsmanager:${KEY_NAME}` }, { API_KEY: 'something else' });

    expect(out.stdout).toBe('API_KEY differs\n');
  });

  it.each([0, 1, 7, 255])('passes the exit code %i on', async (code) => {
    const out = await run(['exec', '--', process.execPath, '-e', `process.exit(${code})`], {
      API_KEY: `secretsmanager:${KEY_NAME}`,
    });

    expect(out.code).toBe(code);
  });

  it.each<[NodeJS.Signals, number]>([
    ['SIGTERM', 143],
    ['SIGKILL', 137],
  ])('exits with 128 + n when %s killed the command', async (signal, code) => {
    const out = await run(['exec', '--', process.execPath, '-e', `process.kill(process.pid, '${signal}')`]);

    expect(out.code).toBe(code);
  });

  it.each<[NodeJS.Signals, number]>([
    ['SIGTERM', 42],
    ['SIGINT', 43],
    ['SIGHUP', 44],
  ])('forwards %s to the command, and passes on how it ended', async (signal, code) => {
    const program = `
      process.on('${signal}', () => { console.log('got ${signal}'); process.exit(${code}); });
      console.log('ready');
      setInterval(() => {}, 1000);
    `;
    const child = start(['exec', '--', process.execPath, '-e', program], {
      API_KEY: `secretsmanager:${KEY_NAME}`,
    });
    const result = outcome(child);
    await new Promise<void>((resolve) => {
      child.stdout?.on('data', (chunk: string) => {
        if (chunk.includes('ready')) resolve();
      });
    });

    child.kill(signal);
    const out = await result;

    expect(out).toMatchObject({ code, stdout: `ready\ngot ${signal}\n` });
  });

  it('fails with 125 before the command starts when a secret is missing, naming the variable and the code', async () => {
    const out = await run(['exec', '--', process.execPath, '-e', "console.log('started')"], {
      API_KEY: `secretsmanager:${KEY_NAME}`,
      DB_PASSWORD: `secretsmanager:${DB_NAME}:password`,
      GONE: `secretsmanager:cli-${runId}/gone`,
      NO_FIELD: `{{resolve:secretsmanager:${DB_NAME}:SecretString:pasword}}`,
    });

    expect(out.code).toBe(125);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain('Loading 2 of 4 secrets failed');
    expect(out.stderr).toContain(`GONE (cli-${runId}/gone): NOT_FOUND`);
    expect(out.stderr).toContain(`NO_FIELD (${DB_NAME}): MISSING_KEY`);
    expectNoValue(out);
  });

  it('fails with 125 for a malformed reference, showing the form expected', async () => {
    const out = await run(['exec', '--', process.execPath, '-e', "console.log('started')"], {
      BAD: `secretsmanager:${dbArn}:password`,
    });

    expect(out.code).toBe(125);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain('BAD: Secret reference');
    expect(out.stderr).toContain('expected 2 or 5');
  });

  it.each<[string, string[], number]>([
    ['a command that does not exist', ['exec', '--', `no-such-command-${runId}`], 127],
    ['a file that cannot be run', ['exec', '--', join(root, 'package.json')], 126],
    ['no command', ['exec', '--'], 125],
    ['an option exec does not take', ['exec', '--verbose', 'true'], 125],
  ])('exits with %s: %j gives %i', async (_, args, code) => {
    const out = await run(args);

    expect(out.code).toBe(code);
    expect(out.stderr).toMatch(/^secretcache: /);
  });
});

describe('secretcache get', () => {
  // The ARN is known once moto made the secret: the table holds functions.
  it.each<[string, () => string, string]>([
    ['a name and a JSON key', () => `${DB_NAME}:password`, DB.password],
    ['an ECS ARN', () => `${dbArn}:username::`, DB.username],
    ['a dynamic reference', () => `{{resolve:secretsmanager:${KEY_NAME}}}`, API_KEY],
    ['what a variable holds', () => `secretsmanager:${DB_NAME}:port`, '5432'],
  ])('prints the value of %s, then a newline', async (_, ref, value) => {
    const out = await run(['get', ref()]);

    expect(out).toEqual({ code: 0, signal: null, stdout: `${value}\n`, stderr: '' });
  });

  it('prints no newline with -n', async () => {
    const out = await run(['get', '-n', KEY_NAME]);

    expect(out.stdout).toBe(API_KEY);
  });

  it('exits with 1 for a missing secret, printing nothing but the error', async () => {
    const out = await run(['get', `cli-${runId}/gone`]);

    expect(out).toMatchObject({ code: 1, stdout: '' });
    expect(out.stderr).toBe(
      `secretcache: Secret "cli-${runId}/gone" was not found (or has no such version) (ResourceNotFoundException).\n`,
    );
  });

  it('exits with 1 for a missing JSON key, without the value', async () => {
    const out = await run(['get', `${DB_NAME}:pasword`]);

    expect(out).toMatchObject({ code: 1, stdout: '' });
    expect(out.stderr).toContain(`Secret "${DB_NAME}" has no top-level field "pasword".`);
    expectNoValue(out);
  });

  it.each([[['get']], [['get', 'a', 'b']], [['get', '--json', 'a']], [[]], [['fetch', 'a']]])(
    'exits with 2 for a usage error: %j',
    async (args) => {
      const out = await run(args);

      expect(out.code).toBe(2);
      expect(out.stdout).toBe('');
    },
  );

  it('prints its usage, exit codes included, with help', async () => {
    const out = await run(['help']);

    expect(out.code).toBe(0);
    expect(out.stdout).toContain('secretcache exec [--] <command> [args...]');
    expect(out.stdout).toContain('125');
  });
});
