/**
 * What `secretcache/http` is made of: no AWS SDK anywhere in its module graph (it is bundled here from source,
 * every import followed), only `import type` from the SDK source's module, runtime values from the error and
 * option modules only; and its AWS error table in step with the SDK source's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { CODE_BY_AWS_NAME } from '../../src/aws-errors.js';
import { toSecretCacheError } from '../../src/source.js';

const root = join(import.meta.dirname, '..', '..');
const httpDir = join(root, 'src', 'http');

describe('the secretcache/http module graph', () => {
  it('bundles from src/http.ts without the AWS SDK, p-retry or the cache', async () => {
    const result = await build({
      entryPoints: [join(root, 'src', 'http.ts')],
      bundle: true,
      write: false,
      metafile: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs).sort();

    expect(inputs.filter((input) => input.includes('node_modules'))).toEqual([]);
    expect(inputs).toEqual(
      [
        'src/aws-errors.ts',
        'src/describe.ts',
        'src/errors.ts',
        'src/http.ts',
        ...readdirSync(httpDir)
          .filter((file) => file.endsWith('.ts'))
          .map((file) => `src/http/${file}`)
          .sort(),
        'src/option-table.ts',
      ].sort(),
    );
    const output = result.outputFiles[0]?.text ?? '';
    expect(output).not.toMatch(/@aws-sdk/);
    // node:fs/promises is imported on demand (an Agent token in a file): a cold start does not load it.
    expect([...output.matchAll(/from\s*"([^"]+)"/g)].map(([, from]) => from).sort()).toEqual(['node:http']);
    expect([...output.matchAll(/import\("([^"]+)"\)/g)].map(([, from]) => from)).toEqual([
      'node:fs/promises',
    ]);
  });

  it('imports only types from src/source.ts', () => {
    for (const file of readdirSync(httpDir).filter((name) => name.endsWith('.ts'))) {
      const text = readFileSync(join(httpDir, file), 'utf8');
      for (const [statement] of text.matchAll(/^import[^;]*'\.\.\/source\.js';/gm)) {
        expect(statement, `${file}: ${statement}`).toMatch(/^import type /);
      }
    }
  });
});

describe('the AWS error table', () => {
  it('gives every AWS error name the code the SDK source gives it', () => {
    for (const [name, code] of CODE_BY_AWS_NAME) {
      expect([name, toSecretCacheError(Object.assign(new Error('x'), { name }), 'id').code]).toEqual([
        name,
        code,
      ]);
    }
  });
});
