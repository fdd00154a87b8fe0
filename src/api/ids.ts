// One id generator for everything: Stripe's prefixes and lengths, base62 alphabet.
//
// Ids are time-ordered, as Stripe's are (pi_1PgafyB7WZ01zgkWSjxsAJo3: a version digit, then
// five base62 characters of seconds that grow with creation time). Here an id's characters
// after the prefix are, in order:
//   - a version digit `1` (ids of 20 characters or more only: the 14-character cus_/prod_/req_
//     ids keep every character they can for randomness),
//   - 5 characters: seconds since EPOCH_S, base62 (62^5 s is 29 years; then the width grows),
//   - 2 characters: the millisecond within that second (000..999 in base62),
//   - the rest random.
// The alphabet is in ASCII order, so ids made later sort later: consecutive inserts land next
// to each other at the end of the store's id index instead of at random positions (a random
// dirty page per object per commit). Collision safety: within one account, two ids of one
// prefix can only clash if they were made in the same millisecond and drew the same random
// part (62^-16 for 24-character ids; 62^-7, about 3e-13, for the 14-character ones).
//
// With a seed (`--seed <n>`) the sequence is deterministic so test runs are reproducible: the
// time part then comes from a counter (one millisecond per id from a fixed start), not the
// wall clock. Without one the random part draws from the OS CSPRNG. `random()` (client
// secrets, webhook secrets, fingerprints) is fully random, with no time part.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Lengths of the part after the prefix, as Stripe's ids have them (cus_NffrFeUfNV2Hib is 14). */
const LENGTHS: Record<string, number> = {
  cus: 14,
  prod: 14,
  req: 14,
  acct: 16,
  tok: 24,
};
const DEFAULT_LENGTH = 24; // price_, evt_, pi_, ch_ ... carry 24 characters

/** Seconds since this instant (mid-July 2012) lead ids, which puts them in the range Stripe's own ids have today. */
export const EPOCH_S = 1_342_400_000;
/** Ids at least this long carry the version digit. */
const VERSIONED_LENGTH = 20;
const VERSION = '1';
/** Where the seeded generator's virtual clock starts (2025-01-01T00:00:00Z), in ms. */
const SEEDED_START_MS = 1_735_689_600_000;
/** Characters of an id's time part (5 of seconds, 2 of milliseconds). */
export const TIME_CHARS = 7;

export interface IdGenerator {
  /** `cus_…` with Stripe's length for that prefix (or an explicit one): time part, then random. */
  id(prefix: string, length?: number): string;
  /** Random base62 string of n characters (secrets, fingerprints): no time part. */
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

/** `n` in base62, at least `width` characters (zero-padded). */
function base62(n: number, width: number): string {
  let s = '';
  do { s = ALPHABET[n % 62]! + s; n = Math.floor(n / 62); } while (n > 0);
  while (s.length < width) s = '0' + s;
  return s;
}

/** The time part of ids made at `ms` (Unix ms): 5 characters of seconds since EPOCH_S, 2 of the millisecond. */
export function timePart(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000) - EPOCH_S);
  return base62(s, 5) + base62(((ms % 1000) + 1000) % 1000, 2);
}

/** When an id (of a known prefix length) was made, in Unix ms: the inverse of timePart (tests, diagnostics). */
export function idTimeMs(id: string): number {
  const rest = id.slice(id.indexOf('_') + 1);
  const t = rest.length >= VERSIONED_LENGTH ? rest.slice(1, 1 + TIME_CHARS) : rest.slice(0, TIME_CHARS);
  const digit = (c: string) => ALPHABET.indexOf(c);
  let s = 0;
  for (const c of t.slice(0, 5)) s = s * 62 + digit(c);
  return (s + EPOCH_S) * 1000 + digit(t[5]!) * 62 + digit(t[6]!);
}

export function createIdGenerator(seed?: number): IdGenerator {
  let nextByte: () => number;
  let nowMs: () => number;
  if (seed !== undefined) {
    const rand = sfc32(0x9e3779b9, 0x243f6a88, 0xb7e15162, seed >>> 0);
    for (let i = 0; i < 15; i++) rand(); // warm up so nearby seeds diverge
    nextByte = () => Math.floor(rand() * 256);
    let virtual = SEEDED_START_MS;
    nowMs = () => virtual++;
  } else {
    let pool = randomBytes(4096);
    let pos = 0;
    nextByte = () => {
      if (pos >= pool.length) { pool = randomBytes(4096); pos = 0; }
      return pool[pos++]!;
    };
    nowMs = Date.now;
  }
  const random = (n: number): string => {
    let s = '';
    while (s.length < n) {
      const b = nextByte();
      if (b < 248) s += ALPHABET[b % 62]; // 248 = 4*62: rejection keeps the distribution uniform
    }
    return s;
  };
  // The time part changes at most once a millisecond: encoded once for all ids of that ms.
  let lastMs = -1;
  let lastTime = '';
  return {
    random,
    id: (prefix, length) => {
      const n = length ?? LENGTHS[prefix] ?? DEFAULT_LENGTH;
      const ms = nowMs();
      if (ms !== lastMs) { lastMs = ms; lastTime = timePart(ms); }
      if (n < TIME_CHARS + 4) return `${prefix}_${random(n)}`; // too short to spare the characters
      return n >= VERSIONED_LENGTH
        ? `${prefix}_${VERSION}${lastTime}${random(n - 1 - TIME_CHARS)}`
        : `${prefix}_${lastTime}${random(n - TIME_CHARS)}`;
    },
  };
}
