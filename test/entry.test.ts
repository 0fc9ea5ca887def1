import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { CachedVersion } from '../src/entry.js';
import { isSecretCacheError } from '../src/errors.js';
import type { StandardSchemaV1 } from '../src/schema.js';
import type { SecretVersion } from '../src/source.js';
import { expectNoBytes, expectNoFragment, renderingsOf } from './support/leaks.js';

const JSON_TEXT = '{"user":"app","password":"hunter2-JSONVALUE","nested":{"port":5432}}';
const STRING_TEXT = 'plain-SECRETVALUE-text';
const BYTES = [201, 202, 203, 204];

function stringVersion(secretString: string): SecretVersion {
  return {
    name: 'prod/db',
    arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf',
    versionId: 'v-1',
    versionStages: ['AWSCURRENT'],
    createdDate: new Date('2024-05-01T12:00:00.000Z'),
    secretString,
  };
}

function binaryVersion(): SecretVersion {
  return {
    name: 'prod/tls',
    arn: 'arn:tls',
    versionId: 'v-2',
    versionStages: ['AWSCURRENT'],
    createdDate: undefined,
    secretBinary: Uint8Array.from(BYTES),
  };
}

function entryOf(version: SecretVersion): CachedVersion {
  return new CachedVersion(
    { key: version.name, secretId: version.name, versionStage: 'AWSCURRENT', versionId: undefined },
    version,
    0,
    1_000,
    1_000,
  );
}

/** A Standard Schema whose validate is a spy and whose output wraps the input, tagged. */
function spySchema(tag: string) {
  const validate = vi.fn((value: unknown) => ({ value: { tag, value } }));
  const schema: StandardSchemaV1<unknown, { tag: string; value: unknown }> = {
    '~standard': { version: 1, vendor: 'test', validate },
  };
  return { schema, validate };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('CachedVersion metadata', () => {
  it('keeps its key, secret id, fetch time, expiry and refresh time and the version id', () => {
    const entry = new CachedVersion(
      {
        key: 'prod/db\0s\0AWSPREVIOUS',
        secretId: 'prod/db',
        versionStage: 'AWSPREVIOUS',
        versionId: undefined,
      },
      stringVersion('s'),
      10,
      20,
      15,
    );

    expect(entry).toMatchObject({
      key: 'prod/db\0s\0AWSPREVIOUS',
      secretId: 'prod/db',
      fetchedAt: 10,
      expiresAt: 20,
      refreshAt: 15,
      versionStage: 'AWSPREVIOUS',
      versionId: undefined,
      fetchedVersionId: 'v-1',
    });
  });
});

describe('CachedVersion.readString', () => {
  it('resolves to the string value', async () => {
    await expect(entryOf(stringVersion(STRING_TEXT)).readString()).resolves.toBe(STRING_TEXT);
  });

  it('returns the same promise on every read', () => {
    const entry = entryOf(stringVersion(STRING_TEXT));

    const first = entry.readString();

    expect(entry.readString()).toBe(first);
    expect(entry.string).toBe(first);
  });

  it('rejects with WRONG_TYPE for a binary secret', async () => {
    const error = await rejectionOf(entryOf(binaryVersion()).readString());

    expect(isSecretCacheError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'WRONG_TYPE', secretId: 'prod/tls' });
  });
});

describe('CachedVersion.readBinary', () => {
  it('resolves to the bytes', async () => {
    await expect(entryOf(binaryVersion()).readBinary()).resolves.toEqual(Uint8Array.from(BYTES));
  });

  it('hands out a new copy on every read', async () => {
    const entry = entryOf(binaryVersion());

    const first = await entry.readBinary();
    const second = await entry.readBinary();

    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    expect(second.buffer).not.toBe(first.buffer);
  });

  it('is unaffected by a caller zeroing the copy it got', async () => {
    const entry = entryOf(binaryVersion());

    const first = await entry.readBinary();
    first.fill(0);
    const next = await entry.readBinary();

    expect(next).toEqual(Uint8Array.from(BYTES));
  });

  it('rejects with WRONG_TYPE for a string secret', async () => {
    const error = await rejectionOf(entryOf(stringVersion(STRING_TEXT)).readBinary());

    expect(isSecretCacheError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'WRONG_TYPE', secretId: 'prod/db' });
  });
});

