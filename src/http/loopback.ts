/**
 * The hosts a source may talk to. The token authorises reading every secret the server can read, so it goes
 * to a loopback address only: no name is ever resolved, and `localhost` means `127.0.0.1` (where both the
 * Agent and the Lambda extension listen; neither listens on `::1`).
 */
export const LOOPBACK_HOSTS = ['127.0.0.1', '::1', 'localhost'] as const;

/** One of {@link LOOPBACK_HOSTS}. */
export type LoopbackHost = (typeof LOOPBACK_HOSTS)[number];

/** The address to connect to for a host option, or `undefined` when the host is not a loopback one. */
export function loopbackAddress(host: string): string | undefined {
  if (host === 'localhost') return '127.0.0.1';
  return (LOOPBACK_HOSTS as readonly string[]).includes(host) ? host : undefined;
}

/** The message of the `TypeError` for a `host` option that is not a loopback host. */
export function hostProblem(got: string): string {
  const allowed = LOOPBACK_HOSTS.map((host) => `'${host}'`).join(', ');
  return `Expected \`host\` to be one of ${allowed} (the token goes to a loopback address only), got a string of length ${got.length}.`;
}
