// Loads the built package the way users do, once as ESM and once as CommonJS, and reads through each against an
// in-memory source whose first answer is a transient failure, so p-retry runs. The CommonJS copy is also loaded
// in a child with require(esm) switched off, as on Node 20 before 20.19. The `secretcache/lambda` and
// `secretcache/middy` subpaths are loaded both ways too, and the core entry must load neither of them (nor
// middy), nor `secretcache/env`, `secretcache/rotation` or `secretcache/pg` (nor pg), which are loaded both ways
// as well. The `secretcache` command (package.json's
// `bin`) runs a child and passes its exit code on. Run after `npm run build`.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const dist = new URL('../../dist/', import.meta.url);
const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

// The core entry first and alone: which files did require('secretcache') load?
const cjs = require('secretcache');
const loadedByCore = Object.keys(require.cache).filter((file) => file.includes('/dist/'));
assert.ok(
  loadedByCore.some((file) => file.endsWith('/dist/index.cjs')),
  'cjs: the core entry is in require.cache',
);
assert.deepEqual(
  loadedByCore.filter((file) => /\/dist\/(lambda|middy|env|rotation|pg|http|testing)\.cjs$/.test(file)),
  [],
  'cjs: requiring the core entry loads none of lambda.cjs, middy.cjs, env.cjs, rotation.cjs, pg.cjs',
);

const esm = await import('secretcache');

/** The version an in-memory source answers with. */
function version(secretId, secretString) {
  return {
    name: secretId,
    arn: `arn:${secretId}`,
    versionId: 'v1',
    versionStages: ['AWSCURRENT'],
    createdDate: undefined,
    secretString,
  };
}

async function check(format, lib) {
  assert.equal(typeof lib.SecretCache, 'function', `${format}: SecretCache is exported`);
  let calls = 0;
  const source = {
    async getSecretValue({ secretId }) {
      calls++;
      if (calls === 1) throw Object.assign(new Error('flaky'), { name: 'InternalServiceError' });
      return version(secretId, '{"a":1}');
    },
  };
  const cache = new lib.SecretCache({ source, retry: { retries: 1, minTimeoutMs: 0, maxTimeoutMs: 0 } });
  assert.deepEqual(await cache.getSecretJson('smoke'), { a: 1 }, `${format}: reads JSON after one retry`);
  assert.deepEqual(await cache.getSecretJson('smoke'), { a: 1 }, `${format}: reads warm JSON`);
  assert.equal(calls, 2, `${format}: one failed attempt, one good, then warm`);
  const error = await cache.getSecretString('').catch((e) => e);
  assert.ok(lib.isSecretCacheError(error), `${format}: typed error`);
  assert.equal(error.code, 'INVALID_ARGUMENT');
  return error;
}

const esmError = await check('esm', esm);
const cjsError = await check('cjs', cjs);
assert.ok(
  esm.isSecretCacheError(cjsError) && cjs.isSecretCacheError(esmError),
  'errors are recognised across builds',
);