describe('CachedVersion.readJson', () => {
  it('resolves to the parsed value, deep-frozen', async () => {
    const value = (await entryOf(stringVersion(JSON_TEXT)).readJson()) as { nested: { port: number } };

    expect(value).toEqual({ user: 'app', password: 'hunter2-JSONVALUE', nested: { port: 5432 } });
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.nested)).toBe(true);
  });

  it('parses once, however many times it is read, and returns the same object', async () => {
    const parse = vi.spyOn(JSON, 'parse');
    const entry = entryOf(stringVersion(JSON_TEXT));

    const values = [await entry.readJson(), await entry.readJson(), await entry.readJson()];

    expect(parse.mock.calls.filter(([text]) => text === JSON_TEXT)).toHaveLength(1);
    expect(values[1]).toBe(values[0]);
    expect(values[2]).toBe(values[0]);
  });

  it('rejects with INVALID_JSON for a string that is not JSON, and parses it only once', async () => {
    const parse = vi.spyOn(JSON, 'parse');
    const entry = entryOf(stringVersion('{"password":"hunter2'));

    const first = await rejectionOf(entry.readJson());
    const second = await rejectionOf(entry.readJson());

    expect(first).toMatchObject({ code: 'INVALID_JSON', secretId: 'prod/db' });
    expect(second).toBe(first);
    expect(parse.mock.calls.filter(([text]) => text === '{"password":"hunter2')).toHaveLength(1);
  });

  it('rejects with WRONG_TYPE for a binary secret', async () => {
    const error = await rejectionOf(entryOf(binaryVersion()).readJson());

    expect(error).toMatchObject({ code: 'WRONG_TYPE', secretId: 'prod/tls' });
  });
});

describe('CachedVersion.readValidated', () => {
  it("resolves to the schema's output, deep-frozen", async () => {
    const schema = z.object({ user: z.string(), nested: z.object({ port: z.number() }) });

    const output = (await entryOf(stringVersion(JSON_TEXT)).readValidated(schema)) as z.infer<typeof schema>;

    expect(output).toEqual({ user: 'app', nested: { port: 5432 } });
    expect(Object.isFrozen(output)).toBe(true);
    expect(Object.isFrozen(output.nested)).toBe(true);
  });

  it('validates once for many reads with one schema, returning the same output', async () => {
    const { schema, validate } = spySchema('a');
    const entry = entryOf(stringVersion(JSON_TEXT));

    const outputs = [
      await entry.readValidated(schema),
      await entry.readValidated(schema),
      await entry.readValidated(schema),
    ];

    expect(validate).toHaveBeenCalledTimes(1);
    expect(outputs[1]).toBe(outputs[0]);
    expect(outputs[2]).toBe(outputs[0]);
  });

  it('validates once per schema when reads alternate between two schemas', async () => {
    const a = spySchema('a');
    const b = spySchema('b');
    const entry = entryOf(stringVersion(JSON_TEXT));

    for (let round = 0; round < 3; round++) {
      await entry.readValidated(a.schema);
      await entry.readValidated(b.schema);
    }

    expect(a.validate).toHaveBeenCalledTimes(1);
    expect(b.validate).toHaveBeenCalledTimes(1);
  });

  it('returns the same output for a schema after another schema was read in between', async () => {
    const a = spySchema('a');
    const b = spySchema('b');
    const entry = entryOf(stringVersion(JSON_TEXT));

    const firstA = await entry.readValidated(a.schema);
    await entry.readValidated(b.schema);
    const secondA = await entry.readValidated(a.schema);

    expect(secondA).toBe(firstA);
    expect(a.validate).toHaveBeenCalledTimes(1);
  });

  it('gives each schema its own output from the same parsed value', async () => {
    const a = spySchema('a');
    const b = spySchema('b');
    const entry = entryOf(stringVersion(JSON_TEXT));
    const json = await entry.readJson();

    const outputA = await entry.readValidated(a.schema);
    const outputB = await entry.readValidated(b.schema);

    expect(outputA).toEqual({ tag: 'a', value: json });
    expect(outputB).toEqual({ tag: 'b', value: json });
    expect(a.validate.mock.calls[0]?.[0]).toBe(json);
  });

  it('rejects with SCHEMA_MISMATCH once per schema, without revalidating', async () => {
    const validate = vi.fn(() => ({ issues: [{ message: 'no', path: ['port'] }] }));
    const schema: StandardSchemaV1 = { '~standard': { version: 1, vendor: 'test', validate } };
    const entry = entryOf(stringVersion(JSON_TEXT));

    const first = await rejectionOf(entry.readValidated(schema));
    const second = await rejectionOf(entry.readValidated(schema));

    expect(first).toMatchObject({ code: 'SCHEMA_MISMATCH', secretId: 'prod/db' });
    expect(second).toBe(first);
    expect(validate).toHaveBeenCalledTimes(1);
  });

  it('rejects with INVALID_JSON without calling the schema when the string is not JSON', async () => {
    const { schema, validate } = spySchema('a');

    const error = await rejectionOf(entryOf(stringVersion('not json')).readValidated(schema));

    expect(error).toMatchObject({ code: 'INVALID_JSON' });
    expect(validate).not.toHaveBeenCalled();
  });
});

