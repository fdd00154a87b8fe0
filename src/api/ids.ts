// One id generator for everything: Stripe's prefixes and lengths, base62 alphabet.
// With a seed (`--seed <n>`) the sequence is deterministic so test runs are reproducible;
// without one it draws from the OS CSPRNG (client secrets and webhook secrets must not be guessable).
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Lengths of the random part, as Stripe's ids have them (cus_NffrFeUfNV2Hib is 14). */
const LENGTHS: Record<string, number> = {
  cus: 14,
  prod: 14,
  req: 14,
  acct: 16,
  tok: 24,
};
const DEFAULT_LENGTH = 24; // price_, evt_, pi_, ch_ ... carry 24 characters

export interface IdGenerator {
  /** `cus_…` with Stripe's length for that prefix (or an explicit one). */
  id(prefix: string, length?: number): string;
  /** Random base62 string of n characters (secrets, fingerprints). */
  random(n: number): string;
}

/** sfc32: small, fast, well-distributed; good enough for deterministic test ids. */
function sfc32(a: number, b: number, c: number, d: number): () => number {
  return () => {
    a |= 0; b |= 0; c |= 0; d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

export function createIdGenerator(seed?: number): IdGenerator {
  let nextByte: () => number;
  if (seed !== undefined) {
    const rand = sfc32(0x9e3779b9, 0x243f6a88, 0xb7e15162, seed >>> 0);
    for (let i = 0; i < 15; i++) rand(); // warm up so nearby seeds diverge
    nextByte = () => Math.floor(rand() * 256);
  } else {
    let pool = randomBytes(4096);
    let pos = 0;
    nextByte = () => {
      if (pos >= pool.length) { pool = randomBytes(4096); pos = 0; }
      return pool[pos++]!;
    };
  }
  const random = (n: number): string => {
    let s = '';
    while (s.length < n) {
      const b = nextByte();
      if (b < 248) s += ALPHABET[b % 62]; // 248 = 4*62: rejection keeps the distribution uniform
    }
    return s;
  };
  return {
    random,
    id: (prefix, length) => `${prefix}_${random(length ?? LENGTHS[prefix] ?? DEFAULT_LENGTH)}`,
  };
}
