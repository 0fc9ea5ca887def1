import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SecretCache, secret } from '../src/index.js';
import { FakeSource } from './support/fakes.js';
import { expectNoFragment, renderingsOf } from './support/leaks.js';

const API_KEY = 'sk_live_Hf83JdKq0PzX';

function cacheWithApiKey(): SecretCache {
  const source = new FakeSource();
  source.put('prod/api', API_KEY);
  return new SecretCache({ source });
}

describe('what load resolves to, rendered', () => {
  it('quotes a key that is not an identifier, as a JavaScript object literal would', async () => {
    const cache = cacheWithApiKey();

    const secrets = await cache.load({
      apiKey: secret.string('prod/api'),
      'db-url': secret.string('prod/api'),
      '2nd': secret.string('prod/api'),
      $ref_1: secret.string('prod/api'),
    });

    const expected =
      'LoadedSecrets { apiKey: <redacted>, "db-url": <redacted>, "2nd": <redacted>, $ref_1: <redacted> }';
    expect(inspect(secrets)).toBe(expected);
    expect(String(secrets)).toBe(expected);
    expectNoFragment(renderingsOf(secrets), API_KEY);
  });

  it('renders an empty manifest as an empty LoadedSecrets', async () => {
    const cache = cacheWithApiKey();

    const secrets = await cache.load({});

    expect(inspect(secrets)).toBe('LoadedSecrets {}');
    expect(String(secrets)).toBe('LoadedSecrets {}');
    expect(JSON.stringify(secrets)).toBe('{}');
  });

  it('renders each key as JSON with its value redacted', async () => {
    const cache = cacheWithApiKey();

    const secrets = await cache.load({
      apiKey: secret.string('prod/api'),
      'db-url': secret.string('prod/api'),
    });

    expect(JSON.parse(JSON.stringify(secrets))).toEqual({ apiKey: '<redacted>', 'db-url': '<redacted>' });
  });
});

describe('a manifest entry named toJSON', () => {
  it('is rejected before any fetch, saying it would decide the JSON rendering', async () => {
    const source = new FakeSource();
    source.put('prod/api', API_KEY);
    const cache = new SecretCache({ source });

    const error = await cache.load({ toJSON: secret.string('prod/api') }).catch((e: unknown) => e);

    expect(error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message:
        'Manifest entry `toJSON`: Expected no manifest entry named `toJSON`: it would decide how the loaded secrets are rendered as JSON.',
    });
    expect(source.calls).toEqual([]);
  });
});
