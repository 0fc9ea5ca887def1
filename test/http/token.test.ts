/**
 * The token store on its own: read lazily, re-read only for a refused token, one read shared by concurrent
 * refusals, a failed read not kept.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENT_TOKEN_VARIABLES, TokenProblem, TokenStore } from '../../src/http/token.js';

const dir = mkdtempSync(join(tmpdir(), 'secretcache-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An environment that counts how often each variable is read. */
function countingEnv(values: Record<string, string>): { env: NodeJS.ProcessEnv; reads: () => number } {
  let reads = 0;
  const env = new Proxy(values, {
    get(target, name) {
      if (typeof name === 'string') reads += 1;
      return Reflect.get(target, name);
    },
  });
  return { env, reads: () => reads };
}

const agentOrigin = { kind: 'env', variables: AGENT_TOKEN_VARIABLES, files: true } as const;

describe('TokenStore', () => {
  it('reads nothing until asked, then once', async () => {
    const { env, reads } = countingEnv({ AWS_SESSION_TOKEN: 's' });
    const store = new TokenStore(agentOrigin, env);
    expect(reads()).toBe(0);

    expect(await store.get()).toBe('s');
    const afterFirst = reads();
    expect(await store.get()).toBe('s');

    expect(afterFirst).toBeGreaterThan(0);
    expect(reads()).toBe(afterFirst);
  });

  it('shares one re-read between concurrent refusals of the same token, and skips it for an old one', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'one');
    const { env, reads } = countingEnv({ AWS_TOKEN: `file://${file}` });
    const store = new TokenStore(agentOrigin, env);
    await store.get();
    const onePass = reads();
    writeFileSync(file, 'two');
    const before = reads();

    const fresh = await Promise.all([store.refresh('one'), store.refresh('one'), store.refresh('one')]);
    const afterShared = reads();
    const stale = await store.refresh('one');

    expect(fresh).toEqual(['two', 'two', 'two']);
    expect(stale).toBe('two');
    expect(afterShared - before).toBe(onePass);
    expect(reads()).toBe(afterShared);
  });

  it('resolves with the same token when reading again finds no new one', async () => {
    const store = new TokenStore({ kind: 'option', value: 'fixed' });
    expect(await store.refresh(await store.get())).toBe('fixed');
  });

  it('does not keep a failed read: the next request reads again', async () => {
    const values: Record<string, string> = {};
    const store = new TokenStore(agentOrigin, values);

    await expect(store.get()).rejects.toBeInstanceOf(TokenProblem);
    values.AWS_CONTAINER_AUTHORIZATION_TOKEN = 'late';

    expect(await store.get()).toBe('late');
  });

  it('refuses a file token with a newline inside, naming the file and not the token', async () => {
    const file = join(dir, 'two-lines');
    writeFileSync(file, 'first-line\nsecond-line\n');
    const store = new TokenStore({ kind: 'option', value: `file://${file}` });

    const error = await store.get().catch((caught: unknown) => caught as Error);

    expect(error).toBeInstanceOf(TokenProblem);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).not.toContain('first-line');
  });

  it('stops reading a file when the signal aborts', async () => {
    const file = join(dir, 'abortable');
    writeFileSync(file, 'x');
    const reason = new Error('stop');
    const store = new TokenStore({ kind: 'option', value: `file://${file}` });

    await expect(store.get(AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});
