/**
 * A property of the query encoding: whatever string a secret id, stage or version id is, the server decodes
 * exactly that string back (the Agent decodes the query as a form, as URLSearchParams does).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSource } from '../../src/http.js';
import { propertyRuns } from '../support/runs.js';
import { agentBody, type ScriptedServer, startScriptedServer } from './scripted-server.js';

let server: ScriptedServer;

beforeAll(async () => {
  server = await startScriptedServer(() => agentBody('x', 'value'));
});

afterAll(async () => {
  await server.close();
});

/** Strings of every kind: ASCII with the characters queries give meaning to, any code point, graphemes. */
const anyString = fc.oneof(
  fc.string({ unit: fc.constantFrom('+', '/', '%', ' ', '&', '=', '?', '#', ';', 'a', '2', 'B', '\u0000') }),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
);
const wellFormed = anyString.filter((value) => {
  try {
    encodeURIComponent(value);
    return true;
  } catch {
    return false;
  }
});

describe('query encoding', () => {
  it('round-trips any well-formed secret id, stage and version id to the server decoded exactly', async () => {
    const source = agentSource({ port: server.port, token: 't' });
    await fc.assert(
      fc.asyncProperty(
        wellFormed.filter((value) => value.length > 0),
        fc.option(wellFormed, { nil: undefined }),
        fc.option(wellFormed, { nil: undefined }),
        async (secretId, versionStage, versionId) => {
          const before = server.requests.length;

          await source.getSecretValue({ secretId, versionStage, versionId });

          const request = server.requests[before];
          expect(server.requests).toHaveLength(before + 1);
          expect(request?.query).toEqual([
            ['secretId', secretId],
            ...(versionStage === undefined ? [] : [['versionStage', versionStage]]),
            ...(versionId === undefined ? [] : [['versionId', versionId]]),
          ]);
        },
      ),
      { numRuns: propertyRuns(300) },
    );
  });
});
