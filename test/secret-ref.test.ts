import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SecretCache } from '../src/cache.js';
import { isSecretCacheError, type SecretCacheError } from '../src/errors.js';
import { secret } from '../src/manifest.js';
import { parseSecretRef, type SecretRef } from '../src/secret-ref.js';
import { expectNoFragment, renderingsOf } from './support/leaks.js';
import { MemoryClient } from './support/memory-client.js';
import { propertyRuns } from './support/runs.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:myapp/prod/db-AbCdEf';
const VERSION_ID = 'EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE';

/** The error `fn` throws, or a failure when it throws nothing. */
function thrown(fn: () => unknown): SecretCacheError {
  try {
    fn();
  } catch (error) {
    return error as SecretCacheError;
  }
  throw new Error('expected a throw');
}

describe('parseSecretRef: the forms users already write', () => {
  it.each<[string, string, SecretRef]>([
    // ECS valueFrom: the whole ARN, or the ARN and exactly three option fields.
    ['an ECS ARN', ARN, { secretId: ARN }],
    ['an ECS ARN with a JSON key', `${ARN}:password::`, { secretId: ARN, jsonKey: 'password' }],
    ['an ECS ARN with a stage', `${ARN}::AWSPREVIOUS:`, { secretId: ARN, versionStage: 'AWSPREVIOUS' }],
    [
      'an ECS ARN with a key and a version id',
      `${ARN}:password::${VERSION_ID}`,
      { secretId: ARN, jsonKey: 'password', versionId: VERSION_ID },
    ],
    ['an ECS ARN with three empty fields', `${ARN}:::`, { secretId: ARN }],
    [
      'an ARN of the aws-cn partition',
      'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:app/db-AbCdEf:password::',
      {
        secretId: 'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:app/db-AbCdEf',
        jsonKey: 'password',
      },
    ],
    [
      'an ARN of the aws-us-gov partition',
      'arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:app/db-AbCdEf',
      { secretId: 'arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:app/db-AbCdEf' },
    ],
    [
      'an ARN of the aws-iso-b partition',
      'arn:aws-iso-b:secretsmanager:us-isob-east-1:123456789012:secret:db-AbCdEf',
      { secretId: 'arn:aws-iso-b:secretsmanager:us-isob-east-1:123456789012:secret:db-AbCdEf' },
    ],
    // CloudFormation dynamic references.
    [
      'a dynamic reference with a JSON key',
      '{{resolve:secretsmanager:myapp/prod/db:SecretString:password}}',
      { secretId: 'myapp/prod/db', jsonKey: 'password' },
    ],
    [
      'a dynamic reference to a name',
      '{{resolve:secretsmanager:myapp/prod/db}}',
      { secretId: 'myapp/prod/db' },
    ],
    [
      'a dynamic reference ending with SecretString',
      '{{resolve:secretsmanager:myapp/prod/db:SecretString}}',
      { secretId: 'myapp/prod/db' },
    ],
    [
      'a dynamic reference with a stage',
      '{{resolve:secretsmanager:myapp/prod/db:SecretString:password:AWSPREVIOUS}}',
      { secretId: 'myapp/prod/db', jsonKey: 'password', versionStage: 'AWSPREVIOUS' },
    ],
    [
      'a dynamic reference with a version id',
      `{{resolve:secretsmanager:myapp/prod/db:SecretString:password::${VERSION_ID}}}`,
      { secretId: 'myapp/prod/db', jsonKey: 'password', versionId: VERSION_ID },
    ],
    [
      'a dynamic reference to an ARN',
      `{{resolve:secretsmanager:${ARN}:SecretString:password}}`,
      { secretId: ARN, jsonKey: 'password' },
    ],
    [
      'a dynamic reference with the SecretString field left empty',
      '{{resolve:secretsmanager:myapp/prod/db::password}}',
      { secretId: 'myapp/prod/db', jsonKey: 'password' },
    ],
    // A name followed by options (CodeBuild's secrets-manager variables).
    [
      'a name, a key and a stage',
      'myapp/prod/db:password:AWSCURRENT',
      { secretId: 'myapp/prod/db', jsonKey: 'password', versionStage: 'AWSCURRENT' },
    ],
    ['a name and a key', 'myapp/prod/db:password', { secretId: 'myapp/prod/db', jsonKey: 'password' }],
    [
      'a name and a stage',
      'myapp/prod/db::AWSPREVIOUS',
      { secretId: 'myapp/prod/db', versionStage: 'AWSPREVIOUS' },
    ],
    [
      'a name and a version id',
      `myapp/prod/db:::${VERSION_ID}`,
      { secretId: 'myapp/prod/db', versionId: VERSION_ID },
    ],
    ['a name and empty fields', 'myapp/prod/db:::', { secretId: 'myapp/prod/db' }],
    // Plain names.
    ['a plain name', 'myapp/prod/db', { secretId: 'myapp/prod/db' }],
    [
      'a name with every character a name may have',
      'a/b_c+d=e.f@g-h/0-9',
      { secretId: 'a/b_c+d=e.f@g-h/0-9' },
    ],
    ['a name of 512 characters', 'n'.repeat(512), { secretId: 'n'.repeat(512) }],
  ])('reads %s', (_, ref, expected) => {
    const parsed = parseSecretRef(ref);

    expect(parsed).toEqual(expected);
    expect(Object.isFrozen(parsed)).toBe(true);
  });
});

