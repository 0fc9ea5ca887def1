import { inspect } from 'node:util';
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
