// Loads the built package the way users do, once as ESM and once as CommonJS, and reads through each against an
// in-memory source whose first answer is a transient failure, so p-retry runs. The CommonJS copy is also loaded
// in a child with require(esm) switched off, as on Node 20 before 20.19. Run after `npm run build`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const esm = await import('secretcache');
const cjs = require('secretcache');

async function check(format, lib) {
  assert.equal(typeof lib.SecretCache, 'function', `${format}: SecretCache is exported`);
  let calls = 0;
  const source = {
    async getSecretValue({ secretId }) {
      calls++;
      if (calls === 1) throw Object.assign(new Error('flaky'), { name: 'InternalServiceError' });
      return {
        name: secretId,
        arn: `arn:${secretId}`,
        versionId: 'v1',
        versionStages: ['AWSCURRENT'],
        createdDate: undefined,
        secretString: '{"a":1}',
      };
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

const child = `
  const { SecretCache } = require('secretcache');
  let calls = 0;
  const cache = new SecretCache({ retry: { retries: 1, minTimeoutMs: 0, maxTimeoutMs: 0 }, source: { async getSecretValue() {
    if (++calls === 1) throw Object.assign(new Error('flaky'), { name: 'ThrottlingException' });
    return { name: 'x', arn: 'x', versionId: 'v', versionStages: [], createdDate: undefined, secretString: 'ok' };
  } } });
  cache.getSecretString('x').then((v) => { if (v !== 'ok' || calls !== 2) process.exit(1); });
`;
execFileSync(process.execPath, ['--no-experimental-require-module', '-e', child], { stdio: 'inherit' });

console.log('smoke: 3 passed, 0 failed');
