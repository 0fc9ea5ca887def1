/**
 * Rotation under load: a small HTTP service queries a real PostgreSQL through `createPool` from many concurrent
 * clients while the rotation handler rotates the service's database secret in moto_server, step by step, several
 * times. Shared by the integration test (which asserts) and `npm run example:rotation` (which prints).
 * Everything listens on 127.0.0.1; nothing prints a secret's value.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import {
  CreateSecretCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { SecretCache } from '../../src/cache.js';
import { createPool } from '../../src/pg/pool.js';
import type { RotationStep } from '../../src/rotation/contract.js';
import { rotationHandler } from '../../src/rotation/handler.js';
import { postgresTarget } from '../../src/rotation/postgres-target.js';
import { type MotoServer, stagePendingPlaceholder } from './moto.js';
import type { PostgresServer } from './postgres.js';

export type Strategy = 'single-user' | 'alternating-users';

export interface LoadRunOptions {
  readonly strategy: Strategy;
  /** Concurrent HTTP clients, each sending one request after another. */
  readonly clients: number;
  readonly rotations: number;
  /** The cache's TTL: long, so that only the pool's 28P01 handling follows a rotation; or short. */
  readonly ttlMs: number;
  /** The pause after each rotation step, so that load runs through every window of the protocol. */
  readonly stepPauseMs: number;
  /** The pool's size. */
  readonly maxConnections: number;
}

export interface LoadRunReport {
  readonly strategy: Strategy;
  readonly ttlMs: number;
  readonly clients: number;
  readonly rotations: number;
  readonly queries: number;
  readonly failed: number;
  /** The first few failures, by status and error code (never a value). */
  readonly failures: readonly string[];
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** New connections the pool opened (each one a login). */
  readonly logins: number;
  /** Logins PostgreSQL rejected with 28P01 (each retried once by the pool). */
  readonly rejectedLogins: number;
  /** The cache's calls to Secrets Manager, by operation. */
  readonly cacheCalls: Readonly<Record<string, number>>;
  /** Per rotation: from finishSecret's return to the next new connection that logged in. */
  readonly recoveryMs: readonly number[];
  /** Per rotation: which user new connections logged in as, last. */
  readonly usersAfter: readonly string[];
  readonly durationMs: number;
}

const STEPS: readonly RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
let runs = 0;

