// Sign-in abuse resistance, modelled on Entra's smart lockout: every check of a password, client secret
// or operator key goes through one SignInGuard, which
// - locks a subject (a user of a tenant, an app, the operator key) after `threshold` failures, for a
//   lockout that doubles with each further lockout up to a cap;
// - locks a client address after many failures across subjects, so one source cannot spray guesses
//   over many users;
// - answers cheaply what needs no scrypt: a locked subject or address, a wrong secret it saw fail
//   moments ago (the last three per subject, which, as in Entra, do not count again), a subject with
//   no stored secret, and a secret verified before (a keyed HMAC, so valid repeated sign-ins skip scrypt);
// - bounds scrypt's concurrency, serving addresses without recent failures first, so a flood of wrong
//   secrets queues behind itself and cannot starve valid sign-ins.
// State is in memory, per process: on PostgreSQL with several servers each keeps its own counters
// (docs/security.md). Every map is bounded, oldest entry evicted first.
import { createHmac, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { DomainError } from '../domain/errors.js';
import { verifySecret } from './secrets.js';

export type CredentialKind = 'password' | 'clientSecret' | 'operatorKey';

export interface LockoutPolicy {
  /** Failures that lock. */
  threshold: number;
  /** First lockout; each further lockout doubles it. */
  lockoutMs: number;
  maxLockoutMs: number;
}

export interface SignInGuardOptions {
  password: LockoutPolicy;
  clientSecret: LockoutPolicy;
  operatorKey: LockoutPolicy;
  address: LockoutPolicy;
  /** A subject's failures are forgotten this long after its last one. */
  failureMemoryMs: number;
  /** scrypt hashes computed at once (each ~16 MiB and one thread-pool thread). */
  scryptSlots: number;
  /** Verifications waiting for a slot per lane; more are refused at once (429) rather than queued. */
  maxQueued: number;
  /** Entries per map (subjects, addresses, verified secrets). */
  maxEntries: number;
}

const MINUTE = 60_000;
export const defaultGuardOptions: SignInGuardOptions = {
  // Entra's smart lockout: 10 failures lock for a minute, longer after each further lockout.
  password: { threshold: 10, lockoutMs: MINUTE, maxLockoutMs: 60 * MINUTE },
  clientSecret: { threshold: 10, lockoutMs: MINUTE, maxLockoutMs: 60 * MINUTE },
  operatorKey: { threshold: 10, lockoutMs: MINUTE, maxLockoutMs: 60 * MINUTE },
  // Higher than one subject's: several people behind one NAT mistype their passwords too.
  address: { threshold: 50, lockoutMs: MINUTE, maxLockoutMs: 60 * MINUTE },
  failureMemoryMs: 15 * MINUTE,
  scryptSlots: Math.max(1, Math.min(4, availableParallelism())),
  maxQueued: 64,
  maxEntries: 100_000,
};

/** An attempt refused before its secret was checked, and how long to wait. */
export type Refusal = { ok: false; reason: 'locked' | 'addressLocked' | 'busy'; retryAfterS: number };
export type GuardVerdict = { ok: true } | { ok: false; reason: 'wrong' } | Refusal;

/** A refusal that carries how long to wait; rendered with a Retry-After header. */
export class ThrottledError extends DomainError {
  readonly retryAfterS: number;
  constructor(kind: 'badRequest' | 'unauthenticated' | 'tooManyRequests', code: string, message: string, retryAfterS: number) {
    super(kind, code, message);
    this.retryAfterS = retryAfterS;
  }
}

export interface GuardStats {
  failures: Record<CredentialKind, number>;
  throttled: Record<CredentialKind, number>;
  lockouts: Record<CredentialKind, number>;
  /** Secrets checked with scrypt. */
  scrypt: Record<CredentialKind, number>;
  queued: number;
}

interface Counter {
  failures: number;
  lastFailure: number;
  lockedUntil: number;
  /** Lockouts so far: the next one lasts lockoutMs × 2^level. */
  level: number;
  /** HMACs of the last wrong secrets. */
  bad: string[];
}

/** A Map that forgets its oldest entry past `max`; a touched entry becomes the newest. */
class BoundedMap<V> {
  private readonly m = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.m.get(k);
    if (v !== undefined) {
      this.m.delete(k);
      this.m.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.m.delete(k);
    if (this.m.size >= this.max) this.m.delete(this.m.keys().next().value as string);
    this.m.set(k, v);
  }
  delete(k: string): void {
    this.m.delete(k);
  }
}

type Lane = 'clean' | 'suspect';

const zero = (): Record<CredentialKind, number> => ({ password: 0, clientSecret: 0, operatorKey: 0 });

export class SignInGuard {
  readonly options: SignInGuardOptions;
  readonly stats: GuardStats = { failures: zero(), throttled: zero(), lockouts: zero(), scrypt: zero(), queued: 0 };
  // Per process and never stored: HMACs of secrets mean nothing outside this process's memory.
  private readonly hmacKey = randomBytes(32);
  private readonly subjects: BoundedMap<Counter>;
  private readonly addresses: BoundedMap<Counter>;
  private readonly verified: BoundedMap<true>;
  private running = 0;
  private suspectRunning = 0;
  private readonly lanes: { clean: (() => void)[]; suspect: (() => void)[] } = { clean: [], suspect: [] };

  constructor(options: Partial<SignInGuardOptions> = {}, private readonly now: () => number = Date.now) {
    this.options = { ...defaultGuardOptions, ...options };
    this.subjects = new BoundedMap(this.options.maxEntries);
    this.addresses = new BoundedMap(this.options.maxEntries);
    this.verified = new BoundedMap(this.options.maxEntries);
  }

  /**
   * Checks `secret` against the scrypt hash `stored` for `subject` (e.g. `tenantId/upn`), asked from
   * `address`. A missing `stored` (unknown user, public client) fails like a wrong secret.
   */
  async verify(kind: CredentialKind, subject: string, secret: string, stored: string | null | undefined, address: string): Promise<GuardVerdict> {
    const now = this.now();
    const key = `${kind}\u0000${subject}`;
    const tag = this.mac(key, stored ?? '', secret);
    // App secrets and the operator key are 240–256 random bits: guessing them is hopeless, so their
    // lockout only protects CPU and a secret verified before still passes. A password's lockout must
    // refuse even the right one, or the cache would answer guesses at full speed.
    const highEntropy = kind !== 'password';
    const addr = this.addresses.get(address);
    const subj = this.subjects.get(key);
    const known = stored ? this.verified.get(tag) === true : false;
    if (!(highEntropy && known)) {
      if (addr && addr.lockedUntil > now) return this.throttle(kind, 'addressLocked', addr.lockedUntil - now);
      if (subj && subj.lockedUntil > now) return this.throttle(kind, 'locked', subj.lockedUntil - now);
    }
    if (known) {
      this.succeeded(key, subj);
      return { ok: true };
    }
    if (subj?.bad.includes(tag)) return { ok: false, reason: 'wrong' };
    let ok = false;
    if (stored) {
      const recent = (c: Counter | undefined) => Boolean(c && now - c.lastFailure < this.options.failureMemoryMs);
      const suspect = recent(addr) || recent(subj);
      const lane: Lane = suspect ? 'suspect' : 'clean';
      if (!(await this.acquire(lane))) return this.throttle(kind, 'busy', 1000);
      try {
        this.stats.scrypt[kind]++;
        ok = await verifySecret(secret, stored);
      } finally {
        this.release(lane);
      }
    }
    if (ok) {
      this.verified.set(tag, true);
      this.succeeded(key, this.subjects.get(key));
      return { ok: true };
    }
    this.stats.failures[kind]++;
    this.fail(this.subjects, key, this.options[kind], kind, tag);
    this.fail(this.addresses, address, this.options.address, kind);
    return { ok: false, reason: 'wrong' };
  }

  /**
   * A refusal due now for `subject` from `address`, before anything is looked up: a flood against a
   * locked user costs no database read. `verify` checks again (a secret verified before may pass).
   */
  refused(kind: CredentialKind, subject: string, address: string): Refusal | undefined {
    if (kind !== 'password') return undefined;
    const now = this.now();
    const addr = this.addresses.get(address);
    if (addr && addr.lockedUntil > now) return this.throttle(kind, 'addressLocked', addr.lockedUntil - now);
    const subj = this.subjects.get(`${kind}\u0000${subject}`);
    if (subj && subj.lockedUntil > now) return this.throttle(kind, 'locked', subj.lockedUntil - now);
    return undefined;
  }

  /**
   * For a password checked elsewhere (the redemption sign-in page, whose ticket has its own failure
   * cap): seconds the address must still wait, or 0.
   */
  addressWait(address: string): number {
    const a = this.addresses.get(address);
    const now = this.now();
    return a && a.lockedUntil > now ? Math.ceil((a.lockedUntil - now) / 1000) : 0;
  }

  /** Counts a failure checked elsewhere against its address. */
  addressFailed(kind: CredentialKind, address: string): void {
    this.stats.failures[kind]++;
    this.fail(this.addresses, address, this.options.address, kind);
  }

  /** Scrypt verifications running or waiting (a metrics gauge). */
  pending(): number {
    return this.running + this.lanes.clean.length + this.lanes.suspect.length;
  }

  /** A success clears the failure count; past lockouts still lengthen the next one for a day. */
  private succeeded(key: string, c: Counter | undefined): void {
    if (!c) return;
    if (c.level === 0) this.subjects.delete(key);
    else this.subjects.set(key, { ...c, failures: 0, bad: [] });
  }

  private mac(key: string, stored: string, secret: string): string {
    // The stored hash is part of the tag: a changed password or secret invalidates both caches.
    return createHmac('sha256', this.hmacKey).update(key).update('\u0000').update(stored).update('\u0000').update(secret).digest('base64url');
  }

  private throttle(kind: CredentialKind, reason: Refusal['reason'], waitMs: number): Refusal {
    this.stats.throttled[kind]++;
    return { ok: false, reason, retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  private fail(map: BoundedMap<Counter>, key: string, policy: LockoutPolicy, kind: CredentialKind, tag?: string): void {
    const now = this.now();
    let c = map.get(key);
    if (!c || (now - c.lastFailure > this.options.failureMemoryMs && c.lockedUntil <= now)) {
      // Forgotten failures; a past lockout still counts toward the next one's length for a day.
      const level = c && now - c.lastFailure < 24 * 60 * MINUTE ? c.level : 0;
      c = { failures: 0, lastFailure: now, lockedUntil: 0, level, bad: [] };
    }
    c.failures++;
    c.lastFailure = now;
    if (tag) c.bad = [tag, ...c.bad].slice(0, 3);
    if (c.failures >= policy.threshold) {
      c.lockedUntil = now + Math.min(policy.maxLockoutMs, policy.lockoutMs * 2 ** c.level);
      c.level++;
      c.failures = 0;
      if (tag) this.stats.lockouts[kind]++;
    }
    map.set(key, c);
  }

  // Attempts from an address or for a subject with recent failures are 'suspect': they never take the
  // last free slot, so a valid sign-in finds one at once, whatever the flood.
  private canRun(lane: Lane): boolean {
    return this.running < this.options.scryptSlots &&
      (lane === 'clean' || this.suspectRunning < Math.max(1, this.options.scryptSlots - 1));
  }

  private begin(lane: Lane): void {
    this.running++;
    if (lane === 'suspect') this.suspectRunning++;
  }

  private acquire(lane: Lane): Promise<boolean> | boolean {
    if (this.canRun(lane)) {
      this.begin(lane);
      return true;
    }
    const queue = this.lanes[lane];
    if (queue.length >= this.options.maxQueued) return false;
    return new Promise((resolve) => queue.push(() => resolve(true)));
  }

  private release(lane: Lane): void {
    this.running--;
    if (lane === 'suspect') this.suspectRunning--;
    for (const l of ['clean', 'suspect'] as const) {
      while (this.lanes[l].length && this.canRun(l)) {
        this.begin(l);
        this.lanes[l].shift()!();
      }
    }
  }
}

const lockedText = 'Your account is locked because you have tried to sign in too many times with an incorrect user ID or password.';

/**
 * The OAuth error for a refused verdict. A locked user is Entra's AADSTS50053 (400 invalid_grant); a
 * locked app or address and a full scrypt queue are 429s. Each carries Retry-After.
 */
export function refusal(kind: CredentialKind, v: Refusal): ThrottledError {
  const wait = v.retryAfterS;
  if (v.reason === 'locked' && kind === 'password') {
    return new ThrottledError('badRequest', 'invalid_grant', `AADSTS50053: ${lockedText} Try again in ${wait} seconds.`, wait);
  }
  if (v.reason === 'locked' && kind === 'clientSecret') {
    return new ThrottledError('tooManyRequests', 'invalid_client', `AADSTS50053: Too many requests with an invalid client secret for this application. Try again in ${wait} seconds.`, wait);
  }
  return new ThrottledError('tooManyRequests', 'temporarily_unavailable', `AADSTS90055: There are too many incoming requests. Try again in ${wait} seconds.`, wait);
}
