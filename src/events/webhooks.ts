// Webhook delivery: a worker in each server process drains the outbox (webhook_deliveries rows
// written with their events, src/events/events.ts). A row is claimed with a lease (PostgreSQL:
// FOR UPDATE SKIP LOCKED, so several processes share the outbox and each row goes to one), the
// event is rendered in the endpoint's API version, signed like Stripe signs
// (`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with the whole
// whsec_ string) and POSTed. A 2xx within the timeout is success; anything else is retried on
// an exponential schedule (Stripe's: up to three days), then marked failed. An endpoint that
// has failed without a success for `disableAfterMs` is disabled. Delivery runs beside the API,
// never in a request: concurrency and per-attempt time are bounded.
//
// Delivery runs in real time (SystemClock by default), not the API clock: retries are real
// waits, and receivers check the signature's timestamp against their own clock.
import type { Logger } from 'pino';
import { SystemClock, type Clock } from '../api/clock.js';
import { canonicalize, renderForVersion, toBody, type JsonObject } from '../api/render.js';
import { indexEntries } from '../resources/define.js';
import { webhookEndpoints, SECRET_FIELD } from '../resources/webhook-endpoints.js';
import type { Delivery, DeliveryAttempt, DeliveryUpdate, Scope, Store } from '../store/store.js';
import { setMaxListeners } from 'node:events';
import { Agent as HttpAgent, request as httpRequest, type Agent } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { offEvent, onEvent, type EventListener } from './events.js';
import { CONTENT_TYPE, USER_AGENT, signatureHeader } from './signing.js';

export { CONTENT_TYPE, USER_AGENT, parseRetryDelays, signatureHeader } from './signing.js';

/** Stripe-like schedule, in seconds: exponential, then every 12 h; the last retry about 2.7 days after the event. */
export const STRIPE_RETRY_DELAYS: readonly number[] = [60, 300, 1800, 3600, 7200, 14400, 28800, 43200, 43200, 43200, 43200];
const EXCERPT_CHARS = 500;
const MAX_LOGGED_ATTEMPTS = 50;
/**
 * Rows claimed per delivery slot: one in flight and one waiting, so a queued row waits at most
 * one attempt and a lease of two attempt timeouts covers it.
 */
const PREFETCH = 2;

export interface WebhookOptions {
  /** Seconds to wait after each failed attempt; when exhausted the delivery fails. */
  retryDelays?: readonly number[];
  /** Most deliveries in flight at once in this process. */
  concurrency?: number;
  /** Per-attempt time limit, connection and response included. */
  timeoutMs?: number;
  /** How often the outbox is polled for rows other processes wrote or retries that fell due. */
  pollMs?: number;
  /** Disable an endpoint that has failed for this long without a success; 0 never disables. */
  disableAfterMs?: number;
  clock?: Clock;
}

export const DEFAULT_WEBHOOK_OPTIONS = {
  concurrency: 16,
  timeoutMs: 10_000,
  pollMs: 1000,
  disableAfterMs: 5 * 24 * 3600 * 1000,
};

/** The event as one endpoint receives it: its data object in the endpoint's API version. */
export function payloadFor(event: Record<string, any>, endpoint: Record<string, any>): string {
  const version: string = endpoint.api_version ?? event.api_version;
  const data = { ...event.data, object: renderForVersion(event.data.object as JsonObject, version) };
  return toBody(canonicalize({ ...event, api_version: version, data }));
}

/**
 * One POST with node:http(s) and the worker's keep-alive agents (sockets bounded by the
 * worker's concurrency). Resolves with the status and the first bytes of the body; the rest
 * of the body is discarded. Rejects on network errors and when `signal` aborts.
 */
