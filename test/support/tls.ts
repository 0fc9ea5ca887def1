/**
 * A throwaway self-signed certificate for 127.0.0.1, made with the `openssl` command into a folder of the
 * caller's, so that a local server (moto_server) can answer HTTPS as AWS endpoints do. Nothing is committed: the
 * key exists only for the run that made it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MotoTls } from './moto.js';

/**
 * Makes an RSA-2048 certificate for `IP:127.0.0.1` (the key type and size of AWS's endpoint certificates) in
 * `dir`. Returns `undefined` when there is no `openssl` on the PATH.
 */
export function selfSignedCertificate(dir: string): MotoTls | undefined {
  const certFile = join(dir, 'localhost-cert.pem');
  const keyFile = join(dir, 'localhost-key.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return { certFile, keyFile, ca: readFileSync(certFile, 'utf8') };
}
