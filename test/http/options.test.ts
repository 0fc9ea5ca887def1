/**
 * The options of both sources: checked once, at construction, with a TypeError that names the option; the host
 * is a loopback one or nothing.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { agentSource, lambdaExtensionSource } from '../../src/http.js';
import { agentBody, startScriptedServer } from './scripted-server.js';

const makers = [
  ['agentSource', (options: unknown) => agentSource(options as never)],
  ['lambdaExtensionSource', (options: unknown) => lambdaExtensionSource(options as never)],
] as const;

describe.each(makers)('%s options', (name, make) => {
  it('accepts no options, an empty object, and every option set to undefined', () => {
    expect(() => make(undefined)).not.toThrow();
    expect(() => make({})).not.toThrow();
    expect(() => make({ port: undefined, host: undefined, timeoutMs: undefined })).not.toThrow();
  });

  it.each([null, 'port=2773', 2773, [], () => ({})])(
    'refuses options that are not an object (%j)',
    (options) => {
      expect(() => make(options)).toThrow(new RegExp(`^Expected the options of ${name} to be an object`));
    },
  );

  it('names an unknown option and the one it resembles', () => {
    expect(() => make({ prot: 2773 })).toThrow(
      new TypeError(`Unknown option \`prot\` in options of ${name}; did you mean \`port\`?`),
    );
    expect(() => make({ timeout: 100 })).toThrow(/Unknown option `timeout`.*did you mean `timeoutMs`\?/);
  });

  it.each([0, -1, 1.5, 65_536, Number.NaN, '2773'])('refuses the port %j, naming it', (port) => {
    expect(() => make({ port })).toThrow(/^Expected `port` to be a positive integer of at most 65_535, got /);
  });

  it.each([0, -5, Number.POSITIVE_INFINITY, '100'])('refuses the timeoutMs %j, naming it', (timeoutMs) => {
    expect(() => make({ timeoutMs })).toThrow(/^Expected `timeoutMs` to be a positive, finite number/);
  });

  it.each(['example.com', '10.0.0.1', '127.0.0.2', '0.0.0.0', '169.254.169.254', 'LOCALHOST', '[::1]', ''])(
    'refuses the non-loopback host %j with a TypeError naming `host`, resolving nothing',
    (host) => {
      expect(() => make({ host })).toThrow(TypeError);
      expect(() => make({ host })).toThrow(/`host`/);
    },
  );

  it.each([5, {}])('refuses a host that is not a string (%j)', (host) => {
    expect(() => make({ host })).toThrow(/^Expected `host` to be a non-empty string/);
  });
});

describe('agentSource options', () => {
  it.each(['', 5, 'x'.repeat(16_385)])('refuses the token %j by its type and length only', (token) => {
    expect(() => agentSource({ token: token as string })).toThrow(
      /^Expected `token` to be a non-empty string/,
    );
  });

  it('refuses a token an HTTP header cannot carry, without quoting it', () => {
    let message = '';
    try {
      agentSource({ token: 'secret-line\nsecond' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      'Expected `token` to hold only characters an HTTP header can carry, got a string of length 18.',
    );
  });

  it('has no warmupMs', () => {
    expect(() => agentSource({ warmupMs: 100 } as never)).toThrow(/Unknown option `warmupMs`/);
  });
});

describe('lambdaExtensionSource options', () => {
  it.each([-1, Number.NaN, '3000'])('refuses the warmupMs %j', (warmupMs) => {
    expect(() => lambdaExtensionSource({ warmupMs: warmupMs as number })).toThrow(
      /^Expected `warmupMs` to be/,
    );
  });

  it('has no token option: the token is the sandbox AWS_SESSION_TOKEN', () => {
    expect(() => lambdaExtensionSource({ token: 'x' } as never)).toThrow(/Unknown option `token`/);
  });
});

describe('loopback hosts', () => {
  it("connects to 127.0.0.1 for 'localhost', without resolving the name", async () => {
    const server = await startScriptedServer(() => agentBody('a', 'v'));
    try {
      const version = await agentSource({ host: 'localhost', port: server.port, token: 't' }).getSecretValue({
        secretId: 'a',
      });
      expect(version.secretString).toBe('v');
      expect(server.requests[0]?.headers.host).toBe(`127.0.0.1:${server.port}`);
    } finally {
      await server.close();
    }
  });

  it("connects to ::1 for '::1'", async (context) => {
    const server = createServer((req, res) => {
      req.resume();
      res.end(JSON.stringify({ Name: 'a', SecretString: 'v6' }));
    });
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(0, '::1', () => resolve(true));
    });
    if (!listening) context.skip('this machine has no IPv6 loopback');
    try {
      const { port } = server.address() as AddressInfo;
      const source = agentSource({ host: '::1', port, token: 't' });
      const version = await source.getSecretValue({ secretId: 'a' });
      expect(version.secretString).toBe('v6');
      expect(String(source)).toBe(`agentSource([::1]:${port})`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
