import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MotoServer, startMotoServer } from '../support/moto.js';
import { type PostgresServer, startPostgres } from '../support/postgres.js';
import { type LoadRunReport, runRotationUnderLoad, type Strategy } from '../support/rotation-load.js';

// The whole path at once, with real parts: 20 HTTP clients query PostgreSQL through createPool while the
// rotation handler rotates the database secret in moto_server three times, step by step. Per strategy, and with
// a long TTL (the pool follows rotations by its 28P01 handling alone) and a short one (by refreshes too).
let moto: MotoServer;
let postgres: PostgresServer;

beforeAll(async () => {
  [moto, postgres] = await Promise.all([startMotoServer(), startPostgres()]);
});

afterAll(async () => {
  await Promise.all([moto?.stop(), postgres?.stop()]);
});

const ROTATIONS = 3;
const STEP_PAUSE_MS = 250;

/**
 * The bound on the cache's GetSecretValue calls: the first read; per rotation, at most one forced fetch of
 * AWSCURRENT and one of AWSPENDING a second for as long as the window lasts (four steps and their pauses, plus
 * a second for the protocol's own calls); and one refresh per TTL.
 */
function callBound(report: LoadRunReport): number {
  const windowSeconds = Math.ceil((4 * STEP_PAUSE_MS) / 1_000) + 1;
  const refreshes = Math.ceil(report.durationMs / report.ttlMs) + 1;
  return 1 + report.rotations * 2 * (windowSeconds + 1) + refreshes;
}

describe.each<[Strategy, number]>([
  ['alternating-users', 300_000],
  ['alternating-users', 1_000],
  ['single-user', 300_000],
  ['single-user', 1_000],
])('rotation under load: %s, TTL %i ms', (strategy, ttlMs) => {
  it('fails no query, stays within its AWS call bound, and logs new connections in right after finishSecret', async () => {
    const report = await runRotationUnderLoad(
      { moto, postgres },
      { strategy, clients: 20, rotations: ROTATIONS, ttlMs, stepPauseMs: STEP_PAUSE_MS, maxConnections: 10 },
    );
    console.info(JSON.stringify(report));

    expect(report.failures).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.queries).toBeGreaterThan(20 * ROTATIONS * 4);
    expect(report.cacheCalls.GetSecretValue ?? 0).toBeLessThanOrEqual(callBound(report));
    expect(report.recoveryMs).toHaveLength(ROTATIONS);
    for (const recovery of report.recoveryMs) expect(recovery).toBeLessThan(1_000);
  }, 120_000);
});