/** The relative imports and requires of a built file, followed through shared chunks. */
function reachable(entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(new URL(file, dist), 'utf8');
    for (const [, spec] of code.matchAll(/(?:from\s*|import\s*\(?|require\()\s*['"]\.\/([^'"]+)['"]/g))
      visit(spec);
  };
  visit(entry);
  return [...seen];
}
for (const entry of ['index.js', 'index.cjs']) {
  const files = reachable(entry);
  assert.ok(files.length > 1, `${entry}: the import scan follows its chunk`);
  assert.deepEqual(
    files.filter((file) => /^(lambda|middy|env|cli|rotation|pg|http|testing)\./.test(file)),
    [],
    `${entry} does not import the lambda, middy, env, cli, rotation or pg entry`,
  );
  for (const file of files) {
    const code = readFileSync(new URL(file, dist), 'utf8');
    assert.doesNotMatch(
      code,
      /require\(["']pg["']\)|from\s*["']pg["']|import\(["']pg["']\)/,
      `${file} (core) loads no pg`,
    );
  }
}
// The core is one file that every entry imports (tsup.config.ts): a cold process that imports `secretcache`
// reads two of our files, and one more per subpath.
assert.deepEqual(
  reachable('index.js').sort(),
  ['core.js', 'index.js'],
  'index.js loads core.js and nothing else of ours',
);
assert.deepEqual(
  reachable('index.cjs').sort(),
  ['core.cjs', 'index.cjs'],
  'index.cjs loads core.cjs and nothing else of ours',
);

// Every package a built file loads is a node builtin, a dependency or a peer. lru-cache is bundled into the core
// file and is only a devDependency: a module outside the core that imported it would fail where users run it.
{
  const { builtinModules } = await import('node:module');
  const allowed = new Set([
    packageJson.name,
    ...Object.keys(packageJson.dependencies ?? {}),
    ...Object.keys(packageJson.peerDependencies ?? {}),
  ]);
  for (const file of readdirSync(dist).filter((name) => /\.c?js$/.test(name))) {
    const code = readFileSync(new URL(file, dist), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const [, spec] of code.matchAll(
      /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\(\s*)['"]([^'"./][^'"]*)['"]/g,
    )) {
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      assert.ok(
        name.startsWith('node:') || builtinModules.includes(name) || allowed.has(name),
        `${file} loads ${spec}, which is neither a node builtin, a dependency nor a peer`,
      );
    }
  }
}
for (const file of readdirSync(dist).filter((name) => /\.(c?js|d\.c?ts)$/.test(name))) {
  // TSDoc examples may import them; the code and declarations may not.
  const code = readFileSync(new URL(file, dist), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  assert.doesNotMatch(
    code,
    /from\s*['"](@middy\/core|aws-lambda)['"]|require\(['"](@middy\/core|aws-lambda)['"]\)/,
    `${file} needs neither @middy/core nor aws-lambda (code or types)`,
  );
}

/** A manifest of two secrets over a counting in-memory source, for the lambda and middy entries. */
function fixture(lib) {
  const calls = [];
  const source = {
    async getSecretValue({ secretId }) {
      calls.push(secretId);
      return version(secretId, secretId === 'db' ? '{"user":"app"}' : 'key');
    },
  };
  const cache = new lib.SecretCache({ source });
  const manifest = { db: lib.secret.json('db'), apiKey: lib.secret.string('api-key') };
  return { calls, cache, manifest };
}

const context = { awsRequestId: 'smoke-1', getRemainingTimeInMillis: () => 3_000 };

async function checkIntegrations(format, lib, lambda, middy) {
  assert.equal(typeof lambda.withSecrets, 'function', `${format}: withSecrets is exported`);
  assert.equal(typeof middy.secretsMiddleware, 'function', `${format}: secretsMiddleware is exported`);

  const viaLambda = fixture(lib);
  const handler = lambda.withSecrets(
    viaLambda.manifest,
    async (event, ctx, secrets) => `${event.n} ${ctx.awsRequestId} ${secrets.db.user} ${secrets.apiKey}`,
    { cache: viaLambda.cache },
  );
  assert.equal(
    await handler({ n: 1 }, context),
    '1 smoke-1 app key',
    `${format}: withSecrets hands over secrets`,
  );
  assert.equal(await handler({ n: 2 }, context), '2 smoke-1 app key', `${format}: withSecrets, warm`);
  assert.deepEqual(
    viaLambda.calls.sort(),
    ['api-key', 'db'],
    `${format}: withSecrets fetched each secret once`,
  );

  const viaMiddy = fixture(lib);
  const middleware = middy.secretsMiddleware(viaMiddy.manifest, {
    cache: viaMiddy.cache,
    contextKey: 'vault',
  });
  const request = { event: {}, context: { ...context }, response: null, error: null, internal: {} };
  assert.equal(await middleware.before(request), undefined, `${format}: before() gives no early response`);
  assert.deepEqual(
    { ...request.context.vault },
    { db: { user: 'app' }, apiKey: 'key' },
    `${format}: context.vault`,
  );
  assert.equal(
    JSON.stringify(request.context.vault),
    '{"db":"<redacted>","apiKey":"<redacted>"}',
    `${format}: loaded secrets render redacted`,
  );
}

await checkIntegrations('esm', esm, await import('secretcache/lambda'), await import('secretcache/middy'));
await checkIntegrations('cjs', cjs, require('secretcache/lambda'), require('secretcache/middy'));
assert.equal(
  (await import('secretcache/lambda')).withSecrets.name,
  'withSecrets',
  'esm: secretcache/lambda resolves',
);

async function checkEnv(format, lib, env) {
  const { calls, cache } = fixture(lib);
  const loaded = await env.loadEnv({
    cache,
    env: { DB_USER: 'secretsmanager:db:user', API_KEY: '{{resolve:secretsmanager:api-key}}', HOME: '/root' },
  });
  assert.deepEqual(
    { ...loaded },
    { DB_USER: 'app', API_KEY: 'key' },
    `${format}: loadEnv resolves references`,
  );
  assert.equal(
    JSON.stringify(loaded),
    '{"DB_USER":"<redacted>","API_KEY":"<redacted>"}',
    `${format}: loadEnv's result renders redacted`,
  );
  assert.deepEqual(calls.sort(), ['api-key', 'db'], `${format}: loadEnv fetched each secret once`);
  assert.deepEqual(
    lib.parseSecretRef('db:user'),
    { secretId: 'db', jsonKey: 'user' },
    `${format}: parseSecretRef`,
  );
}

/**
 * A pg `Client` for `pool.Client`: logs in by calling the config's password function as pg does (the client as
 * `this`), accepts one password, and answers every query with the user's name.
 */
function fakePgClient(accepted) {
  const { EventEmitter } = require('node:events');
  return class FakeClient extends EventEmitter {
    constructor(config) {
      super();
      this.config = config;
      this.password = config.password;
      this._queryable = true;
      this._ending = false;
    }
    connect(callback) {
      Promise.resolve(typeof this.password === 'function' ? this.password() : this.password).then((given) =>
        given === accepted
          ? callback()
          : callback(Object.assign(new Error('password authentication failed'), { code: '28P01' })),
      );
    }
    async query() {
      return { rows: [{ user: this.config.user }] };
    }
    end(callback) {
      this._ending = true;
      callback?.();
    }
  };
}

async function checkRotationAndPg(format, lib, rotation, pgEntry) {
  assert.equal(typeof rotation.rotationHandler, 'function', `${format}: rotationHandler is exported`);
  assert.equal(typeof rotation.postgresTarget, 'function', `${format}: postgresTarget is exported`);
  const sent = [];
  const handler = rotation.rotationHandler(
    { setPending: async () => {}, testPending: async () => {} },
    { client: { send: async (command) => sent.push(command) }, log: false },
  );
  const error = await handler({ Step: 'rotate', SecretId: 'db', ClientRequestToken: 't' }).catch((e) => e);
  assert.ok(rotation.isRotationError(error), `${format}: a bad event is a RotationError`);
  assert.equal(error.code, 'INVALID_EVENT', `${format}: INVALID_EVENT`);
  assert.equal(sent.length, 0, `${format}: a bad event calls no AWS`);

  const source = {
    async getSecretValue({ secretId }) {
      return version(
        secretId,
        JSON.stringify({ username: 'app', password: 'pw', host: '127.0.0.1', port: 5432 }),
      );
    },
  };
  const pool = pgEntry.createPool({
    cache: new lib.SecretCache({ source }),
    secretId: 'db',
    pool: { Client: fakePgClient('pw') },
  });
  assert.deepEqual(
    (await pool.query('select current_user')).rows,
    [{ user: 'app' }],
    `${format}: createPool queries`,
  );
  await pool.end();
}

await checkRotationAndPg('esm', esm, await import('secretcache/rotation'), await import('secretcache/pg'));
await checkRotationAndPg('cjs', cjs, require('secretcache/rotation'), require('secretcache/pg'));

await checkEnv('esm', esm, await import('secretcache/env'));
await checkEnv('cjs', cjs, require('secretcache/env'));

async function checkSources(format, lib, http, testing) {
  assert.equal(typeof http.agentSource, 'function', `${format}: agentSource is exported`);
  assert.equal(typeof http.lambdaExtensionSource, 'function', `${format}: lambdaExtensionSource is exported`);
  assert.throws(
    () => http.agentSource({ host: '10.0.0.1' }),
    TypeError,
    `${format}: a non-loopback host is refused`,
  );
  const source = testing.memorySource();
  source.createSecret('smoke/live', 'first');
  const cache = new lib.SecretCache({ source });
  const live = await cache.live({ value: lib.secret.string('smoke/live') });
  assert.equal(live.value, 'first', `${format}: live reads over memorySource`);
  source.putSecretValue('smoke/live', 'second');
  await cache.refreshNow('smoke/live');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(live.value, 'second', `${format}: live follows a new version`);
  live.close();
  assert.equal(JSON.stringify(live), '{"value":"<redacted>"}', `${format}: live renders redacted`);
}

await checkSources('esm', esm, await import('secretcache/http'), await import('secretcache/testing'));
await checkSources('cjs', cjs, require('secretcache/http'), require('secretcache/testing'));

const child = `
  const { SecretCache } = require('secretcache');
  let calls = 0;
  const cache = new SecretCache({ retry: { retries: 1, minTimeoutMs: 0, maxTimeoutMs: 0 }, source: { async getSecretValue() {
    if (++calls === 1) throw Object.assign(new Error('flaky'), { name: 'ThrottlingException' });
    return { name: 'x', arn: 'x', versionId: 'v', versionStages: [], createdDate: undefined, secretString: 'ok' };
  } } });
  cache.getSecretString('x').then((v) => { if (v !== 'ok' || calls !== 2) process.exit(1); });
  const { withSecrets } = require('secretcache/lambda');
  const { secretsMiddleware } = require('secretcache/middy');
  const { loadEnv } = require('secretcache/env');
  if (typeof withSecrets !== 'function' || typeof secretsMiddleware !== 'function') process.exit(2);
  if (typeof loadEnv !== 'function') process.exit(3);
  if (typeof require('secretcache/rotation').rotationHandler !== 'function') process.exit(4);
  if (typeof require('secretcache/pg').createPool !== 'function') process.exit(5);
  if (typeof require('secretcache/http').agentSource !== 'function') process.exit(6);
  if (typeof require('secretcache/testing').memorySource !== 'function') process.exit(7);
`;
execFileSync(process.execPath, ['--no-experimental-require-module', '-e', child], { stdio: 'inherit' });

// The command, as npm links it: executable, a shebang, and the child's exit code passed on (no reference in
// the environment, so no AWS call).
const bin = new URL(packageJson.bin.secretcache, new URL('../../', import.meta.url));
assert.ok(statSync(bin).mode & 0o111, 'the bin is executable');
assert.ok(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n'), 'the bin starts with a shebang');
const exec = spawnSync(fileURLToPath(bin), ['exec', '--', process.execPath, '-e', 'process.exit(3)'], {
  env: { PATH: process.env.PATH, HOME: process.env.HOME },
  stdio: 'inherit',
});
assert.equal(exec.status, 3, 'secretcache exec passes the exit code on');

console.log('smoke: 15 passed, 0 failed');
