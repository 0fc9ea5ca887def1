/**
 * Test harness: a throwaway PostgreSQL server on 127.0.0.1 with a free port, initialised in a temporary folder
 * and removed with it. Password authentication (SCRAM) is enforced for every connection, so a wrong password is
 * a real `28P01`. Only `initdb` and `postgres` are needed: on PATH, or under `/usr/lib/postgresql/N/bin` (where
 * Debian's package puts them).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  chownSync,
  constants,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { delay, findFreePort, hasExited, watchChild } from './moto.js';

const HOST = '127.0.0.1';
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_BYTES = 4_096;
const POLL_INTERVAL_MS = 50;
/** Attempts when another process takes the free port between `findFreePort` and the server's bind. */
const PORT_ATTEMPTS = 3;

export interface PostgresOptions {
  /**
   * How long `initdb` plus the server's start may take.
   * @default 60_000
   */
  readonly startupTimeoutMs?: number;
  /**
   * The server's `max_connections`: load tests open many at once.
   * @default 200
   */
  readonly maxConnections?: number;
  /**
   * Further server settings, each passed as `-c name=value`.
   * @default {}
   */
  readonly settings?: Readonly<Record<string, string>>;
}

export interface PostgresServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The postmaster's pid. */
  readonly pid: number;
  /** The superuser `initdb` created, with its random password. */
  readonly superuser: { readonly username: string; readonly password: string };
  /** SIGINT (fast shutdown), then SIGKILL after a grace period; resolves once the process has exited and the
   * temporary folder is removed. Idempotent. */
  stop(): Promise<void>;
  /**
   * Connection settings for a `pg.Client` or `pg.Pool` to the `postgres` database: as the superuser by default,
   * or as `user` with `password` (no password when only `user` is given).
   */
  connectionConfig(user?: string, password?: string): pg.ClientConfig;
}

/** Servers not stopped yet: killed when the test process exits, so none outlives it. */
const running = new Set<{ readonly child: ChildProcess; readonly dir: string }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const { child, dir } of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
      removeSharedMemory(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/**
 * A killed postmaster leaves its small System V segment behind (a fast shutdown removes it). Its id is on the
 * seventh line of `postmaster.pid`: `key shmid`.
 */
function removeSharedMemory(dir: string): void {
  try {
    const shmid = readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8')
      .split('\n')[6]
      ?.trim()
      .split(/\s+/)[1];
    if (shmid !== undefined && /^\d+$/.test(shmid)) execFileSync('ipcrm', ['-m', shmid], { stdio: 'ignore' });
  } catch {
    // no pid file, no segment, or no ipcrm: nothing more to do on the way out
  }
}

/** The folder holding `initdb` and `postgres`: the first on PATH that has both, else the newest Debian one. */
export function findPostgresBinaries(): string {
  const isExecutable = (path: string): boolean => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const hasBoth = (dir: string) => isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'postgres'));
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && hasBoth(dir)) return dir;
  }
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((name) => /^\d+(\.\d+)?$/.test(name));
  } catch {
    // no Debian package
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const dir = join(root, version, 'bin');
    if (hasBoth(dir)) return dir;
  }
  throw new Error(
    'PostgreSQL is not installed: neither `initdb` and `postgres` on PATH nor /usr/lib/postgresql/*/bin. ' +
      'On Debian or Ubuntu: apt-get install postgresql',
  );
}

/** initdb and postgres refuse to run as root: as root, run them as the `postgres` system user. */
function serverAccount(): { readonly uid: number; readonly gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    if (Number.isInteger(uid) && uid > 0 && Number.isInteger(gid)) return { uid, gid };
  } catch {
    // no such user; reported below
  }
  throw new Error(
    'Running as root, and PostgreSQL refuses to: the test server needs a `postgres` system user to run as ' +
      "(Debian's postgresql package creates it; or: useradd --system postgres).",
  );
}

/** Runs `initdb` to completion; rejects with its output when it fails. */
function initdb(
  binaries: string,
  args: readonly string[],
  account: { uid: number; gid: number } | undefined,
  cwd: string,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(binaries, 'initdb'), args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      ...(account ?? {}),
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(new Error(`initdb failed (code ${code}, signal ${signal})\n--- initdb output ---\n${output}`));
    });
  });
}

