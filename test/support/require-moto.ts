/**
 * The integration project's globalSetup: without `moto_server` on the PATH, one error that says what is missing and
 * how to install it, before any test starts, instead of every integration test failing on its own.
 */
import { MOTO_SERVER_MISSING, motoServerOnPath } from './moto.js';

export default function requireMotoServer(): void {
  if (motoServerOnPath() !== undefined) return;
  const error = new Error(MOTO_SERVER_MISSING);
  // The message is the whole story: no stack of vitest's internals under it.
  error.stack = `${error.name}: ${error.message}`;
  throw error;
}