describe('parseSecretRef: malformed references', () => {
  const ECS = 'arn:aws:secretsmanager:region:account-id:secret:name:json-key:version-stage:version-id';
  const NAME = 'name:json-key:version-stage:version-id';
  const CFN = '{{resolve:secretsmanager:secret-id:SecretString:json-key:version-stage:version-id}}';

  it.each<[string, unknown, string]>([
    ['an empty string', '', NAME],
    ['an ECS ARN with one option field (ECS wants the trailing colons)', `${ARN}:password`, ECS],
    ['an ECS ARN with two option fields', `${ARN}:password:`, ECS],
    ['an ECS ARN with four option fields', `${ARN}:password::::`, ECS],
    ['an ECS ARN with a stage and a version id', `${ARN}:password:AWSCURRENT:${VERSION_ID}`, ECS],
    ['an ARN of another service', 'arn:aws:ssm:us-east-1:123456789012:parameter/db', ECS],
    ['an ARN cut short', 'arn:aws:secretsmanager:us-east-1:123456789012:secret', ECS],
    ['an ARN with an empty name', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:', ECS],
    [
      'an ARN whose account id is not 12 digits',
      'arn:aws:secretsmanager:us-east-1:1234:secret:db-AbCdEf',
      ECS,
    ],
    ['an ARN of no AWS partition', 'arn:azure:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf', ECS],
    ['an ARN with an empty region', 'arn:aws:secretsmanager::123456789012:secret:db-AbCdEf', ECS],
    ['an ARN whose resource is not a secret', 'arn:aws:secretsmanager:us-east-1:123456789012:db:x', ECS],
    ['a name with four option fields', 'myapp/prod/db:password:AWSCURRENT::extra', NAME],
    ['a name with a stage and a version id', `myapp/prod/db:password:AWSCURRENT:${VERSION_ID}`, NAME],
    ['options without a name', ':password', NAME],
    ['a name with a space', 'myapp/prod db', NAME],
    ['a name with a newline', 'myapp/prod/db\n', NAME],
    ['a name of 513 characters', 'n'.repeat(513), NAME],
    ['a stage of 257 characters', `db::${'S'.repeat(257)}`, NAME],
    ['a version id of 65 characters', `db:::${'v'.repeat(65)}`, NAME],
    ['a JSON key with a control character', 'db:pass\u0007word', NAME],
    ['a dynamic reference of another service', '{{resolve:ssm:/myapp/db}}', CFN],
    ['a dynamic reference without its closing braces', '{{resolve:secretsmanager:myapp/prod/db', CFN],
    ['a dynamic reference without a secret id', '{{resolve:secretsmanager:}}', CFN],
    ['a dynamic reference reading SecretBinary', '{{resolve:secretsmanager:db:SecretBinary:password}}', CFN],
    [
      'a dynamic reference with five fields',
      '{{resolve:secretsmanager:db:SecretString:a:AWSCURRENT::x}}',
      CFN,
    ],
    [
      'a dynamic reference with a stage and a version id',
      `{{resolve:secretsmanager:db:SecretString:password:AWSCURRENT:${VERSION_ID}}}`,
      CFN,
    ],
    ['a dynamic reference to a malformed ARN', '{{resolve:secretsmanager:arn:aws:secretsmanager:x}}', CFN],
  ])('rejects %s with INVALID_ARGUMENT showing the form expected', (_, ref, form) => {
    const error = thrown(() => parseSecretRef(ref as string));

    expect(isSecretCacheError(error)).toBe(true);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.secretId).toBe(ref);
    expect(error.message).toContain(form);
  });

  it.each([undefined, null, 42, { secretId: 'db' }])('rejects %o, which is not a string', (ref) => {
    const error = thrown(() => parseSecretRef(ref as never));

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.secretId).toBe('');
  });

  it('names the field count and the character that is wrong', () => {
    expect(thrown(() => parseSecretRef(`${ARN}:password`)).message).toContain(
      'has 3 fields in its resource part',
    );
    expect(thrown(() => parseSecretRef('my db')).message).toContain('not U+0020 (at index 2)');
    expect(thrown(() => parseSecretRef('db:a:b:c:d')).message).toContain('has 4 fields after the name');
  });
});