/**
 * Starts a new PostgreSQL server and waits until it accepts the superuser's connections.
 *
 * @example
 * ```ts
 * const server = await startPostgres();
 * const client = new pg.Client(server.connectionConfig());
 * ```
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const { startupTimeoutMs = 60_000, maxConnections = 200, settings = {} } = options;
  const deadline = Date.now() + startupTimeoutMs;
  const binaries = findPostgresBinaries();
  const account = serverAccount();

  const dir = mkdtempSync(join(tmpdir(), 'secretcache-pg-'));
  try {
    const data = join(dir, 'data');
    const passwordFile = join(dir, 'superuser-password');
    const superuser = { username: 'postgres', password: randomBytes(18).toString('base64url') };
    writeFileSync(passwordFile, `${superuser.password}\n`, { mode: 0o600 });
    if (account !== undefined) {
      chownSync(dir, account.uid, account.gid);
      chownSync(passwordFile, account.uid, account.gid);
    }
    await initdb(
      binaries,
      [
        '-D',
        data,
        '--auth=scram-sha-256',
        `--username=${superuser.username}`,
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--locale=C',
        // A throwaway cluster: nothing to make durable.
        '--no-sync',
      ],
      account,
      dir,
      Math.max(1, deadline - Date.now()),
    );
    rmSync(passwordFile);

    for (let attempt = 1; ; attempt++) {
      const port = await findFreePort();
      try {
        return await startServer({
          binaries,
          account,
          dir,
          data,
          port,
          superuser,
          maxConnections,
          settings,
          deadline,
        });
      } catch (error) {
        if (!(error instanceof PortTakenError) || attempt >= PORT_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

class PortTakenError extends Error {}

interface ServerPlan {
  readonly binaries: string;
  readonly account: { uid: number; gid: number } | undefined;
  readonly dir: string;
  readonly data: string;
  readonly port: number;
  readonly superuser: { readonly username: string; readonly password: string };
  readonly maxConnections: number;
  readonly settings: Readonly<Record<string, string>>;
  readonly deadline: number;
}

async function startServer(plan: ServerPlan): Promise<PostgresServer> {
  const { dir, port, superuser } = plan;
  const settings: Record<string, string> = {
    listen_addresses: HOST,
    max_connections: String(plan.maxConnections),
    // Speed over durability: the cluster is deleted after the tests.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    ...plan.settings,
  };
  // Started directly (not through pg_ctl) so that the child's pid is the postmaster's.
  const args = ['-D', plan.data, '-p', String(port), '-k', dir];
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
  const child = spawn(join(plan.binaries, 'postgres'), args, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(plan.account ?? {}),
  });
  const watched = watchChild(child);
  const { exited } = watched;
  const entry = { child, dir };
  running.add(entry);
  installExitHook();

  const kill = async (): Promise<void> => {
    if (child.pid !== undefined && !hasExited(child)) {
      child.kill('SIGINT');
      const stopped = await Promise.race([exited.then(() => true), delay(STOP_GRACE_MS).then(() => false)]);
      if (!stopped && !hasExited(child)) child.kill('SIGKILL');
      await exited;
    }
    child.stdout?.destroy();
    child.stderr?.destroy();
    running.delete(entry);
  };

  const connectionConfig = (user?: string, password?: string): pg.ClientConfig => ({
    host: HOST,
    port,
    database: 'postgres',
    user: user ?? superuser.username,
    ...(user === undefined ? { password: superuser.password } : password === undefined ? {} : { password }),
  });

  const failure = (why: string): Error => {
    const stderrTail = watched.stderrTail();
    return new Error(
      `PostgreSQL on ${HOST}:${port} ${why}` +
        (stderrTail === '' ? ' (no stderr output)' : `\n--- postgres stderr (tail) ---\n${stderrTail}`),
    );
  };

  let lastError: unknown;
  for (;;) {
    const spawnError = watched.spawnError();
    if (child.pid === undefined || spawnError !== undefined) {
      await kill();
      throw failure(`could not be spawned: ${spawnError?.message ?? 'no pid'}`);
    }
    if (hasExited(child)) {
      await kill();
      const stderrTail = watched.stderrTail();
      if (/could not bind|Address already in use/i.test(stderrTail)) throw new PortTakenError(stderrTail);
      throw failure(
        `exited before accepting connections (code ${child.exitCode}, signal ${child.signalCode})`,
      );
    }
    const client = new pg.Client({ ...connectionConfig(), connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (error) {
      lastError = error;
      await client.end().catch(() => {});
    }
    if (Date.now() >= plan.deadline) {
      await kill();
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      throw failure(`did not accept connections in time (last error: ${reason})`);
    }
    await delay(POLL_INTERVAL_MS);
  }

  const pid = child.pid;
  if (pid === undefined) throw failure('has no pid');
  let stopping: Promise<void> | undefined;
  return {
    host: HOST,
    port,
    pid,
    superuser,
    connectionConfig,
    stop() {
      stopping ??= kill().then(() => rmSync(dir, { recursive: true, force: true }));
      return stopping;
    },
  };
}
