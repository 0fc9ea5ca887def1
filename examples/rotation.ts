/**
 * Rotation under load, both strategies: a small HTTP service queries a real PostgreSQL through
 * `createPool` (`secretcache/pg`) from 20 concurrent clients, while `rotationHandler(postgresTarget(...))`
 * (`secretcache/rotation`) rotates the service's database secret in a real moto_server three times, step by
 * step. Prints, per strategy: queries, failed queries, p50/p99 latency, logins and rejected logins, the cache's
 * calls to Secrets Manager, and how soon after finishSecret a new connection logged in.
 *
 *   npm run example:rotation
 *
 * Never prints a secret's value. Needs `moto_server` (Python moto 5) and PostgreSQL's `initdb`/`postgres`
 * (Debian's `postgresql` package); talks to 127.0.0.1 only.
 */
import { startMotoServer } from '../test/support/moto.js';
import { startPostgres } from '../test/support/postgres.js';
import { type LoadRunReport, runRotationUnderLoad, type Strategy } from '../test/support/rotation-load.js';

const STRATEGIES: readonly Strategy[] = ['alternating-users', 'single-user'];

const [moto, postgres] = await Promise.all([startMotoServer(), startPostgres()]);
const reports: LoadRunReport[] = [];
try {
  for (const strategy of STRATEGIES) {
    // The default TTL (5 minutes): the pool follows each rotation through its 28P01 handling alone.
    reports.push(
      await runRotationUnderLoad(
        { moto, postgres },
        { strategy, clients: 20, rotations: 3, ttlMs: 300_000, stepPauseMs: 400, maxConnections: 10 },
      ),
    );
  }
} finally {
  await Promise.all([moto.stop(), postgres.stop()]);
}

const rows = reports.map((report) => ({
  strategy: report.strategy,
  queries: report.queries,
  failed: report.failed,
  'p50 ms': report.p50Ms.toFixed(1),
  'p99 ms': report.p99Ms.toFixed(1),
  logins: report.logins,
  '28P01 retried': report.rejectedLogins,
  'GetSecretValue calls': report.cacheCalls.GetSecretValue ?? 0,
  'new login after finish (max ms)': Math.max(...report.recoveryMs).toFixed(0),
}));
console.table(rows);
const failed = reports.reduce((sum, report) => sum + report.failed, 0);
if (failed > 0) {
  console.error(
    `rotation: ${failed} failed queries: ${reports.flatMap((report) => report.failures).join('; ')}`,
  );
  process.exitCode = 1;
}