describe('parseSecretRef: properties', () => {
  const NAME_CHARS = [...'abcxyzABCXYZ0189/_+=.@-'];
  const name = fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 30 });
  const arn = fc
    .record({
      partition: fc.constantFrom('aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b'),
      region: fc.constantFrom('us-east-1', 'cn-north-1', 'us-gov-west-1', 'eu-central-2'),
      account: fc.stringMatching(/^\d{12}$/),
      name,
      suffix: fc.stringMatching(/^[A-Za-z0-9]{6}$/),
    })
    .map(
      ({ partition, region, account, name, suffix }) =>
        `arn:${partition}:secretsmanager:${region}:${account}:secret:${name}-${suffix}`,
    );
  // Any text but `:` (the separator) and control characters, which no reference may hold.
  const jsonKey = fc
    .string({ minLength: 1, maxLength: 12, unit: 'grapheme' })
    .filter((key) => !key.includes(':') && !/\p{Cc}/u.test(key));
  const versionStage = fc.stringMatching(/^[A-Za-z0-9_.@+=-]{1,20}$/);
  const versionId = fc.uuid();
  const version = fc.oneof(
    fc.constant({}),
    versionStage.map((versionStage) => ({ versionStage })),
    versionId.map((versionId) => ({ versionId })),
  );
  const parts = fc.record({ jsonKey: fc.option(jsonKey, { nil: undefined }), version });

  /** The reference's fields after the id: json-key, version-stage, version-id, empty where unset. */
  const optionFields = (jsonKey: string | undefined, v: { versionStage?: string; versionId?: string }) => [
    jsonKey ?? '',
    v.versionStage ?? '',
    v.versionId ?? '',
  ];
  /** Drops trailing empty fields, then adds back `extra` of them (at most as many as were dropped). */
  const trimmed = (fields: string[], extra: number): string[] => {
    let end = fields.length;
    while (end > 0 && fields[end - 1] === '') end--;
    return fields.slice(0, Math.min(fields.length, end + extra));
  };
  const expected = (secretId: string, jsonKey: string | undefined, v: object): SecretRef => ({
    secretId,
    ...(jsonKey === undefined ? {} : { jsonKey }),
    ...v,
  });

  it('gives back the parts an ECS reference was built from', () => {
    fc.assert(
      fc.property(arn, parts, (id, { jsonKey, version }) => {
        const fields = optionFields(jsonKey, version);
        const ref = fields.every((field) => field === '') ? id : `${id}:${fields.join(':')}`;

        expect(parseSecretRef(ref)).toEqual(expected(id, jsonKey, version));
      }),
    );
  });

  it('gives back the parts a dynamic reference was built from', () => {
    fc.assert(
      fc.property(
        fc.oneof(name, arn),
        parts,
        fc.nat(4),
        fc.constantFrom('SecretString', ''),
        (id, { jsonKey, version }, extra, secretString) => {
          const fields = trimmed([secretString, ...optionFields(jsonKey, version)], extra);
          const ref = `{{resolve:secretsmanager:${[id, ...fields].join(':')}}}`;

          expect(parseSecretRef(ref)).toEqual(expected(id, jsonKey, version));
        },
      ),
    );
  });

  it('gives back the parts a name followed by options was built from', () => {
    fc.assert(
      fc.property(name, parts, fc.nat(3), (id, { jsonKey, version }, extra) => {
        const ref = [id, ...trimmed(optionFields(jsonKey, version), extra)].join(':');

        expect(parseSecretRef(ref)).toEqual(expected(id, jsonKey, version));
      }),
    );
  });

  it('parses any string or throws INVALID_ARGUMENT, nothing else', () => {
    const prefixed = fc
      .tuple(
        fc.constantFrom(
          '',
          'arn:',
          'arn:aws:secretsmanager:us-east-1:123456789012:secret:',
          `${ARN}:`,
          '{{resolve:secretsmanager:',
          '{{',
          'db:',
        ),
        fc.string({ unit: fc.constantFrom(':', 'a', '/', ' ', '}', '{', '\n', 'é', 'S') }),
        fc.constantFrom('', '}}', ':', ':::'),
      )
      .map((pieces) => pieces.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), prefixed), (ref) => {
        let parsed: SecretRef;
        try {
          parsed = parseSecretRef(ref);
        } catch (error) {
          expect(isSecretCacheError(error) && error.code).toBe('INVALID_ARGUMENT');
          return;
        }
        // Whatever parses is something the cache can be asked for.
        const { secretId, versionStage, versionId } = parsed;
        const selector = {
          ...(versionStage === undefined ? {} : { versionStage }),
          ...(versionId === undefined ? {} : { versionId }),
        };
        expect(() => secret.string(secretId, selector)).not.toThrow();
      }),
      { numRuns: propertyRuns(2_000) },
    );
  });
});

