/**
 * The ids a memory source makes up (version UUIDs, ARN suffixes) come from a seeded generator, so a test that
 * prints or snapshots them sees the same ones on every run. Not for anything that needs to be unguessable.
 */
export type Random = () => number;

/** mulberry32: a 32-bit state, fast, and good enough to spread ids; the same seed gives the same sequence. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const HEX = '0123456789abcdef';
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A version 4 UUID, lower case, as Secrets Manager's version ids (and the SDK's request tokens) look. */
export function randomUuid(random: Random): string {
  let uuid = '';
  for (let i = 0; i < 32; i++) {
    let digit = Math.floor(random() * 16);
    if (i === 12) digit = 4;
    else if (i === 16) digit = 8 + (digit & 3);
    uuid += HEX[digit];
    if (i === 7 || i === 11 || i === 15 || i === 19) uuid += '-';
  }
  return uuid;
}

/** The six characters Secrets Manager appends to a secret's name in its ARN (`prod/db-AbC12z`). */
export function arnSuffix(random: Random): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += ALPHANUMERIC[Math.floor(random() * ALPHANUMERIC.length)];
  return suffix;
}
