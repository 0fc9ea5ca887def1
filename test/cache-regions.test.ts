import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretCache } from '../src/cache.js';
import type { FetchEvent } from '../src/events.js';
import { FakeClock } from './support/fakes.js';

// The `regions` option: one SDK client per region (each made on the first fetch), failing over on transient
// errors. The mocked SDK answers by the region of the client that sends.
const sm = mockClient(SecretsManagerClient);
const PRIMARY_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf';
let down: ReadonlySet<string>;
let asked: Array<{ region: string; secretId: string }>;

function unavailable(): Error {
  return Object.assign(new Error('Service unavailable'), {
    name: 'ServiceUnavailableException',
    $metadata: { httpStatusCode: 503 },
  });
}

beforeEach(() => {
  sm.reset();
  down = new Set();
  asked = [];
  sm.on(GetSecretValueCommand).callsFake(async (input: { SecretId: string }, getClient) => {
    const region = await getClient().config.region();
    asked.push({ region, secretId: input.SecretId });
    if (down.has(region)) throw unavailable();
    if (input.SecretId.startsWith('missing')) {
      throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
    }
    return {
      Name: 'prod/db',
      ARN: input.SecretId.startsWith('arn:') ? input.SecretId : PRIMARY_ARN.replace('us-east-1', region),
      VersionId: 'v1',
      VersionStages: ['AWSCURRENT'],
      SecretString: `value-from-${region}`,
    };
  });
});

function cacheOver(regions: readonly string[], fetches: FetchEvent[] = []) {
  return new SecretCache({
    regions,
    clock: new FakeClock(),
    retry: { retries: 0 },
    hooks: { onFetch: (event) => fetches.push(event) },
  });
}

describe('SecretCache regions', () => {
  it('reads from the primary region while it answers, and says so in the record and the fetch event', async () => {
    const fetches: FetchEvent[] = [];
    const cache = cacheOver(['us-east-1', 'eu-west-1'], fetches);

    const record = await cache.getSecretValue('prod/db');

    expect(record.secretString).toBe('value-from-us-east-1');
    expect(record.region).toBe('us-east-1');
    expect(fetches[0]?.region).toBe('us-east-1');
    expect(asked).toEqual([{ region: 'us-east-1', secretId: 'prod/db' }]);
    expect(JSON.parse(JSON.stringify(record))).toMatchObject({ region: 'us-east-1' });
  });

  it('fails over to the replica when the primary fails transiently, with the ARN in the replica region', async () => {
    down = new Set(['us-east-1']);
    const cache = cacheOver(['us-east-1', 'eu-west-1']);

    const record = await cache.getSecretValue(PRIMARY_ARN);

    expect(record.secretString).toBe('value-from-eu-west-1');
    expect(record.region).toBe('eu-west-1');
    expect(asked.map(({ region, secretId }) => [region, secretId])).toEqual([
      ['us-east-1', PRIMARY_ARN],
      ['eu-west-1', PRIMARY_ARN.replace('us-east-1', 'eu-west-1')],
    ]);
  });

  it('does not fail over on a permanent error', async () => {
    const cache = cacheOver(['us-east-1', 'eu-west-1']);

    await expect(cache.getSecretString('missing/db')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(asked.map(({ region }) => region)).toEqual(['us-east-1']);
  });

  it('skips a failing primary for a while: an outage costs one primary attempt, not one per fetch', async () => {
    down = new Set(['us-east-1']);
    const cache = cacheOver(['us-east-1', 'eu-west-1']);

    for (let i = 0; i < 10; i++) await cache.refreshNow('prod/db');

    expect(asked.filter(({ region }) => region === 'us-east-1')).toHaveLength(1);
    expect(asked.filter(({ region }) => region === 'eu-west-1')).toHaveLength(10);
  });

  it.each([
    [{ regions: [] }, 'regions'],
    [{ regions: ['us-east-1', 'us-east-1'] }, 'regions'],
    [{ regions: ['US-EAST-1'] }, 'regions'],
    [{ regions: 'us-east-1' }, 'regions'],
    [{ regions: ['us-east-1'], client: new SecretsManagerClient({}) }, 'client'],
    [{ regions: ['us-east-1'], source: { getSecretValue: async () => ({}) } }, 'source'],
  ])('refuses %j with a TypeError naming %s', (options, named) => {
    expect(() => new SecretCache(options as never)).toThrow(TypeError);
    expect(() => new SecretCache(options as never)).toThrow(named);
  });
});