describe('secret.ref', () => {
  function setup() {
    const client = new MemoryClient();
    const cache = new SecretCache({ client, retry: { retries: 0 } });
    return { client, cache };
  }
  const DB = {
    username: 'app',
    password: 'Zq8vL2mW4pR7xK9t',
    port: 5432,
    tls: { ca: 'x' },
    primary: true,
  };

  it('makes a frozen manifest entry from the reference', () => {
    const spec = secret.ref('myapp/prod/db:password:AWSPREVIOUS');

    expect(spec).toEqual({
      kind: 'ref',
      secretId: 'myapp/prod/db',
      key: 'password',
      versionStage: 'AWSPREVIOUS',
    });
    expect(Object.isFrozen(spec)).toBe(true);
    expect(secret.ref(`${ARN}:::${VERSION_ID}`)).toEqual({
      kind: 'ref',
      secretId: ARN,
      versionId: VERSION_ID,
    });
  });

  it('loads the secret string, a string field as it is, and any other field as its JSON text', async () => {
    const { client, cache } = setup();
    client.put('myapp/prod/db', JSON.stringify(DB));
    client.put('myapp/prod/api-key', 'sk_live_1234567890');

    const loaded = await cache.load({
      apiKey: secret.ref('myapp/prod/api-key'),
      password: secret.ref('{{resolve:secretsmanager:myapp/prod/db:SecretString:password}}'),
      port: secret.ref('myapp/prod/db:port'),
      tls: secret.ref('myapp/prod/db:tls'),
      primary: secret.ref('myapp/prod/db:primary'),
      whole: secret.ref('myapp/prod/db'),
    });

    expect({ ...loaded }).toEqual({
      apiKey: 'sk_live_1234567890',
      password: DB.password,
      port: '5432',
      tls: '{"ca":"x"}',
      primary: 'true',
      whole: JSON.stringify(DB),
    });
  });

  it('loads with the rest of the manifest: one BatchGetSecretValue for every AWSCURRENT id', async () => {
    const { client, cache } = setup();
    client.put('myapp/prod/db', JSON.stringify(DB));
    client.put('myapp/prod/api-key', 'k');

    await cache.load({
      user: secret.ref('myapp/prod/db:username'),
      password: secret.ref('myapp/prod/db:password'),
      db: secret.json('myapp/prod/db'),
      apiKey: secret.ref('myapp/prod/api-key'),
    });
    await cache.load({ password: secret.ref('myapp/prod/db:password') });

    expect(client.calls).toEqual([
      { operation: 'BatchGetSecretValue', secretIds: ['myapp/prod/db', 'myapp/prod/api-key'] },
    ]);
  });

  it('validates the string with a schema, once per version', async () => {
    const { client, cache } = setup();
    client.put('myapp/prod/db', JSON.stringify(DB));
    let validations = 0;
    const Port = z.coerce
      .number()
      .int()
      .refine(() => ++validations > 0);
    const manifest = { port: secret.ref('myapp/prod/db:port', { schema: Port }) };

    const first = await cache.load(manifest);
    const second = await cache.load(manifest);

    expect(first.port).toBe(5432);
    expect(second.port).toBe(5432);
    expect(validations).toBe(1);
  });

  it('fails with MISSING_KEY for an absent field and SCHEMA_MISMATCH for a bad value, without the value', async () => {
    const { client, cache } = setup();
    client.put('myapp/prod/db', JSON.stringify(DB));

    const error = (await cache
      .load({
        missing: secret.ref('myapp/prod/db:pasword'),
        short: secret.ref('myapp/prod/db:password', { schema: z.string().max(4) }),
      })
      .catch((e: unknown) => e)) as SecretCacheError;

    expect(error.code).toBe('LOAD_FAILED');
    expect(error.errors.map(({ key, code }) => [key, code])).toEqual([
      ['missing', 'MISSING_KEY'],
      ['short', 'SCHEMA_MISMATCH'],
    ]);
    expectNoFragment(renderingsOf(error), DB.password);
    for (const failure of error.errors) expectNoFragment(renderingsOf(failure.error), DB.password);
  });

  it('renders what load resolves to redacted', async () => {
    const { client, cache } = setup();
    client.put('myapp/prod/db', JSON.stringify(DB));

    const loaded = await cache.load({ password: secret.ref('myapp/prod/db:password') });

    expect(JSON.stringify(loaded)).toBe('{"password":"<redacted>"}');
    expectNoFragment(renderingsOf(loaded), DB.password);
  });

  it('fails with WRONG_TYPE for a binary secret', async () => {
    const { client, cache } = setup();
    client.put('tls', new Uint8Array([1, 2, 3]));

    const error = (await cache.load({ tls: secret.ref('tls') }).catch((e: unknown) => e)) as SecretCacheError;

    expect(error.errors.map(({ code }) => code)).toEqual(['WRONG_TYPE']);
  });

  it.each<[string, () => unknown, string]>([
    ['a malformed reference', () => secret.ref('db:a:b:c:d'), 'db:a:b:c:d'],
    ['an unknown option', () => secret.ref('db', { schem: z.string() } as never), 'db'],
    ['options that are not an object', () => secret.ref('db', 'password' as never), 'db'],
    ['a schema that is not one', () => secret.ref('db', { schema: {} as never }), 'db'],
  ])('throws INVALID_ARGUMENT for %s, when called', (_, build, ref) => {
    const error = thrown(build);

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.secretId).toBe(ref);
  });

  it('suggests the option meant', () => {
    expect(thrown(() => secret.ref('db', { schem: z.string() } as never)).message).toBe(
      'Unknown option `schem` in options of secret.ref; did you mean `schema`?',
    );
  });
});
