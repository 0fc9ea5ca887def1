/**
 * Scenario 6, cold start: what `secretcache` costs a process that has just started, measured as whole child
 * processes (`process.execPath` on small scripts generated into a temp dir) that load the BUILT package from
 * dist/ through its `exports` map, as an application does:
 *
 * 1. Import cost: the process time of a script that imports nothing, next to one that imports `secretcache`
 *    (ESM `import()`, CJS `require()`), and, for contrast, the AWS SDK's Secrets Manager client and Powertools'
 *    secrets module. The children check that no `@aws-sdk` module was loaded where none should be.
 * 2. Process start to first value: one secret read through the SDK source (against moto_server), the Lambda
 *    extension and Agent sources (against the local servers of test/support, run in this process, their caches
 *    primed) and Powertools' `getSecret` (against moto_server); and a floor, one bare `node:http` GET to the
 *    extension server with no secretcache, which shows how much of the extension row is Node's own.
 *    Each child also reports its CPU time, which other work on the machine disturbs less than the wall times.
 * 3. Bundled size of each entry point (esbuild, minified ESM, the peers external), next to the SDK's.
 *
 * Every child is run once with a module hook that counts resolved `@aws-sdk/` specifiers, and its answer checked
 * (exit code 0, the value's length, SDK modules loaded or not), before anything is timed; timed runs are
 * interleaved (each round runs every row once, in a rotated order) so that machine noise falls on all rows alike.
 * Children print lengths and counts only, never a value.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { type BuildOptions, build, version as esbuildVersion } from 'esbuild';
import { startAgentServer } from '../test/support/agent-server.js';
import { startExtensionServer } from '../test/support/extension-server.js';
import { createStringSecret, type MotoServer, startMotoServer } from '../test/support/moto.js';
import { selfSignedCertificate } from '../test/support/tls.js';
import {
  type BenchContext,
  bytes,
  median,
  ms,
  type ScenarioResult,
  type Target,
  table,
  ratio as x,
} from './support.js';

const TITLE = '6. Cold start';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Timed runs of every row (after one checked run each). */
const RUNS = { full: 15, quick: 3 } as const;
/** A child that has not finished by then is killed and the scenario fails. */
const CHILD_TIMEOUT_MS = 30_000;

const IMPORT_GOAL_MS = 15;
const FIRST_VALUE_GOAL = 0.4;

// Fake secret and tokens. Values are never printed: children print the value's length.
const SECRET_ID = 'prod/orders/coldstart-api-key';
const SECRET_VALUE = 'fake-coldstart-api-key-0123456789abcdef-fedcba9876543210';
const SESSION_TOKEN = 'fake-session-token-for-the-coldstart-bench';
const AGENT_TOKEN = 'fake-agent-token-for-the-coldstart-bench';

/** The package's subpaths, as `package.json` exports them, and the dist file each names. */
const SUBPATHS = ['.', './lambda', './middy', './env', './http', './testing', './rotation', './pg'] as const;

// ---------------------------------------------------------------------------------------------------------
// dist/

interface PackageJson {
  readonly exports: Record<string, { import: { default: string }; require: { default: string } } | string>;
  readonly peerDependencies?: Record<string, string>;
}

function newestFile(dir: string): { path: string; mtimeMs: number } {
  let newest = { path: dir, mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const candidate = entry.isDirectory() ? newestFile(path) : { path, mtimeMs: statSync(path).mtimeMs };
    if (candidate.mtimeMs > newest.mtimeMs) newest = candidate;
  }
  return newest;
}

/**
 * The dist files of every subpath (ESM and CJS). Throws, saying to run `npm run build`, when one is missing or
 * older than the newest file of src/.
 */