/** Runs one rotation-under-load scenario against the given servers; every resource it makes it also removes. */
export async function runRotationUnderLoad(
  servers: { readonly moto: MotoServer; readonly postgres: PostgresServer },
  options: LoadRunOptions,
): Promise<LoadRunReport> {
  const run = ++runs;
  const { moto, postgres } = servers;
  const role = `orders_app_${process.pid}_${run}`;
  const table = `orders_${process.pid}_${run}`;
  const secretId = `load/${run}/db`;
  const superuserSecretId = `load/${run}/superuser`;
  const admin = new pg.Client(postgres.connectionConfig());
  await admin.connect();
  const rotateClient = moto.client();
  const cacheClient = moto.client();
  const cacheCalls: Record<string, number> = {};
  countCalls(cacheClient, cacheCalls);
  let server: Server | undefined;
  let pool: ReturnType<typeof createPool> | undefined;
  try {
    const password = randomBytes(18).toString('base64url');
    await admin.query(
      `CREATE ROLE ${pg.escapeIdentifier(role)} WITH LOGIN PASSWORD ${pg.escapeLiteral(password)}`,
    );
    await admin.query(`CREATE TABLE ${pg.escapeIdentifier(table)} (id int primary key)`);
    await admin.query(`INSERT INTO ${pg.escapeIdentifier(table)} SELECT generate_series(1, 100)`);
    await admin.query(`GRANT SELECT ON ${pg.escapeIdentifier(table)} TO ${pg.escapeIdentifier(role)}`);
    const where = { engine: 'postgres', host: postgres.host, port: postgres.port, dbname: 'postgres' };
    await rotateClient.send(
      new CreateSecretCommand({
        Name: secretId,
        SecretString: JSON.stringify({ ...where, username: role, password }),
      }),
    );
    await rotateClient.send(
      new CreateSecretCommand({
        Name: superuserSecretId,
        SecretString: JSON.stringify({
          ...where,
          username: postgres.superuser.username,
          password: postgres.superuser.password,
        }),
      }),
    );
    // moto: RotationRules with RotateImmediately false and no Lambda enables rotation.
    await rotateClient.send(
      new RotateSecretCommand({
        SecretId: secretId,
        RotationRules: { AutomaticallyAfterDays: 30 },
        RotateImmediately: false,
      }),
    );

    const cache = new SecretCache({ client: cacheClient, ttlMs: options.ttlMs });
    let rejectedLogins = 0;
    const logins: { at: number; user: string }[] = [];
    // pg's Client, counting the logins PostgreSQL rejects with 28P01 (the pool retries each once).
    class CountingClient extends pg.Client {}
    const connect = pg.Client.prototype.connect as (
      this: pg.Client,
      callback: (error?: Error) => void,
    ) => void;
    (CountingClient.prototype as { connect: unknown }).connect = function (
      this: pg.Client,
      callback: (error?: Error) => void,
    ) {
      connect.call(this, (error) => {
        if ((error as { code?: unknown } | undefined)?.code === '28P01') rejectedLogins++;
        callback(error);
      });
    };
    pool = createPool({
      cache,
      secretId,
      pool: {
        max: options.maxConnections,
        // Connections are short-lived on purpose: every second or so the pool logs in anew, so logins run
        // through every window of each rotation.
        maxUses: 20,
        idleTimeoutMillis: 200,
        Client: CountingClient as never,
      },
    });
    pool.on('connect', (client: pg.PoolClient & { user?: string }) => {
      logins.push({ at: performance.now(), user: client.user ?? '' });
    });
    pool.on('error', () => {
      // An idle client's error: pg already dropped the client; the next query opens another.
    });
    const service = pool;
    server = createServer((req, res) => {
      service.query<{ n: number }>(`select count(*)::int as n from ${pg.escapeIdentifier(table)}`).then(
        ({ rows }) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ n: rows[0]?.n }));
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(errorCode(error));
        },
      );
      req.resume();
    });
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const latencies: number[] = [];
    const failures: string[] = [];
    let failed = 0;
    let running = true;
    const agent = new Agent({ keepAlive: true, maxSockets: options.clients });
    const client = async () => {
      while (running) {
        const started = performance.now();
        const { status, body } = await get(agent, port);
        latencies.push(performance.now() - started);
        if (status !== 200 || body !== '{"n":100}') {
          failed++;
          if (failures.length < 10) failures.push(`${status} ${body.slice(0, 40)}`);
        }
      }
    };

    const started = performance.now();
    const load = Promise.all(Array.from({ length: options.clients }, client));
    const handler = rotationHandler(postgresTarget({ strategy: options.strategy, superuserSecretId }), {
      client: rotateClient,
      log: false,
    });
    const recoveryMs: number[] = [];
    const usersAfter: string[] = [];
    try {
      await delay(options.stepPauseMs);
      for (let rotation = 0; rotation < options.rotations; rotation++) {
        const token = randomUUID();
        await stagePendingPlaceholder(rotateClient, secretId, token);
        let finishedAt = 0;
        for (const step of STEPS) {
          await handler({ Step: step, SecretId: secretId, ClientRequestToken: token });
          if (step === 'finishSecret') finishedAt = performance.now();
          await delay(options.stepPauseMs);
        }
        const next = logins.find(({ at }) => at >= finishedAt);
        recoveryMs.push(next === undefined ? Number.POSITIVE_INFINITY : next.at - finishedAt);
        usersAfter.push(logins.at(-1)?.user === role ? 'name' : 'name_clone');
      }
    } finally {
      running = false;
      await load;
      agent.destroy();
    }
    const durationMs = performance.now() - started;
    latencies.sort((a, b) => a - b);
    return {
      strategy: options.strategy,
      ttlMs: options.ttlMs,
      clients: options.clients,
      rotations: options.rotations,
      queries: latencies.length,
      failed,
      failures,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      maxMs: latencies.at(-1) ?? 0,
      logins: logins.length,
      rejectedLogins,
      cacheCalls: { ...cacheCalls },
      recoveryMs,
      usersAfter,
      durationMs,
    };
  } finally {
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    await pool?.end();
    await admin.end();
    rotateClient.destroy();
    cacheClient.destroy();
  }
}

function countCalls(client: SecretsManagerClient, counts: Record<string, number>): void {
  client.middlewareStack.add(
    (next, context) => (args) => {
      const operation = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      counts[operation] = (counts[operation] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
}

function get(agent: Agent, port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/orders', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (error) => resolve({ status: 0, body: errorCode(error) }));
    });
    req.on('error', (error) => resolve({ status: 0, body: errorCode(error) }));
    req.end();
  });
}

/** An error's code or name only: a driver's message can quote a user name. */
function errorCode(error: unknown): string {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  return typeof code === 'string' ? code : typeof name === 'string' ? name : 'unknown';
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}