describe('remembered outcomes', () => {
  it('remembers the outcomes of 16 schemas', async () => {
    const entry = entryOf(stringVersion(JSON_TEXT));
    const first = spySchema('first');
    await entry.readValidated(first.schema);
    for (let i = 0; i < 15; i++) await entry.readValidated(spySchema(`other-${i}`).schema);

    await entry.readValidated(first.schema);

    expect(first.validate).toHaveBeenCalledTimes(1);
  });

  it('forgets them past that, so schemas made anew per read cannot grow a version without bound', async () => {
    const entry = entryOf(stringVersion(JSON_TEXT));
    const first = spySchema('first');
    await entry.readValidated(first.schema);
    for (let i = 0; i < 16; i++) await entry.readValidated(spySchema(`other-${i}`).schema);

    await entry.readValidated(first.schema);

    expect(first.validate).toHaveBeenCalledTimes(2);
  });
});

describe('CachedVersion.readField', () => {
  it('reads one top-level field, validated once per field and schema', async () => {
    const entry = entryOf(stringVersion(JSON_TEXT));
    const schema = spySchema('user');

    const plain = [await entry.readField('user', undefined), await entry.readField('user', undefined)];
    const checked = [
      await entry.readField('user', schema.schema),
      await entry.readField('user', schema.schema),
    ];

    expect(plain).toEqual(['app', 'app']);
    expect(checked[1]).toBe(checked[0]);
    expect(checked[0]).toEqual({ tag: 'user', value: 'app' });
    expect(schema.validate).toHaveBeenCalledTimes(1);
  });

  it('fails with MISSING_KEY for an absent field', async () => {
    const error = await rejectionOf(entryOf(stringVersion(JSON_TEXT)).readField('token', undefined));

    expect(error).toMatchObject({ code: 'MISSING_KEY', secretId: 'prod/db' });
  });
});