function post(url: URL, agent: Agent, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<{ status: number; excerpt: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'POST', agent, headers, signal }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (d: Buffer) => { if (bytes < EXCERPT_CHARS * 4) { chunks.push(d); bytes += d.length; } });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, excerpt: Buffer.concat(chunks).toString('utf8').slice(0, EXCERPT_CHARS) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export class WebhookWorker {
  private readonly store: Store;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly delays: readonly number[];
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly disableAfterMs: number;
  private readonly pollMs: number;
  private readonly inFlight = new Set<Promise<void>>();
  /** Claimed rows waiting for a slot. */
  private readonly queue: Delivery[] = [];
  /** Outcomes being committed (awaited on close). */
  private readonly committing = new Set<Promise<void>>();
  private readonly closing = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();
  private poll?: NodeJS.Timeout;
  private ticking = false;
  private again = false;
  private closed = false;
  private readonly listener: EventListener;
  private readonly finishQueue: Array<{ row: Delivery; update: DeliveryUpdate; resolve: (held: boolean) => void; reject: (err: unknown) => void }> = [];
  private flushing = false;
  private readonly httpAgent: Agent;
  private readonly httpsAgent: Agent;
  /** What this process did: attempts made, deliveries that succeeded, deliveries given up. */
  readonly stats = { attempts: 0, delivered: 0, failed: 0 };

  constructor(store: Store, logger: Logger, opts: WebhookOptions = {}) {
    this.store = store;
    this.logger = logger;
    this.clock = opts.clock ?? new SystemClock();
    this.delays = opts.retryDelays ?? STRIPE_RETRY_DELAYS;
    this.concurrency = Math.max(1, opts.concurrency ?? DEFAULT_WEBHOOK_OPTIONS.concurrency);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_WEBHOOK_OPTIONS.timeoutMs;
    this.disableAfterMs = opts.disableAfterMs ?? DEFAULT_WEBHOOK_OPTIONS.disableAfterMs;
    this.pollMs = opts.pollMs ?? DEFAULT_WEBHOOK_OPTIONS.pollMs;
    // Only events that queued deliveries give the outbox anything new to claim (a claim is a
    // write transaction); other processes' rows are found by the poll.
    this.listener = (_scope, _eventId, deliveries) => { if (deliveries > 0) this.wake(); };
    setMaxListeners(0, this.closing.signal); // one abort listener per delivery in flight
    const agentOptions = { keepAlive: true, maxSockets: this.concurrency, maxFreeSockets: this.concurrency, timeout: this.timeoutMs };
    this.httpAgent = new HttpAgent(agentOptions);
    this.httpsAgent = new HttpsAgent(agentOptions);
  }

  /** Lease on a claimed row: covers its wait in the local queue plus an attempt, short enough to recover from a crash. */
  private get leaseMs(): number { return this.timeoutMs * PREFETCH + 2000; }

  start(): void {
    onEvent(this.listener);
    this.poll = setInterval(() => this.wake(), this.pollMs);
    this.poll.unref();
    this.wake();
  }

  /** Looks for due rows soon (after a commit, a finished delivery, a retry falling due). */
  wake(): void {
    if (this.closed) return;
    if (this.ticking) { this.again = true; return; }
    this.ticking = true;
    setImmediate(() => void this.tick());
  }

  private wakeAt(delayMs: number): void {
    if (this.closed) return;
    const t = setTimeout(() => { this.timers.delete(t); this.wake(); }, Math.max(0, delayMs));
    t.unref();
    this.timers.add(t);
  }

  /**
   * Claims rows ahead of the free slots (up to PREFETCH × concurrency, queued locally): on
   * SQLite every claim waits its turn behind the API's writers, so claiming only what fits in
   * the free slots would cap deliveries below the API's rate. The lease covers the queue wait.
   */
  private async tick(): Promise<void> {
    try {
      do {
        this.again = false;
        this.dispatch();
        const want = this.concurrency * PREFETCH - this.queue.length - this.inFlight.size;
        if (this.closed || this.queue.length >= this.concurrency || want <= 0) break;
        const now = this.clock.nowMs();
        const rows = await this.store.claimDeliveries(now, now + this.leaseMs, want);
        if (this.closed) { this.queue.push(...rows); break; }
        this.queue.push(...rows);
        this.dispatch();
        if (rows.length === want) this.again = true;
      } while (this.again && !this.closed);
    } catch (err) {
      if (!this.closed) this.logger.warn({ err }, 'webhook outbox poll failed');
    } finally {
      this.ticking = false;
    }
  }

  /** Starts queued deliveries while slots are free. */
  private dispatch(): void {
    while (!this.closed && this.inFlight.size < this.concurrency && this.queue.length) {
      const row = this.queue.shift()!;
      const p: Promise<void> = this.deliver(row)
        .catch((err) => this.logger.warn({ err, delivery: row.id }, 'webhook delivery failed unexpectedly'))
        .finally(() => { this.inFlight.delete(p); this.dispatch(); this.wake(); });
      this.inFlight.add(p);
    }
  }

  private async deliver(row: Delivery): Promise<void> {
    const scope: Scope = { account: row.account, livemode: row.livemode };
    const [endpoint, event] = await Promise.all([this.store.get(scope, row.endpointId), this.store.get(scope, row.eventId)]);
    if (!endpoint || endpoint.deleted || endpoint.data.status !== 'enabled' || !event) {
      // Stripe stops retrying once an endpoint is disabled or deleted.
      await this.finish(row, 'failed', row.attempts, row.attemptLog, null);
      return;
    }
    const body = payloadFor(event.data, endpoint.data);
    const started = this.clock.nowMs();
    const timestamp = Math.floor(started / 1000);
    let status: number | null = null;
    let excerpt = '';
    // A plain timer rather than AbortSignal.any(AbortSignal.timeout(…)), whose timeout Node 20
    // may garbage-collect before it fires.
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; ctl.abort(); }, this.timeoutMs);
    const onClose = () => ctl.abort();
    this.closing.signal.addEventListener('abort', onClose, { once: true });
    if (this.closing.signal.aborted) ctl.abort(); // closed while this row was being read
    try {
      const url = new URL(endpoint.data.url);
      const res = await post(url, url.protocol === 'https:' ? this.httpsAgent : this.httpAgent, {
        'Content-Type': CONTENT_TYPE,
        'Content-Length': String(Buffer.byteLength(body)),
        'User-Agent': USER_AGENT,
        'Stripe-Signature': signatureHeader(endpoint.data[SECRET_FIELD], body, timestamp),
        'Cache-Control': 'no-cache',
        Accept: '*/*; q=0.5, application/xml',
      }, body, ctl.signal);
      status = res.status;
      excerpt = res.excerpt;
    } catch (err) {
      if (this.closing.signal.aborted && !timedOut) {
        // Shutting down mid-attempt: give the row back untouched; it goes out after the restart.
        await this.finish(row, 'pending', row.attempts, row.attemptLog, row.nextAttemptMs).catch(() => {});
        return;
      }
      const e = err as Error & { code?: string };
      excerpt = timedOut ? `timed out after ${this.timeoutMs} ms` : `${e.code ?? e.name}: ${e.message}`;
    } finally {
      clearTimeout(timer);
      this.closing.signal.removeEventListener('abort', onClose);
    }
    this.stats.attempts++;
    const attempt: DeliveryAttempt = { at: started, status, latencyMs: this.clock.nowMs() - started, excerpt };
    const log = [...row.attemptLog, attempt].slice(-MAX_LOGGED_ATTEMPTS);
    const attempts = row.attempts + 1;
    const ok = status !== null && status >= 200 && status < 300;
    // The outcome commits in the background (group commit); the slot is free for the next row
    // as soon as the HTTP attempt is over. The row stays leased until its outcome is stored.
    this.background((async () => {
      if (ok) {
        if (await this.finish(row, 'delivered', attempts, log, null)) this.stats.delivered++;
        return;
      }
      const delay = this.delays[attempts - 1];
      if (delay === undefined) {
        await this.finish(row, 'failed', attempts, log, null);
        this.stats.failed++;
      } else {
        await this.finish(row, 'pending', attempts, log, attempt.at + delay * 1000);
        this.wakeAt(attempt.at + delay * 1000 - this.clock.nowMs());
      }
      await this.maybeDisable(scope, row.endpointId);
    })());
  }

  private background(p: Promise<unknown>): void {
    const tracked: Promise<void> = p
      .then(() => undefined, (err) => this.logger.warn({ err }, 'recording a webhook outcome failed'))
      .finally(() => this.committing.delete(tracked));
    this.committing.add(tracked);
  }

  /**
   * Records the outcome; a success also lowers the event's pending_webhooks in the same
   * transaction. Outcomes are group-committed: whatever finished meanwhile shares one
   * transaction, so deliveries cost the API's writers few lock turns.
   */
  private finish(row: Delivery, state: Delivery['state'], attempts: number, attemptLog: DeliveryAttempt[], nextAttemptMs: number | null): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.finishQueue.push({ row, update: { id: row.id, leaseUntilMs: row.leaseUntilMs, state, attempts, attemptLog, nextAttemptMs: nextAttemptMs ?? row.nextAttemptMs }, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.finishQueue.length) {
      const batch = this.finishQueue.splice(0, 200);
      try {
        const results = await this.store.transaction(async (tx) => {
          const held: boolean[] = [];
          for (const f of batch) {
            const ok = await tx.updateDelivery(f.update);
            held.push(ok);
            if (!ok || f.update.state !== 'delivered') continue;
            const scope: Scope = { account: f.row.account, livemode: f.row.livemode };
            const ev = await tx.getForUpdate(scope, f.row.eventId);
            if (!ev || ev.deleted) continue;
            const data = { ...ev.data, pending_webhooks: Math.max(0, (ev.data.pending_webhooks ?? 1) - 1) };
            await tx.update(scope, { id: ev.id, version: ev.version, data, index: [{ field: 'type', value: String(ev.data.type) }] });
          }
          return held;
        });
        batch.forEach((f, i) => f.resolve(results[i]!));
      } catch (err) {
        for (const f of batch) f.reject(err);
      }
    }
    this.flushing = false;
  }

  private async maybeDisable(scope: Scope, endpointId: string): Promise<void> {
    if (!this.disableAfterMs) return;
    const since = await this.store.endpointFailingSince(scope, endpointId);
    if (since === null || this.clock.nowMs() - since < this.disableAfterMs) return;
    await this.store.transaction(async (tx) => {
      const ep = await tx.getForUpdate(scope, endpointId);
      if (!ep || ep.deleted || ep.data.status !== 'enabled') return;
      const data = { ...ep.data, status: 'disabled' };
      await tx.update(scope, { id: ep.id, version: ep.version, data, index: indexEntries(webhookEndpoints, data) });
    });
    this.logger.warn({ endpoint: endpointId, failingSinceMs: since }, 'webhook endpoint disabled after failing');
  }

  /** Stops claiming, aborts attempts in flight (their rows are given back) and waits for them. */
  async close(graceMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    offEvent(this.listener);
    if (this.poll) clearInterval(this.poll);
    for (const t of this.timers) clearTimeout(t);
    this.closing.abort();
    // Bounded: whatever is not settled within the grace period is left to its lease, and
    // another process (or this one after a restart) delivers it again.
    const deadline = Date.now() + graceMs;
    const settle = async (ps: Iterable<Promise<unknown>>) => {
      const left = deadline - Date.now();
      if (left <= 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...ps]), new Promise((r) => { timer = setTimeout(r, left); })]);
      clearTimeout(timer);
    };
    await settle(this.inFlight);
    // A tick may be between claiming and starting deliveries; let it settle.
    while (this.ticking && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    // Claimed rows that never started go back untouched, due at once for the next process.
    for (const row of this.queue.splice(0)) this.background(this.finish(row, 'pending', row.attempts, row.attemptLog, row.nextAttemptMs));
    await settle(this.inFlight);
    while (this.committing.size && Date.now() < deadline) await settle(this.committing);
    if (this.inFlight.size || this.committing.size || this.ticking) {
      this.logger.warn({ inFlight: this.inFlight.size, committing: this.committing.size }, 'webhook worker closed with work unsettled; leases will expire');
    }
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

}