function checkDist(pkg: PackageJson): void {
  const files = SUBPATHS.flatMap((subpath) => {
    const target = pkg.exports[subpath];
    assert.ok(typeof target === 'object', `package.json exports no "${subpath}"`);
    return [target.import.default, target.require.default].map((file) => join(ROOT, file));
  });
  const missing = files.filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(
      `coldstart measures the built package, and ${missing.map((f) => relative(ROOT, f)).join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing: run \`npm run build\` first.`,
    );
  }
  const src = newestFile(join(ROOT, 'src'));
  const oldest = Math.min(...files.map((file) => statSync(file).mtimeMs));
  if (src.mtimeMs > oldest) {
    throw new Error(
      `coldstart measures the built package, and dist/ is older than src/ (${relative(ROOT, src.path)} changed after the last build): run \`npm run build\` first.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// the child scripts

/**
 * What every child ends with: one JSON line with the fields given, its uptime, the CommonJS module cache's size
 * and how many of its files are the SDK's (`@aws-sdk/`, `@smithy/`: the SDK ships CommonJS to Node, so an ESM
 * import of it lands there too) and, when the hook is loaded, how many `@aws-sdk/` specifiers and distinct ESM
 * files were resolved.
 */
const REPORT = `
function report(fields) {
  const uptimeMs = process.uptime() * 1000;
  const cpu = process.cpuUsage();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const cached = Object.keys(createRequire(__filename_for_report).cache);
  const sdkCached = cached.filter((key) => /[\\\\/]@(aws-sdk|smithy)[\\\\/]/.test(key)).length;
  const hook = globalThis.__coldstartHook;
  process.stdout.write(JSON.stringify({
    ...fields, uptimeMs, cpuMs, cjsFiles: cached.length, sdkCached,
    sdkResolved: hook === undefined ? null : hook.sdk(), esmFiles: hook === undefined ? null : hook.files(),
  }) + '\\n');
}
`;

const ESM_HEAD = `import { createRequire } from 'node:module';\n`;
const ESM_REPORT = `const __filename_for_report = import.meta.url;\n${REPORT}`;
const CJS_REPORT = `const { createRequire } = require('node:module');\nconst __filename_for_report = __filename;\n${REPORT}`;

/**
 * Loaded with `--import` in the checked run: a resolve hook (on the loader thread) that counts, in shared
 * counters read synchronously by `report`, the `@aws-sdk/` specifiers resolved and the distinct `file:` URLs
 * resolved (the ESM files loaded, this hook's own script aside).
 */
const HOOK = `import { register } from 'node:module';
const counters = new Int32Array(new SharedArrayBuffer(8));
const hooks = \`
let counters;
const seen = new Set();
export function initialize(data) { counters = data.counters; }
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@aws-sdk/')) Atomics.add(counters, 0, 1);
  const resolved = await next(specifier, context);
  if (resolved.url.startsWith('file:') && !seen.has(resolved.url)) {
    seen.add(resolved.url);
    Atomics.add(counters, 1, 1);
  }
  return resolved;
}
\`;
register('data:text/javascript,' + encodeURIComponent(hooks), { data: { counters } });
globalThis.__coldstartHook = { sdk: () => Atomics.load(counters, 0), files: () => Atomics.load(counters, 1) };
`;

interface Urls {
  /** `secretcache` (ESM), `secretcache/http` (ESM), as file URLs. */
  readonly index: string;
  readonly http: string;
  /** `secretcache` (CJS), a path. */
  readonly indexCjs: string;
  readonly sdk: string;
  readonly powertools: string;
}

type Kind = 'import' | 'value';

interface Row {
  readonly key: string;
  readonly label: string;
  readonly kind: Kind;
  readonly file: string;
  readonly script: string;
  /** Whether an `@aws-sdk` module must be loaded (true) or must not be (false). */
  readonly sdk: boolean;
  /** Import rows: the bare row this one is compared with. */
  readonly bare?: string;
  /** Variables this child gets on top of (or instead of) the environment every child gets. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * The rows, in the order they are printed; `tlsEndpoint` (moto_server over HTTPS) adds the SDK source over TLS,
 * as the SDK reaches AWS.
 */
function rows(urls: Urls, tlsEndpoint: string | undefined): Row[] {
  const q = JSON.stringify;
  const value = (body: string): string => `${body}
if (typeof value !== 'string') throw new Error('not a string: ' + typeof value);
report({ importedAtMs, length: value.length });
process.exit(0);
`;
  // The SDK source's child, run against moto_server over HTTP and (with another endpoint) over HTTPS.
  const sdkScript = `${ESM_HEAD}import { SecretCache } from ${q(urls.index)};
${ESM_REPORT}const importedAtMs = process.uptime() * 1000;
const value = await new SecretCache().getSecretString(${q(SECRET_ID)});
${value('')}`;
  return [
    {
      key: 'bare-esm',
      label: 'bare Node, ESM (an .mjs that imports nothing)',
      kind: 'import',
      file: 'bare.mjs',
      script: `${ESM_HEAD}${ESM_REPORT}report({});\n`,
      sdk: false,
    },
    {
      key: 'bare-cjs',
      label: 'bare Node, CJS (a .cjs that requires nothing)',
      kind: 'import',
      file: 'bare.cjs',
      script: `${CJS_REPORT}report({});\n`,
      sdk: false,
    },
    {
      key: 'import-esm',
      label: "`await import('secretcache')`",
      kind: 'import',
      file: 'import-secretcache.mjs',
      script: `${ESM_HEAD}${ESM_REPORT}const t0 = performance.now();
const m = await import(${q(urls.index)});
const importMs = performance.now() - t0;
if (typeof m.SecretCache !== 'function') throw new Error('no SecretCache');
report({ importMs });
`,
      sdk: false,
      bare: 'bare-esm',
    },
    {
      key: 'require-cjs',
      label: "`require('secretcache')`",
      kind: 'import',
      file: 'require-secretcache.cjs',
      script: `${CJS_REPORT}const t0 = performance.now();
const m = require(${q(urls.indexCjs)});
const importMs = performance.now() - t0;
if (typeof m.SecretCache !== 'function') throw new Error('no SecretCache');
report({ importMs });
`,
      sdk: false,
      bare: 'bare-cjs',
    },
    {
      key: 'import-sdk',
      label: "`await import('@aws-sdk/client-secrets-manager')` (contrast)",
      kind: 'import',
      file: 'import-sdk.mjs',
      script: `${ESM_HEAD}${ESM_REPORT}const t0 = performance.now();
const m = await import(${q(urls.sdk)});
const importMs = performance.now() - t0;
if (typeof m.SecretsManagerClient !== 'function') throw new Error('no SecretsManagerClient');
report({ importMs });
`,
      sdk: true,
      bare: 'bare-esm',
    },
    {
      key: 'import-powertools',
      label: "`await import('@aws-lambda-powertools/parameters/secrets')` (contrast)",
      kind: 'import',
      file: 'import-powertools.mjs',
      script: `${ESM_HEAD}${ESM_REPORT}const t0 = performance.now();
const m = await import(${q(urls.powertools)});
const importMs = performance.now() - t0;
if (typeof m.getSecret !== 'function') throw new Error('no getSecret');
report({ importMs });
`,
      sdk: true,
      bare: 'bare-esm',
    },
    {
      key: 'value-sdk',
      label: '`new SecretCache().getSecretString(id)`: the SDK source, moto_server',
      kind: 'value',
      file: 'value-sdk.mjs',
      script: sdkScript,
      sdk: true,
    },
    ...(tlsEndpoint === undefined
      ? []
      : [
          {
            key: 'value-sdk-tls',
            label: 'the same over TLS: moto_server answering HTTPS, as AWS does',
            kind: 'value' as const,
            file: 'value-sdk.mjs',
            script: sdkScript,
            sdk: true,
            // Certificate checks off: the child does less than one that verifies AWS's chain, so this row is a
            // lower bound. (NODE_EXTRA_CA_CERTS would add the loading of a CA file at every start instead.)
            env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: tlsEndpoint, NODE_TLS_REJECT_UNAUTHORIZED: '0' },
          },
        ]),
    {
      key: 'value-extension',
      label: '`lambdaExtensionSource()`: the extension server, primed',
      kind: 'value',
      file: 'value-extension.mjs',
      script: `${ESM_HEAD}import { SecretCache } from ${q(urls.index)};
import { lambdaExtensionSource } from ${q(urls.http)};
${ESM_REPORT}const importedAtMs = process.uptime() * 1000;
const value = await new SecretCache({ source: lambdaExtensionSource() }).getSecretString(${q(SECRET_ID)});
${value('')}`,
      sdk: false,
    },
    {
      key: 'value-floor',
      label: 'floor: one `node:http` GET to the extension server, no secretcache',
      kind: 'value',
      file: 'value-floor.mjs',
      script: `${ESM_HEAD}import { get } from 'node:http';
${ESM_REPORT}const importedAtMs = process.uptime() * 1000;
const body = await new Promise((resolve, reject) => {
  const path = '/secretsmanager/get?secretId=' + encodeURIComponent(${q(SECRET_ID)}) + '&versionStage=AWSCURRENT';
  const port = Number(process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT);
  const headers = { 'X-Aws-Parameters-Secrets-Token': process.env.AWS_SESSION_TOKEN };
  get({ host: '127.0.0.1', port, path, headers }, (res) => {
    const chunks = [];
    res.on('data', (chunk) => chunks.push(chunk));
    res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error('HTTP ' + res.statusCode))));
  }).on('error', reject);
});
const value = JSON.parse(body).SecretString;
${value('')}`,
      sdk: false,
    },
    {
      key: 'value-agent',
      label: '`agentSource()`: the Agent server, primed',
      kind: 'value',
      file: 'value-agent.mjs',
      script: `${ESM_HEAD}import { SecretCache } from ${q(urls.index)};
import { agentSource } from ${q(urls.http)};
${ESM_REPORT}const importedAtMs = process.uptime() * 1000;
const source = agentSource({ port: Number(process.env.COLDSTART_AGENT_PORT) });
const value = await new SecretCache({ source }).getSecretString(${q(SECRET_ID)});
${value('')}`,
      sdk: false,
    },
    {
      key: 'value-powertools',
      label: "Powertools' `getSecret(id)`, moto_server (contrast)",
      kind: 'value',
      file: 'value-powertools.mjs',
      script: `${ESM_HEAD}import { getSecret } from ${q(urls.powertools)};
${ESM_REPORT}const importedAtMs = process.uptime() * 1000;
const value = await getSecret(${q(SECRET_ID)});
${value('')}`,
      sdk: true,
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------
// running a child

interface ChildReport {
  readonly uptimeMs: number;
  /** CPU time (user + system, every thread) the child had used when it reported. */
  readonly cpuMs: number;
  readonly cjsFiles: number;
  readonly sdkCached: number;
  readonly sdkResolved: number | null;
  readonly esmFiles: number | null;
  readonly importMs?: number;
  readonly importedAtMs?: number;
  readonly length?: number;
}

interface ChildRun {
  /** From just before `spawn` to the first line on its stdout (the report). */
  readonly lineMs: number;
  /** From just before `spawn` to its exit. */
  readonly exitMs: number;
  readonly report: ChildReport;
}

function runChild(row: Row, dir: string, hooked: boolean, env: NodeJS.ProcessEnv): Promise<ChildRun> {
  const args = hooked ? ['--import', pathToFileURL(join(dir, 'hook.mjs')).href] : [];
  args.push(join(dir, row.file));
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let lineMs: number | undefined;
    const t0 = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: dir,
      env: { ...env, ...row.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`coldstart: ${row.label} did not finish within ${CHILD_TIMEOUT_MS} ms`));
    }, CHILD_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (lineMs === undefined && stdout.includes('\n')) lineMs = performance.now() - t0;
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2_000);
    });
    let exitMs = Number.NaN;
    child.on('exit', () => {
      exitMs = performance.now() - t0;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const what = `coldstart: ${row.label}${hooked ? ' (with the SDK hook)' : ''}`;
      if (code !== 0 || lineMs === undefined) {
        reject(new Error(`${what}: exit code ${code} (signal ${signal}), stderr:\n${stderr}`));
        return;
      }
      try {
        const report = JSON.parse(stdout.split('\n')[0]!) as ChildReport;
        resolve({ lineMs, exitMs, report });
      } catch (error) {
        reject(new Error(`${what}: unreadable report (${(error as Error).message})`));
      }
    });
  });
}