describe('CachedVersion.readRecord', () => {
  it("resolves to a frozen record of a string secret's metadata and value, not stale", async () => {
    const version = stringVersion(STRING_TEXT);

    const record = await entryOf(version).readRecord(false);

    expect({ ...record }).toStrictEqual({
      name: 'prod/db',
      arn: version.arn,
      versionId: 'v-1',
      versionStages: ['AWSCURRENT'],
      createdDate: version.createdDate,
      secretString: STRING_TEXT,
      stale: false,
    });
    expect(Object.isFrozen(record)).toBe(true);
    expect(Object.isFrozen(record.versionStages)).toBe(true);
  });

  it('returns the same record, in the same promise, on every read of a string secret', async () => {
    const entry = entryOf(stringVersion(STRING_TEXT));

    const first = entry.readRecord(false);
    const second = entry.readRecord(false);

    expect(second).toBe(first);
    expect(await second).toBe(await first);
    expect(entry.record).toBe(first);
  });

  it("does not share the version's stage list", async () => {
    const version = stringVersion(STRING_TEXT);
    const record = await entryOf(version).readRecord(false);

    (version.versionStages as string[]).push('MUTATED');

    expect(record.versionStages).toEqual(['AWSCURRENT']);
  });

  it('gives a binary secret a new record with its own copy of the bytes on every read', async () => {
    const entry = entryOf(binaryVersion());

    const first = await entry.readRecord(false);
    first.secretBinary?.fill(0);
    const second = await entry.readRecord(false);

    expect(second).not.toBe(first);
    expect(second.secretBinary).toEqual(Uint8Array.from(BYTES));
    expect('secretString' in second).toBe(false);
    expect(Object.isFrozen(second)).toBe(true);
  });

  it('marks a stale read with stale: true, without changing the shared fresh record', async () => {
    const entry = entryOf(stringVersion(STRING_TEXT));
    const fresh = await entry.readRecord(false);

    const stale = await entry.readRecord(true);

    expect(stale.stale).toBe(true);
    expect(stale.secretString).toBe(STRING_TEXT);
    expect(fresh.stale).toBe(false);
    expect(await entry.readRecord(false)).toBe(fresh);
  });

  it('marks a stale read of a binary secret with stale: true', async () => {
    const record = await entryOf(binaryVersion()).readRecord(true);

    expect(record.stale).toBe(true);
    expect(record.secretBinary).toEqual(Uint8Array.from(BYTES));
  });
});

describe('redaction under util.inspect', () => {
  it("shows a string secret's record without its value", async () => {
    const record = await entryOf(stringVersion(STRING_TEXT)).readRecord(false);

    for (const text of [
      inspect(record),
      inspect({ record }, { depth: 5 }),
      inspect(record, { showHidden: true }),
    ]) {
      expect(text).toContain('prod/db');
      expect(text).toContain('v-1');
      expect(text).not.toContain('SECRETVALUE');
    }
  });

  it("shows a binary secret's record with its length but without its bytes", async () => {
    const record = await entryOf(binaryVersion()).readRecord(false);

    const text = inspect(record);

    expect(text).toContain('4 bytes');
    for (const byte of BYTES) expect(text).not.toContain(String(byte));
  });

  it('shows that a record is stale', async () => {
    const record = await entryOf(stringVersion(STRING_TEXT)).readRecord(true);

    expect(inspect(record)).toContain('stale: true');
    expect(inspect(record)).not.toContain('SECRETVALUE');
  });

  it('shows an entry without its value, also after every derived form was made', async () => {
    const entry = entryOf(stringVersion(JSON_TEXT));
    await entry.readString();
    await entry.readJson();
    await entry.readValidated(spySchema('a').schema);
    await entry.readRecord(false);

    const text = inspect(entry, { depth: 10, showHidden: true });

    expect(text).toContain('prod/db');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('JSONVALUE');
  });

  it('shows a binary entry without its bytes', () => {
    const text = inspect(entryOf(binaryVersion()));

    for (const byte of BYTES) expect(text).not.toContain(String(byte));
  });
});

describe('binary values are copied whatever the source hands over (hardening defect 6)', () => {
  const inputs: Array<[string, () => Uint8Array]> = [
    ['a Node Buffer', () => Buffer.from(BYTES)],
    ['a pooled Buffer at an offset', () => Buffer.from(Uint8Array.from(BYTES))],
    [
      'a Uint8Array view at an offset',
      () => new Uint8Array(Uint8Array.from([0, 0, ...BYTES, 0]).buffer, 2, 4),
    ],
    ['a plain Uint8Array', () => Uint8Array.from(BYTES)],
  ];

  it.each(inputs)('zeroing the bytes a read returned leaves the cache intact (%s)', async (_, make) => {
    const entry = entryOf({ ...binaryVersion(), secretBinary: make() });
    const first = await entry.readBinary();
    first.fill(0);
    const record = await entry.readRecord(false);
    record.secretBinary?.fill(0);

    expect([...(await entry.readBinary())]).toEqual(BYTES);
    expect([...((await entry.readRecord(false)).secretBinary ?? [])]).toEqual(BYTES);
  });

  it.each(inputs)(
    'changing the source bytes after the fetch leaves the cache intact (%s)',
    async (_, make) => {
      const bytes = make();
      const entry = entryOf({ ...binaryVersion(), secretBinary: bytes });
      bytes.fill(7);

      expect([...(await entry.readBinary())]).toEqual(BYTES);
    },
  );

  it('hands out plain Uint8Arrays of exactly the value bytes', async () => {
    const entry = entryOf({ ...binaryVersion(), secretBinary: Buffer.from(BYTES) });
    const bytes = await entry.readBinary();
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    expect(bytes.byteLength).toBe(BYTES.length);
    expect(bytes.buffer.byteLength).toBe(BYTES.length);
  });
});

