#!/usr/bin/env node
// The `secretcache` command: a thin shell over the library, like `chamber exec` and `aws-vault exec`. `exec`
// resolves the references in its environment, then hands the process over to the command (stdio inherited,
// signals forwarded, its exit status passed back); `get` prints one value, the only place the library ever
// prints one, because the user asked for it. Errors go to stderr and never carry a value.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { SecretCache } from './cache.js';
import { envReference, loadEnv } from './env.js';
import { isSecretCacheError, type SecretCacheError } from './errors.js';
import { secret } from './manifest.js';

/** Exit codes; the README's table lists them. `exec`'s own follow `env(1)` and `docker run`. */
const EXIT = {
  ok: 0,
  getFailed: 1,
  usage: 2,
  /** `exec` failed before the command started: a reference could not be resolved, or no command was given. */
  execFailed: 125,
  cannotRun: 126,
  notFound: 127,
  /** Plus the number of the signal that killed the command, as shells report it. */
  signaled: 128,
} as const;

/** The signals a terminal or a supervisor sends to stop or reload a process: the command gets them too. */
const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const USAGE = `Usage:
  secretcache exec [--] <command> [args...]
      Resolves every environment variable that holds a secret reference
      (secretsmanager:<ref> or {{resolve:secretsmanager:...}}) and runs <command> with them resolved.
  secretcache get [-n | --no-newline] <ref>
      Prints one secret's value (or one field of its JSON), then a newline unless -n.
  secretcache help

A <ref> is a name, an ARN, name:json-key:version-stage:version-id, an ECS valueFrom ARN
(arn:...:secret:name:json-key:version-stage:version-id) or {{resolve:secretsmanager:...}}.
AWS credentials and region come from the usual places (AWS_REGION, AWS_PROFILE, ...).

Exit codes: 0 done; exec passes on the command's own, or 128+n if signal n killed it;
  1 get could not resolve the reference; 2 usage error; 125 exec could not resolve a reference
  (the command was not started); 126 the command could not be run; 127 the command was not found.
`;

function fail(message: string): void {
  process.stderr.write(`secretcache: ${message}\n`);
}

/** An error as the user sees it: the library's messages (ids, variable names, codes), never a value. */
function report(error: unknown): void {
  if (!isSecretCacheError(error)) {
    fail(error instanceof Error ? `${error.name}: ${error.message}` : 'unexpected failure');
    return;
  }
  fail(explain(error));
  for (const failure of error.errors) process.stderr.write(`  ${failure.key}: ${explain(failure.error)}\n`);
}

/**
 * The message, and the cause's when the SDK failed before it had an answer: a missing region or credentials,
 * a refused connection. Those come from the client's configuration or the network, not from AWS, so they
 * cannot hold a value; an error that came with a response (an HTTP status, `$response`) is not quoted.
 */
function explain(error: SecretCacheError): string {
  const cause = error.cause as (Error & { $metadata?: { httpStatusCode?: number } }) | undefined;
  if (!(cause instanceof Error) || cause.$metadata?.httpStatusCode !== undefined || '$response' in cause) {
    return error.message;
  }
  return `${error.message.replace(/\.$/, '')}: ${cause.message.replace(/\.$/, '')}.`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'exec':
      return exec(rest);
    case 'get':
      return get(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return EXIT.ok;
    case undefined:
      process.stderr.write(USAGE);
      return EXIT.usage;
    default:
      fail(`unknown command ${JSON.stringify(command)}; expected exec, get or help.`);
      process.stderr.write(USAGE);
      return EXIT.usage;
  }
}

async function exec(args: readonly string[]): Promise<number> {
  const [first, ...others] = args;
  if (first !== '--' && first?.startsWith('-')) {
    fail(`exec takes no option ${JSON.stringify(first)}; write \`secretcache exec -- <command> [args...]\`.`);
    return EXIT.execFailed;
  }
  const [command, ...commandArgs] = first === '--' ? others : args;
  if (command === undefined) {
    fail('exec needs a command: `secretcache exec -- <command> [args...]`.');
    return EXIT.execFailed;
  }
  let resolved: Readonly<Record<string, string>>;
  try {
    resolved = await loadEnv({ env: process.env, cache: new SecretCache() });
  } catch (error) {
    report(error);
    return EXIT.execFailed;
  }
  return run(command, commandArgs, { ...process.env, ...resolved });
}

/** Runs the command to its end: its exit code, or 128 + the number of the signal that killed it. */
function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    const stopForwarding = (): void => {
      for (const signal of FORWARDED) process.off(signal, forward);
    };
    for (const signal of FORWARDED) process.on(signal, forward);
    child.once('error', (error: NodeJS.ErrnoException) => {
      // Once it started, its exit settles the outcome; an error before that means it never ran.
      if (child.pid !== undefined) return;
      stopForwarding();
      fail(`cannot run ${JSON.stringify(command)}: ${error.code ?? error.message}.`);
      resolve(error.code === 'ENOENT' ? EXIT.notFound : EXIT.cannotRun);
    });
    child.once('exit', (code, signal) => {
      stopForwarding();
      resolve(code ?? EXIT.signaled + (signal === null ? 0 : constants.signals[signal]));
    });
  });
}

async function get(args: readonly string[]): Promise<number> {
  let newline = true;
  const refs: string[] = [];
  let options = true;
  for (const arg of args) {
    if (options && (arg === '-n' || arg === '--no-newline')) newline = false;
    else if (options && arg === '--') options = false;
    else if (options && arg.startsWith('-') && arg.length > 1) {
      fail(`get takes no option ${JSON.stringify(arg)}.`);
      process.stderr.write(USAGE);
      return EXIT.usage;
    } else refs.push(arg);
  }
  const [ref] = refs;
  if (ref === undefined || refs.length > 1) {
    fail('get takes one reference: `secretcache get [-n] <ref>`.');
    return EXIT.usage;
  }
  try {
    // What an environment variable holds works as well: `secretcache get "$DB_PASSWORD"`.
    const { value } = await new SecretCache().load({ value: secret.ref(envReference(ref) ?? ref) });
    process.stdout.write(newline ? `${value}\n` : value);
    return EXIT.ok;
  } catch (error) {
    // One entry: its own error says it all.
    const [only] = isSecretCacheError(error) ? error.errors : [];
    report(only?.error ?? error);
    return EXIT.getFailed;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    report(error);
    process.exitCode = EXIT.getFailed;
  },
);
