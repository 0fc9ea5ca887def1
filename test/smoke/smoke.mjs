// Loads the built package the way users do, once as ESM and once as CommonJS, and makes one warm read
// through each against an in-memory source. Run after `npm run build`.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const esm = await import('secretcache');
const cjs = require('secretcache');

for (const [format, lib] of [
  ['esm', esm],
  ['cjs', cjs],
]) {
  assert.equal(typeof lib.SecretCache, 'function', `${format}: SecretCache is exported`);
  let calls = 0;
  const source = {
    async getSecretValue({ secretId }) {
      calls++;
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
  const cache = new lib.SecretCache({ source });
  assert.deepEqual(await cache.getSecretJson('smoke'), { a: 1 }, `${format}: reads JSON`);
  assert.deepEqual(await cache.getSecretJson('smoke'), { a: 1 }, `${format}: reads warm JSON`);
  assert.equal(calls, 1, `${format}: one fetch for two reads`);
  const error = await cache.getSecretString('').catch((e) => e);
  assert.ok(
    esm.isSecretCacheError(error) && cjs.isSecretCacheError(error),
    `${format}: errors are recognised by both builds`,
  );
  assert.equal(error.code, 'INVALID_ARGUMENT');
}
console.log('smoke: 2 passed, 0 failed (esm and cjs builds load and read)');