describe('records render without their value (hardening defect 2)', () => {
  const SECRET = 'Zq9#Xv!Lk2@Wm7$Rp4^Tn8';

  it.each([
    ['a string record', () => entryOf(stringVersion(SECRET)).readRecord(false)],
    ['a stale string record', () => entryOf(stringVersion(SECRET)).readRecord(true)],
    [
      'a binary record',
      () => entryOf({ ...binaryVersion(), secretBinary: Buffer.from(SECRET) }).readRecord(false),
    ],
  ])('%s keeps its value readable but out of JSON, inspect and String', async (_, read) => {
    const record = await read();
    expect(record.secretString ?? Buffer.from(record.secretBinary ?? []).toString()).toBe(SECRET);
    const rendered = renderingsOf(record);
    expectNoFragment(rendered, SECRET);
    expectNoBytes(rendered, Buffer.from(SECRET));
    expect(JSON.parse(JSON.stringify(record))).toMatchObject({
      versionId: record.versionId,
      name: record.name,
    });
  });

  it('keeps its metadata in the JSON rendering, with the value marked as redacted', async () => {
    const record = await entryOf(stringVersion(SECRET)).readRecord(false);
    expect(JSON.parse(JSON.stringify(record))).toEqual({
      name: 'prod/db',
      arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf',
      versionId: 'v-1',
      versionStages: ['AWSCURRENT'],
      createdDate: '2024-05-01T12:00:00.000Z',
      stale: false,
      secretString: '<redacted>',
    });
  });

  it('spreads into a plain object with the value, as the caller asked for it', async () => {
    const record = await entryOf(stringVersion(SECRET)).readRecord(false);
    expect({ ...record }.secretString).toBe(SECRET);
    expect(Object.isFrozen(record)).toBe(true);
  });
});

describe('what each accessor says of the wrong type', () => {
  it('names the type held and the accessor to use, in every string-only and binary-only read', async () => {
    const binary = entryOf(binaryVersion());
    const text = entryOf(stringVersion(STRING_TEXT));
    const binaryMessage = 'Secret "prod/tls" holds a binary value; read it with getSecretBinary.';
    await expect(binary.readString()).rejects.toMatchObject({ code: 'WRONG_TYPE', message: binaryMessage });
    await expect(binary.readJson()).rejects.toMatchObject({ code: 'WRONG_TYPE', message: binaryMessage });
    await expect(text.readBinary()).rejects.toMatchObject({
      code: 'WRONG_TYPE',
      message: 'Secret "prod/db" holds a string value; read it with getSecretString.',
    });
  });
});

describe('derived values per schema', () => {
  it('gives each schema its own output when schemas alternate, validating each once', async () => {
    const entry = entryOf(stringVersion(JSON_TEXT));
    const a = spySchema('a');
    const b = spySchema('b');
    expect(await entry.readValidated(a.schema)).toMatchObject({ tag: 'a' });
    expect(await entry.readValidated(b.schema)).toMatchObject({ tag: 'b' });
    expect(await entry.readValidated(a.schema)).toMatchObject({ tag: 'a' });
    expect(await entry.readValidated(b.schema)).toMatchObject({ tag: 'b' });
    expect([a.validate.mock.calls.length, b.validate.mock.calls.length]).toEqual([1, 1]);
  });

  it('keeps a field read without a schema apart from the same field read with one', async () => {
    const entry = entryOf(stringVersion(JSON_TEXT));
    const tagged = spySchema('t');
    expect(await entry.readField('user', tagged.schema)).toEqual({ tag: 't', value: 'app' });
    expect(await entry.readField('user', undefined)).toBe('app');
    expect(await entry.readField('user', tagged.schema)).toEqual({ tag: 't', value: 'app' });
  });

  it('remembers every schema of a field, validating each once', async () => {
    const entry = entryOf(stringVersion(JSON_TEXT));
    const a = spySchema('a');
    const b = spySchema('b');
    for (let i = 0; i < 3; i++) {
      await entry.readField('user', a.schema);
      await entry.readField('user', b.schema);
    }
    expect([a.validate.mock.calls.length, b.validate.mock.calls.length]).toEqual([1, 1]);
  });
});

