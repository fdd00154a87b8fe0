// Starting and stopping a Pinstripe server: store, clock, id generator, HTTP app, and the
// housekeeping timers. Used by the CLI (`pinstripe serve`) and by the tests.
import './http/memory-bounds.js'; // first: bounds the heap's growth before the other modules load
import pino, { type Logger } from 'pino';
import { SystemClock, type Clock } from './api/clock.js';
import { createIdGenerator } from './api/ids.js';
import type { Services } from './api/context.js';
import { buildApp, type App } from './http/server.js';
import { registerPinstripeRoutes } from './http/pinstripe-routes.js';
import { registerInvoiceDocuments } from './web/invoice-documents.js';
import { parseRetryDelays, WebhookWorker, type WebhookOptions } from './events/webhooks.js';
import { TimerTick } from './engine/scheduler.js';
import { openStore } from './store/open.js';
import { IDEMPOTENCY_TTL_MS, type Store } from './store/store.js';

export interface ServerOptions {
  port?: number;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  seed?: number;
  clock?: Clock;
  /** pino level, or 'silent'. */
  logLevel?: string;
  /** Use this store instead of opening one (tests). */
  store?: Store;
  /**
   * Webhook delivery (src/events/webhooks.ts): retry delays in seconds (default Stripe's
   * schedule, or env PINSTRIPE_WEBHOOK_RETRY_DELAYS=1,5,30), concurrency, timeout, poll
   * interval, auto-disable; `false` runs no delivery worker in this process.
   */
  webhooks?: WebhookOptions | false;
  /**
   * How often (ms) the scheduler's real-time tick runs due timers (src/engine/scheduler.ts);
   * default 1000; `false` runs none in this process (tests call `scheduler.tick()` themselves).
   */
  schedulerTickMs?: number | false;
}

/** Webhook options from the environment (PINSTRIPE_WEBHOOK_*), under explicit ones. */
export function webhookOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookOptions {
  const o: WebhookOptions = {};
  if (env.PINSTRIPE_WEBHOOK_RETRY_DELAYS) o.retryDelays = parseRetryDelays(env.PINSTRIPE_WEBHOOK_RETRY_DELAYS);
  const num = (name: string) => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got '${v}'`);
    return n;
  };
  const timeout = num('PINSTRIPE_WEBHOOK_TIMEOUT_MS');
  if (timeout !== undefined) o.timeoutMs = timeout;
  const conc = num('PINSTRIPE_WEBHOOK_CONCURRENCY');
  if (conc !== undefined) o.concurrency = conc;
  const disable = num('PINSTRIPE_WEBHOOK_DISABLE_AFTER');
  if (disable !== undefined) o.disableAfterMs = disable * 1000;
  return o;
}

export interface RunningServer {
  url: string;
  /** The delivery worker, when this process runs one. */
  webhooks?: WebhookWorker;
  /** The scheduler's real-time tick (always present; it ticks by itself unless schedulerTickMs is false). */
  scheduler: TimerTick;
  port: number;
  app: App;
  services: Services;
  logger: Logger;
  close(): Promise<void>;
}

export const DEFAULT_PORT = 12111;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = './.pinstripe';

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const logger = pino({ level: opts.logLevel ?? 'info' });
  const store = opts.store ?? await openStore({ dataDir: opts.dataDir ?? DEFAULT_DATA_DIR, databaseUrl: opts.databaseUrl });
  const services: Services = {
    store,
    clock: opts.clock ?? new SystemClock(),
    ids: createIdGenerator(opts.seed),
  };
  const app = buildApp({ services, logger });
  registerPinstripeRoutes(app, services);
  registerInvoiceDocuments(app, services); // hosted invoice page and PDF (src/web), not API routes
  await app.listen({ port: opts.port ?? DEFAULT_PORT, host: opts.host ?? DEFAULT_HOST });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port ?? DEFAULT_PORT;
  const host = opts.host ?? DEFAULT_HOST;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  // Idempotency records live 24 hours.
  const expiry = setInterval(() => {
    store.expireIdempotency(services.clock.nowMs() - IDEMPOTENCY_TTL_MS).catch((err) => logger.warn({ err }, 'idempotency expiry failed'));
    // Finished webhook deliveries are kept 30 days, as Stripe keeps events.
    store.expireDeliveries(services.clock.nowMs() - 30 * 24 * 3600 * 1000).catch((err) => logger.warn({ err }, 'webhook delivery expiry failed'));
  }, 10 * 60 * 1000);
  expiry.unref();

  const worker = opts.webhooks === false ? undefined
    : new WebhookWorker(store, logger, { ...webhookOptionsFromEnv(), ...(opts.webhooks ?? {}) });
  worker?.start();
  const scheduler = new TimerTick(services, logger, opts.schedulerTickMs === false ? undefined : opts.schedulerTickMs);
  if (opts.schedulerTickMs !== false) scheduler.start();

  let closed = false;
  return {
    url, port, app, services, logger, webhooks: worker, scheduler,
    async close() {
      if (closed) return;
      closed = true;
      closeConnectionsAsTheyIdle(app);
      clearInterval(expiry);
      await app.close(); // waits for in-flight requests
      await scheduler.close(); // lets a tick in progress commit
      await worker?.close(); // gives back rows it was delivering
      if (!opts.store) await store.close();
    },
  };
}

/** How long a graceful shutdown waits for in-flight requests before cutting their connections. */
export const SHUTDOWN_GRACE_MS = 10_000;

/**
 * During `app.close()`, which waits for in-flight requests: Node closes only the keep-alive
 * connections idle when closing starts, so the ones that fall idle once their request is
 * answered are closed as they do; a client that never finishes its request is cut off after
 * SHUTDOWN_GRACE_MS. Stops when the HTTP server has closed.
 */
function closeConnectionsAsTheyIdle(app: App): void {
  const started = Date.now();
  const sweep = setInterval(() => {
    if (Date.now() - started > SHUTDOWN_GRACE_MS) app.server.closeAllConnections();
    else app.server.closeIdleConnections();
  }, 25);
  sweep.unref();
  app.server.once('close', () => clearInterval(sweep));
}