/** Asserts what a child reported: the value's length, and the SDK loaded or not as the row says. */
function check(row: Row, run: ChildRun, hooked: boolean): void {
  const { report } = run;
  if (row.kind === 'value')
    assert.equal(report.length, SECRET_VALUE.length, `${row.label}: wrong value length`);
  if (row.sdk) {
    assert.ok(report.sdkCached > 0, `${row.label}: no SDK file loaded, yet the row needs the SDK`);
  } else {
    assert.equal(report.sdkCached, 0, `${row.label}: SDK files (@aws-sdk, @smithy) loaded`);
    if (hooked) assert.equal(report.sdkResolved, 0, `${row.label}: @aws-sdk specifiers resolved`);
  }
  if (hooked) assert.notEqual(report.sdkResolved, null, `${row.label}: the hook did not load`);
}

// ---------------------------------------------------------------------------------------------------------
// bundles

interface Bundle {
  readonly label: string;
  readonly bytes: number;
  readonly gzip: number;
}

async function bundle(label: string, input: Pick<BuildOptions, 'entryPoints' | 'stdin'>, external: string[]) {
  const result = await build({
    ...input,
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    mainFields: ['module', 'main'],
    external,
    write: false,
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  assert.ok(file !== undefined && result.outputFiles.length === 1, `${label}: expected one output file`);
  return {
    label,
    bytes: file.contents.byteLength,
    gzip: gzipSync(file.contents).byteLength,
  } satisfies Bundle;
}

// ---------------------------------------------------------------------------------------------------------

interface RowStats {
  readonly row: Row;
  /** The checked run, with the hook. */
  readonly checked: ChildRun;
  /** The timed runs. */
  readonly runs: ChildRun[];
}

/** The time a row is judged on: to exit for an import row, to the value for a value row. */
const timeOf = (row: Row, run: ChildRun): number => (row.kind === 'import' ? run.exitMs : run.lineMs);

const range = (values: readonly number[]): string =>
  `${ms(Math.min(...values))} – ${ms(Math.max(...values))}`;

export async function coldstart(context: BenchContext): Promise<ScenarioResult> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
  checkDist(pkg);
  const runs = context.quick ? RUNS.quick : RUNS.full;
  const loadAverage = os.loadavg();

  // Resolved here, from inside the package, through its exports map (self-reference) and node_modules.
  const require = createRequire(import.meta.url);
  const urls: Urls = {
    index: import.meta.resolve('secretcache'),
    http: import.meta.resolve('secretcache/http'),
    indexCjs: require.resolve('secretcache'),
    sdk: import.meta.resolve('@aws-sdk/client-secrets-manager'),
    powertools: import.meta.resolve('@aws-lambda-powertools/parameters/secrets'),
  };
  for (const [name, at] of Object.entries({ index: urls.index, http: urls.http })) {
    assert.ok(fileURLToPath(at).startsWith(join(ROOT, 'dist')), `secretcache ${name} resolves outside dist/`);
  }
  assert.ok(urls.indexCjs.startsWith(join(ROOT, 'dist')) && urls.indexCjs.endsWith('.cjs'));

  const moto = await startMotoServer(); // without moto_server on the PATH: an error that says how to install it
  const motoClient = moto.client();
  const dir = mkdtempSync(join(os.tmpdir(), 'secretcache-coldstart-'));
  const tls = selfSignedCertificate(dir);
  let motoTls: MotoServer | undefined;
  let extension: Awaited<ReturnType<typeof startExtensionServer>> | undefined;
  let agent: Awaited<ReturnType<typeof startAgentServer>> | undefined;
  try {
    await createStringSecret(motoClient, SECRET_ID, SECRET_VALUE);
    if (tls === undefined) {
      console.log('coldstart: no openssl on the PATH, so no row of the SDK source over TLS.');
    } else {
      motoTls = await startMotoServer({ tls });
      const tlsClient = motoTls.client();
      await createStringSecret(tlsClient, SECRET_ID, SECRET_VALUE);
      tlsClient.destroy();
    }
    extension = await startExtensionServer({ client: motoClient, sessionToken: SESSION_TOKEN });
    agent = await startAgentServer({ client: motoClient, token: AGENT_TOKEN });

    // Prime both servers' caches with the request the cache sends (the stage named): the children then measure our
    // client, not moto behind the server.
    const primed = async (port: number, token: string): Promise<number> => {
      const t0 = performance.now();
      const res = await fetch(
        `http://127.0.0.1:${port}/secretsmanager/get?secretId=${encodeURIComponent(SECRET_ID)}&versionStage=AWSCURRENT`,
        { headers: { 'X-Aws-Parameters-Secrets-Token': token } },
      );
      const body = (await res.json()) as { SecretString?: string };
      assert.equal(res.status, 200);
      assert.equal(body.SecretString, SECRET_VALUE);
      return performance.now() - t0;
    };
    await primed(extension.port, SESSION_TOKEN);
    await primed(agent.port, AGENT_TOKEN);
    const cachedAnswerMs = median(
      await (async () => {
        const times: number[] = [];
        for (let i = 0; i < 10; i++) times.push(await primed(extension.port, SESSION_TOKEN));
        return times;
      })(),
    );

    // moto's own latency, from a warm client in this process.
    const motoTimes: number[] = [];
    for (let i = 0; i < 13; i++) {
      const t0 = performance.now();
      const out = await motoClient.send(new GetSecretValueCommand({ SecretId: SECRET_ID }));
      motoTimes.push(performance.now() - t0);
      assert.equal(out.SecretString, SECRET_VALUE);
    }
    const motoMs = median(motoTimes.slice(3));

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // Dummy credentials, no profile files (as in a Lambda sandbox), no instance metadata.
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SESSION_TOKEN: SESSION_TOKEN,
      AWS_REGION: 'us-east-1',
      AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
      PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port),
      AWS_TOKEN: AGENT_TOKEN,
      COLDSTART_AGENT_PORT: String(agent.port),
    };

    const all = rows(urls, motoTls?.endpoint);
    writeFileSync(join(dir, 'hook.mjs'), HOOK);
    for (const row of all) writeFileSync(join(dir, row.file), row.script);

    // ---- correctness first: each child once, with the hook.
    const stats: RowStats[] = [];
    for (const row of all) {
      const checked = await runChild(row, dir, true, env);
      check(row, checked, true);
      stats.push({ row, checked, runs: [] });
    }

    // ---- timed, interleaved: each round runs every row once, starting one row further along.
    for (let round = 0; round < runs; round++) {
      for (let i = 0; i < stats.length; i++) {
        const entry = stats[(round + i) % stats.length]!;
        const run = await runChild(entry.row, dir, false, env);
        check(entry.row, run, false);
        entry.runs.push(run);
      }
    }
    assert.equal(extension.log.calls.getSecretValue, 1, 'the extension server called moto after priming');
    assert.equal(agent.log.calls.getSecretValue, 1, 'the Agent server called moto after priming');
    assert.equal(agent.log.calls.describeSecret, 0);
    const served = (log: { requests: ReadonlyArray<{ status: number }> }): number =>
      log.requests.filter((r) => r.status === 200).length;
    assert.equal(
      served(extension.log),
      11 + 2 * (runs + 1),
      'extension requests: priming, latency, one a child of the extension and floor rows',
    );
    assert.equal(served(agent.log), 1 + runs + 1, 'Agent requests: priming, one a child');

    // ---- bundles
    const peers = [...Object.keys(pkg.peerDependencies ?? {}), '@aws-sdk/*'];
    const notSdk = peers.filter((peer) => !peer.startsWith('@aws-sdk/'));
    const bundles: Bundle[] = [];
    for (const subpath of SUBPATHS) {
      const specifier = subpath === '.' ? 'secretcache' : `secretcache${subpath.slice(1)}`;
      bundles.push(
        await bundle(
          `\`${specifier}\` (every export)`,
          { entryPoints: [fileURLToPath(import.meta.resolve(specifier))] },
          peers,
        ),
      );
    }
    const app = (contents: string) => ({ stdin: { contents, resolveDir: ROOT, loader: 'js' as const } });
    const q = JSON.stringify;
    const contrast: Bundle[] = [
      await bundle(
        'app: `new SecretCache({ source: lambdaExtensionSource() })` (tree-shaken)',
        app(
          `import { SecretCache } from ${q(fileURLToPath(urls.index))};\nimport { lambdaExtensionSource } from ${q(fileURLToPath(urls.http))};\nexport const cache = new SecretCache({ source: lambdaExtensionSource() });`,
        ),
        peers,
      ),
      await bundle(
        'app: `new SecretCache()` (tree-shaken; SDK external)',
        app(
          `import { SecretCache } from ${q(fileURLToPath(urls.index))};\nexport const cache = new SecretCache();`,
        ),
        peers,
      ),
      await bundle(
        'app: `new SecretCache()` with the SDK bundled in',
        app(
          `import { SecretCache } from ${q(fileURLToPath(urls.index))};\nexport const cache = new SecretCache();`,
        ),
        notSdk,
      ),
      await bundle(
        'app: `SecretsManagerClient` + `GetSecretValueCommand` alone (SDK bundled)',
        app(`export { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';`),
        [],
      ),
      await bundle(
        "app: Powertools' `getSecret` (SDK bundled)",
        app(`export { getSecret } from '@aws-lambda-powertools/parameters/secrets';`),
        [],
      ),
    ];

    // ---- tables
    const byKey = new Map(stats.map((s) => [s.row.key, s]));
    const times = (s: RowStats): number[] => s.runs.map((run) => timeOf(s.row, run));
    /** Median over rounds of (this row's time - its bare row's time in the same round). */
    const overBare = (s: RowStats, of: (run: ChildRun) => number = (run) => run.exitMs): number => {
      const bare = byKey.get(s.row.bare!)!;
      return median(s.runs.map((run, i) => of(run) - of(bare.runs[i]!)));
    };
    const cpuOf = (run: ChildRun): number => run.report.cpuMs;
    const filesLoaded = ({ checked: { report } }: RowStats): string =>
      `${report.esmFiles} + ${report.cjsFiles} (${report.sdkCached})`;
    const importRows = stats.filter((s) => s.row.kind === 'import');
    const importTable = table(
      [
        `process time, spawn to exit (${runs} runs)`,
        'median',
        'min – max',
        'over bare (median of paired differences)',
        'in-process import (median)',
        'child CPU (median)',
        'CPU over bare',
        'files loaded: ESM + CJS (of which SDK)',
      ],
      importRows.map((s) => [
        s.row.label,
        ms(median(times(s))),
        range(times(s)),
        s.row.bare === undefined ? '' : ms(overBare(s)),
        s.row.bare === undefined ? '' : ms(median(s.runs.map((r) => r.report.importMs!))),
        ms(median(s.runs.map(cpuOf))),
        s.row.bare === undefined ? '' : ms(overBare(s, cpuOf)),
        filesLoaded(s),
      ]),
      'lrrrrrrr',
    );

    const valueRows = stats.filter((s) => s.row.kind === 'value');
    const sdkValue = median(times(byKey.get('value-sdk')!));
    const sdkTls = byKey.get('value-sdk-tls');
    const sdkTlsValue = sdkTls === undefined ? undefined : median(times(sdkTls));
    const valueTable = table(
      [
        `process start to first value (${runs} runs)`,
        'spawn to value, median',
        'min – max',
        'vs SDK source',
        ...(sdkTlsValue === undefined ? [] : ['vs SDK source over TLS']),
        'child uptime: imports done',
        'child uptime: value',
        'child CPU to value',
        'files loaded: ESM + CJS (of which SDK)',
      ],
      valueRows.map((s) => [
        s.row.label,
        ms(median(times(s))),
        range(times(s)),
        x(median(times(s)) / sdkValue),
        ...(sdkTlsValue === undefined ? [] : [x(median(times(s)) / sdkTlsValue)]),
        ms(median(s.runs.map((r) => r.report.importedAtMs!))),
        ms(median(s.runs.map((r) => r.report.uptimeMs))),
        ms(median(s.runs.map(cpuOf))),
        filesLoaded(s),
      ]),
      sdkTlsValue === undefined ? 'lrrrrrrr' : 'lrrrrrrrr',
    );

    const sizeTable = table(
      ['esbuild bundle (minified ESM)', 'bytes', 'gzip'],
      [...bundles, ...contrast].map((b) => [b.label, bytes(b.bytes), bytes(b.gzip)]),
      'lrr',
    );

    const importEsm = overBare(byKey.get('import-esm')!);
    const extensionValue = median(times(byKey.get('value-extension')!));
    const firstValueRatio = extensionValue / sdkValue;
    const cpus = os.cpus();
    const markdown = [
      importTable,
      '',
      valueTable,
      '',
      sizeTable,
      '',
      `- Each row is a separate \`node\` process (\`process.execPath\`, ${process.version}) running a script generated into a temp dir, which loads the built package (dist/) by the file its \`exports\` map names (\`secretcache\` resolved from inside the package). Every child was run once first with a resolve hook (\`module.register\`) counting \`@aws-sdk/\` specifiers, and checked: exit code 0, the value's length, no \`@aws-sdk/\` specifier resolved and no SDK file (\`@aws-sdk/\`, \`@smithy/\`) in the CommonJS module cache for the rows that claim so, some for the rows that need the SDK (every timed run checks the cache again; the SDK ships CommonJS to Node, so an ESM import of it lands there too). "Files loaded" is from that run: the distinct ESM files the hook saw resolved, and the files in the CommonJS module cache, the child's own script included. That first run also warmed the disk cache. Then ${runs} interleaved rounds, each running every row once in a rotated order. No child inherits \`NODE_OPTIONS\`; every child gets the same environment (dummy credentials and region, no AWS profile files, the endpoints and ports below).`,
      `- Import rows: the parent's time from \`spawn\` to the child's exit. The bare rows import nothing but print the same one-line report as the others. "Over bare" is the median, over rounds, of the row's time minus the same round's bare row (ESM rows against the .mjs, the CJS row against the .cjs). "In-process import" is the child's own \`performance.now()\` around the \`import()\`/\`require()\`. "Child CPU" is \`process.cpuUsage()\` (user + system, all of its threads) when the child reported: less disturbed by other work on the machine than the wall times, which grow with the load (a busy 2-core machine can double them); "CPU over bare" is its median paired difference.`,
      `- Value rows: the parent's time from \`spawn\` to the line that carries the value's length (the child then exits at once), so it includes Node's own start (the bare rows), loading the modules, constructing the cache and the source, and one read. "Child uptime" is \`process.uptime()\` in the child when its static imports were done and when it had the value (it misses the time before Node's clock starts, a few ms). The SDK source and Powertools rows load \`@aws-sdk/client-secrets-manager\` (the SDK source on its first fetch), build a client from the environment (\`AWS_ENDPOINT_URL_SECRETS_MANAGER\` names moto_server), sign and send one GetSecretValue to moto_server, which answers a warm client in ${ms(motoMs)} (median, from this process; a new connection adds a little), so about that much of those rows is moto, not the client. Those rows talk plain HTTP to moto, where the SDK talks HTTPS to AWS: ${sdkTlsValue === undefined ? 'the row over TLS was left out (no `openssl` on the PATH to make a certificate)' : 'the row "over TLS" is the SDK source again against a second moto_server that answers HTTPS with a throwaway RSA-2048 certificate for 127.0.0.1 (test/support/tls.ts), its child told not to verify it (`NODE_TLS_REJECT_UNAUTHORIZED=0`), so it pays for loading `node:tls`, the root store and the handshake but not for checking a chain: a lower bound of what the first value costs through the SDK in production. The target is judged against the plain HTTP row, the setup the issue names'}. The extension and Agent rows go to the local servers of test/support (\`extension-server.ts\`, \`agent-server.ts\`), run in the bench's own process so that a child pays only its own work; their caches were primed before the first child, so no child's read reaches moto (asserted: one GetSecretValue each, the priming), and a cached answer takes ${ms(cachedAnswerMs)} (median, a \`fetch\` from this process). In a real Lambda sandbox the extension's cache is empty at a cold start, so its first answer also waits for Secrets Manager: this row measures our client, not the extension. The floor row is the least any client of the extension pays: one \`node:http\` GET with no secretcache at all (Node's own cost of loading \`node:http\` and of its first request is most of what separates the extension row from bare Node). Other work on the machine stretches the rows that use more CPU (the SDK's) most, so the "vs SDK source" ratio falls as the load rises: judge it on a quiet run (narrow min – max), or by the CPU column.`,
      `- Sizes: esbuild ${esbuildVersion} (\`bundle\`, \`platform: 'node'\`, \`format: 'esm'\`, \`minify\`, \`mainFields: ['module', 'main']\`), gzip by node:zlib at its default level. Entry points are bundled with every export kept, their dependencies (lru-cache, p-retry) bundled in, and the peers (\`${peers.join('`, `')}\`) external, so \`secretcache/rotation\` and \`secretcache/pg\` weigh without the SDK and pg they need. The app rows are what a bundler keeps of a small app; "with the SDK bundled in" is what a Lambda bundle that uses the default source ships.`,
      `- Machine: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores, load average ${loadAverage.map((l) => l.toFixed(2)).join(' / ')} at the start; other work may have been running, which the interleaving spreads over all rows alike.`,
    ].join('\n');

    const targets: Target[] = [
      {
        scenario: 'coldstart',
        name: "import('secretcache') over bare Node",
        goal: `<= ${IMPORT_GOAL_MS} ms`,
        actual: `${ms(importEsm)} (median of ${runs} paired differences)`,
        margin:
          importEsm <= IMPORT_GOAL_MS
            ? `${ms(IMPORT_GOAL_MS - importEsm)} under`
            : `${ms(importEsm - IMPORT_GOAL_MS)} over`,
        met: importEsm <= IMPORT_GOAL_MS,
      },
      {
        scenario: 'coldstart',
        name: 'first value through the extension source vs the SDK source',
        goal: `<= ${FIRST_VALUE_GOAL.toFixed(1)}x`,
        actual: `${x(firstValueRatio)} (${ms(extensionValue)} vs ${ms(sdkValue)}, medians)`,
        margin:
          firstValueRatio <= FIRST_VALUE_GOAL
            ? `${x(FIRST_VALUE_GOAL / firstValueRatio)} headroom`
            : `${x(firstValueRatio / FIRST_VALUE_GOAL)} over`,
        met: firstValueRatio <= FIRST_VALUE_GOAL,
      },
    ];
    return { title: TITLE, markdown, targets };
  } finally {
    await extension?.close();
    await agent?.close();
    motoClient.destroy();
    await moto.stop();
    await motoTls?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