describe('how records render', () => {
  it('shows a binary value by its size and a string value as redacted, with staleness', async () => {
    const binary = await entryOf(binaryVersion()).readRecord(true);
    const text = await entryOf(stringVersion(STRING_TEXT)).readRecord(false);
    expect(String(binary)).toBe(
      'SecretRecord { name: "prod/tls", versionId: "v-2", versionStages: ["AWSCURRENT"], value: <4 bytes>, stale: true }',
    );
    expect(inspect(text)).toBe(
      'SecretRecord { name: "prod/db", versionId: "v-1", versionStages: ["AWSCURRENT"], value: <redacted> }',
    );
    expect(JSON.parse(JSON.stringify(binary))).toMatchObject({ secretBinary: '<redacted>', stale: true });
    expect(JSON.parse(JSON.stringify(binary))).not.toHaveProperty('secretString');
    expect(JSON.parse(JSON.stringify(text))).not.toHaveProperty('secretBinary');
  });
});

describe('what a version keeps of the answer (compact metadata)', () => {
  const PREFIX = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:';
  const CREATED = 1_714_564_800_123;

  /** An answer as the SDK makes one: every string, the Date and the stage list are new objects. */
  function answer(
    name: string,
    value: { secretString: string } | { secretBinary: Uint8Array },
  ): SecretVersion {
    return {
      name: `${name}`.split('').join(''),
      arn: `${PREFIX}${name}-AbCdEf`,
      versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
      versionStages: ['AWSCURRENT', 'AWSPENDING'],
      createdDate: new Date(CREATED),
      ...value,
    };
  }

  /** The record every version made before it kept its metadata compactly: the answer's fields, as they came. */
  function recordAsBefore(version: SecretVersion, stale: boolean) {
    return {
      name: version.name,
      arn: version.arn,
      versionId: version.versionId,
      versionStages: [...version.versionStages],
      createdDate: version.createdDate,
      ...(version.secretString === undefined ? {} : { secretString: version.secretString }),
      ...(version.secretBinary === undefined ? {} : { secretBinary: Uint8Array.from(version.secretBinary) }),
      stale,
    };
  }

  function entryFor(
    secretId: string,
    version: SecretVersion,
    pin: { versionStage?: string; versionId?: string } = {},
  ) {
    const { versionStage, versionId } = pin;
    const key =
      versionId !== undefined
        ? `${secretId}\0v\0${versionId}`
        : versionStage !== undefined
          ? `${secretId}\0s\0${versionStage}`
          : secretId;
    const selector = {
      key,
      secretId,
      versionStage: versionId === undefined ? (versionStage ?? 'AWSCURRENT') : undefined,
      versionId,
    };
    return new CachedVersion(selector, version, 0, 1_000, 900);
  }

  const arnOf = (name: string) => `${PREFIX}${name}-AbCdEf`;
  const reads: Array<[string, string, (name: string) => string]> = [
    ['read by name', 'prod/orders/db', (name) => name],
    ['read by ARN', 'prod/orders/db', arnOf],
    ['read by partial ARN', 'prod/orders/db', (name) => `${PREFIX}${name}`],
    ['read by a name that holds :secret:', 'team:secret:db', (name) => name],
    ['read by the ARN of a name that holds :secret:', 'team:secret:db', arnOf],
  ];

  it.each(reads)('makes the same record as before for a string secret (%s)', async (_, name, idOf) => {
    for (const stale of [false, true]) {
      const version = answer(name, { secretString: STRING_TEXT });

      const record = await entryFor(idOf(name), version).readRecord(stale);

      expect({ ...record }).toStrictEqual(recordAsBefore(version, stale));
      expect(record.createdDate).toBeInstanceOf(Date);
      expect(Object.isFrozen(record.versionStages)).toBe(true);
    }
  });

  it.each(reads)('makes the same record as before for a binary secret (%s)', async (_, name, idOf) => {
    for (const stale of [false, true]) {
      const version = answer(name, { secretBinary: Uint8Array.from(BYTES) });

      const record = await entryFor(idOf(name), version).readRecord(stale);

      expect({ ...record }).toStrictEqual(recordAsBefore(version, stale));
      expect(Object.isFrozen(record.versionStages)).toBe(true);
    }
  });

  it('makes the same record as before from a source with metadata of its own kind', async () => {
    const versions: SecretVersion[] = [
      { ...stringVersion(STRING_TEXT), arn: '', createdDate: undefined, versionStages: [] },
      { ...stringVersion(STRING_TEXT), arn: 'local:prod/db', versionStages: ['blue', 'green'] },
      { ...stringVersion(STRING_TEXT), name: 'prod/db-other', arn: 'prod/db' },
    ];
    for (const version of versions) {
      expect({ ...(await entryOf(version).readRecord(false)) }).toStrictEqual(recordAsBefore(version, false));
    }
  });

  it('keeps what a source that breaks the types gave, as records showed it before', async () => {
    const odd = {
      ...stringVersion(STRING_TEXT),
      arn: undefined,
      createdDate: '2024-05-01',
      versionStages: new Set(['AWSCURRENT']),
    } as unknown as SecretVersion;

    const record = await entryOf(odd).readRecord(false);

    expect(record.arn).toBeUndefined();
    expect(record.createdDate).toBe('2024-05-01');
    expect(record.versionStages).toEqual(['AWSCURRENT']);
    expect(Object.isFrozen(record.versionStages)).toBe(true);
  });

  it('keeps both values of a source that answered with a string and bytes, as before', async () => {
    const entry = entryOf({ ...stringVersion(STRING_TEXT), secretBinary: Uint8Array.from(BYTES) });

    await expect(entry.readString()).resolves.toBe(STRING_TEXT);
    await expect(entry.readBinary()).resolves.toEqual(Uint8Array.from(BYTES));
    const record = await entry.readRecord(false);
    expect(record.secretString).toBe(STRING_TEXT);
    expect(record.secretBinary).toEqual(Uint8Array.from(BYTES));
  });

  it('is unaffected by the source changing its stage list or Date after the fetch', async () => {
    const version = answer('prod/db', { secretString: STRING_TEXT });
    const entry = entryFor('prod/db', version);

    (version.versionStages as string[]).push('MUTATED');
    version.createdDate?.setTime(0);
    const record = await entry.readRecord(false);

    expect(record.versionStages).toEqual(['AWSCURRENT', 'AWSPENDING']);
    expect(record.createdDate?.getTime()).toBe(CREATED);
    expect(record.createdDate).not.toBe(version.createdDate);
  });

  it("shares stage lists between versions, but no record can change another's", async () => {
    const first = entryFor('a', answer('a', { secretString: STRING_TEXT }));
    const second = entryFor('b', answer('b', { secretBinary: Uint8Array.from(BYTES) }));
    const a = await first.readRecord(false);
    const b = await second.readRecord(false);

    expect(() => (a.versionStages as string[]).push('MUTATED')).toThrow(TypeError);
    expect(() => (b.versionStages as string[]).splice(0, 1)).toThrow(TypeError);
    expect(() => {
      (a.versionStages as string[])[0] = 'MUTATED';
    }).toThrow(TypeError);

    for (const record of [a, b, await first.readRecord(true), await second.readRecord(false)]) {
      expect(record.versionStages).toEqual(['AWSCURRENT', 'AWSPENDING']);
    }
    const later = entryFor('c', answer('c', { secretString: STRING_TEXT }));
    expect((await later.readRecord(false)).versionStages).toEqual(['AWSCURRENT', 'AWSPENDING']);
  });

  it('gives each record made anew a Date of its own: a caller changing one does not change the next', async () => {
    const binary = entryFor('tls', answer('tls', { secretBinary: Uint8Array.from(BYTES) }));
    const text = entryFor('db', answer('db', { secretString: STRING_TEXT }));

    (await binary.readRecord(false)).createdDate?.setTime(0);
    (await text.readRecord(true)).createdDate?.setTime(0);

    expect((await binary.readRecord(false)).createdDate?.getTime()).toBe(CREATED);
    expect((await text.readRecord(false)).createdDate?.getTime()).toBe(CREATED);
  });

  it('keeps the selector it was read with: the default stage, another stage, a version id', () => {
    const version = answer('prod/db', { secretString: STRING_TEXT });

    expect(entryFor('prod/db', version)).toMatchObject({
      key: 'prod/db',
      secretId: 'prod/db',
      versionStage: 'AWSCURRENT',
      versionId: undefined,
      fetchedVersionId: version.versionId,
    });
    expect(entryFor('prod/db', version, { versionStage: 'AWSPREVIOUS' })).toMatchObject({
      key: 'prod/db\0s\0AWSPREVIOUS',
      versionStage: 'AWSPREVIOUS',
      versionId: undefined,
    });
    expect(entryFor('prod/db', version, { versionId: version.versionId })).toMatchObject({
      key: `prod/db\0v\0${version.versionId}`,
      versionStage: undefined,
      versionId: version.versionId,
    });
    expect(entryFor('prod/db', version, { versionId: 'asked-for-another' })).toMatchObject({
      versionStage: undefined,
      versionId: 'asked-for-another',
      fetchedVersionId: version.versionId,
    });
  });

  it('keeps its clock times exactly as given, whatever they are', () => {
    const time = fc.oneof(
      fc.double({ noNaN: true }),
      fc.double({ min: 1.6e12, max: 1.8e12, noNaN: true }),
      fc.integer({ min: 0, max: 2e12 }),
      fc.constantFrom(Number.POSITIVE_INFINITY, Number.NaN, -0, 0),
    );
    fc.assert(
      fc.property(time, time, time, (fetchedAt, expiresAt, refreshAt) => {
        const entry = new CachedVersion(
          { key: 'k', secretId: 'k', versionStage: 'AWSCURRENT', versionId: undefined },
          stringVersion('s'),
          fetchedAt,
          expiresAt,
          refreshAt,
        );
        expect(entry.fetchedAt).toBe(fetchedAt);
        expect(entry.expiresAt).toBe(expiresAt);
        expect(entry.refreshAt).toBe(refreshAt);
      }),
      { numRuns: 5_000 },
    );
  });

  it('keeps the times a fetch gives: a jittered lifetime and a refresh ahead of its end', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1.6e12, max: 1.8e12, noNaN: true }),
        fc.double({ min: 1, max: 3_600_000, noNaN: true }),
        fc.constantFrom(0, 1, 10_000, 12.5, 0.1),
        (startedAt, lifetime, refreshAheadMs) => {
          const expiresAt = startedAt + lifetime;
          const refreshAt = expiresAt - Math.min(refreshAheadMs, lifetime / 2);
          const made = new CachedVersion(
            { key: 'k', secretId: 'k', versionStage: 'AWSCURRENT', versionId: undefined },
            stringVersion('s'),
            startedAt,
            expiresAt,
            refreshAt,
          );
          expect([made.fetchedAt, made.expiresAt, made.refreshAt]).toEqual([startedAt, expiresAt, refreshAt]);
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it.each([
    ['a string', () => stringVersion(STRING_TEXT)],
    ['a JSON', () => stringVersion(JSON_TEXT)],
    ['a binary', () => binaryVersion()],
  ])('renders %s version in no form that shows its value, before and after every read', async (_, make) => {
    const version = make();
    const entry = entryFor(`${PREFIX}prod/db-AbCdEf`, version);
    const check = () => {
      const rendered = renderingsOf(entry);
      expectNoFragment(rendered, 'SECRETVALUE');
      expectNoFragment(rendered, 'JSONVALUE');
      expectNoBytes(rendered, Uint8Array.from(BYTES));
    };
    check();
    await Promise.allSettled([
      entry.readString(),
      entry.readJson(),
      entry.readRecord(false),
      entry.readRecord(true),
    ]);
    await Promise.allSettled([
      entry.readValidated(spySchema('a').schema),
      entry.readField('user', undefined),
    ]);
    await Promise.allSettled([entry.readRef('user', undefined), entry.readBinary()]);
    check();
  });
});
