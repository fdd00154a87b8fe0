// The `pinstripe` command line: `serve` runs the server in the foreground; `listen`, `trigger`,
// `reset`, `keys` and `deliveries` talk to a running server over HTTP (--api-base, default
// http://127.0.0.1:12111; key from --api-key or PINSTRIPE_API_KEY / STRIPE_API_KEY).
// Exit codes: 0 ok, 1 a request or command failed, 2 bad usage, 3 server unreachable.
import { Command, InvalidArgumentError } from 'commander';
import { createIdGenerator } from '../api/ids.js';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT } from './defaults.js';
import { parseRetryDelays } from '../events/signing.js';
import type { WebhookOptions } from '../events/webhooks.js';
import { ApiClient, CliError, DEFAULT_API_BASE, resolveBase, resolveKey } from './client.js';
import { listen } from './listen.js';
import { findTrigger, runTrigger, TRIGGERS } from './trigger.js';
import { c, clockTime, out, statusText } from './output.js';

/**
 * The key pair printed under `--seed`: derived from the seed (its own generator, so the id
 * sequence is unchanged), so reproducible runs print the same keys and reach the same account.
 */
export function seededKeys(seed: number): { secret: string; publishable: string } {
  const suffix = createIdGenerator((seed ^ 0x6b657973) >>> 0).random(24);
  return { secret: `sk_test_${suffix}`, publishable: `pk_test_${suffix}` };
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

function delays(value: string): number[] {
  try { return parseRetryDelays(value); } catch (e) { throw new InvalidArgumentError((e as Error).message); }
}

/** A fresh matching key pair: each distinct suffix is its own account. */
export function freshKeys(): { secret: string; publishable: string } {
  const suffix = randomBytes(18).toString('base64url').replace(/[-_]/g, 'x');
  return { secret: `sk_test_${suffix}`, publishable: `pk_test_${suffix}` };
}

function apiOptions(cmd: Command): Command {
  return cmd
    .option('-k, --api-key <key>', 'secret key of the account to act on (env PINSTRIPE_API_KEY or STRIPE_API_KEY)')
    .option('--api-base <url>', `server URL (env PINSTRIPE_API_BASE; default ${DEFAULT_API_BASE})`);
}

function client(o: { apiKey?: string; apiBase?: string }): ApiClient {
  return new ApiClient(resolveBase(o.apiBase), resolveKey(o.apiKey));
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try { return (await rl.question(question)).trim().toLowerCase() === 'yes'; } finally { rl.close(); }
}

export function buildCli(): Command {
  const program = new Command();
  program.name('pinstripe').description('A self-hosted server that speaks the Stripe REST API (v1).');

  program.command('serve', { isDefault: true })
    .description('run the server in the foreground')
    .option('-p, --port <port>', 'port to listen on', integer, DEFAULT_PORT)
    .option('-H, --host <host>', 'interface to bind (127.0.0.1 keeps it local)', DEFAULT_HOST)
    .option('-d, --data <dir>', 'data directory of the embedded SQLite store', DEFAULT_DATA_DIR)
    .option('--database-url <url>', 'PostgreSQL URL (postgres://…); overrides --data (env DATABASE_URL)')
    .option('--seed <n>', 'make ids and secrets deterministic, for reproducible test runs', integer)
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info')
    .option('--webhook-retry-delays <seconds>', 'comma-separated waits after each failed webhook attempt, e.g. 1,5,30 (env PINSTRIPE_WEBHOOK_RETRY_DELAYS; default Stripe-like, about 3 days)', delays)
    .option('--webhook-timeout <ms>', 'time limit of one webhook attempt (env PINSTRIPE_WEBHOOK_TIMEOUT_MS; default 10000)', integer)
    .option('--webhook-concurrency <n>', 'most webhook deliveries in flight in this process (env PINSTRIPE_WEBHOOK_CONCURRENCY; default 16)', integer)
    .option('--webhook-disable-after <seconds>', 'disable an endpoint failing this long without a success; 0 never (env PINSTRIPE_WEBHOOK_DISABLE_AFTER; default 5 days)', integer)
    .option('--no-webhooks', 'run no webhook delivery worker in this process (another process delivers)')
    .action(async (o) => {
      const webhooks: WebhookOptions = {};
      if (o.webhookRetryDelays) webhooks.retryDelays = o.webhookRetryDelays;
      if (o.webhookTimeout !== undefined) webhooks.timeoutMs = o.webhookTimeout;
      if (o.webhookConcurrency !== undefined) webhooks.concurrency = o.webhookConcurrency;
      if (o.webhookDisableAfter !== undefined) webhooks.disableAfterMs = o.webhookDisableAfter * 1000;
      const { startServer } = await import('../server.js'); // loaded only to serve: the other commands start fast
      const server = await startServer({
        port: o.port, host: o.host, dataDir: o.data, databaseUrl: o.databaseUrl ?? process.env.DATABASE_URL,
        seed: o.seed, logLevel: o.logLevel, webhooks: o.webhooks === false ? false : webhooks,
      });
      const keys = o.seed === undefined ? freshKeys() : seededKeys(o.seed);
      const store = server.services.store.kind === 'postgres' ? 'PostgreSQL' : `SQLite in ${o.data}`;
      process.stdout.write(
        `Pinstripe listening on ${server.url} (store: ${store})\n` +
        `  secret key:      ${keys.secret}\n` +
        `  publishable key: ${keys.publishable}\n` +
        `Any sk_test_… key works; each distinct key is its own account.\n`,
      );
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        server.logger.info({ signal }, 'shutting down');
        try {
          await server.close();
          process.exit(0);
        } catch (err) {
          server.logger.error({ err }, 'shutdown failed');
          process.exit(1);
        }
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
    });

  apiOptions(program.command('listen'))
    .description('forward the account\'s events to a local URL, signed with a whsec_ secret printed at start (like `stripe listen`)')
    .option('-f, --forward-to <url>', 'URL to POST each event to (without it, events are only printed)')
    .option('-e, --events <types>', 'comma-separated event types to receive (default all)', (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .action(async (o) => {
      await listen(client(o), { forwardTo: o.forwardTo, events: o.events });
    });

  apiOptions(program.command('trigger'))
    .description('perform the API calls that make an event happen (like `stripe trigger`)')
    .argument('[event]', 'event type, e.g. customer.created')
    .option('-l, --list', 'list the events that can be triggered')
    .action(async (event: string | undefined, o) => {
      if (o.list || !event) {
        if (!o.list) throw new CliError('Which event? e.g. `pinstripe trigger customer.created`; `pinstripe trigger --list` shows them all.', 2);
        for (const t of TRIGGERS) {
          out(`${c.bold(t.event.padEnd(32))} ${t.does}`);
        }
        return;
      }
      const t = findTrigger(event);
      const id = await runTrigger(client(o), t);
      out(`${c.green('Trigger succeeded!')} ${t.event} ${c.cyan(`[${id}]`)}: ${t.does}. Check \`pinstripe listen\` or your endpoint.`);
    });

  apiOptions(program.command('reset'))
    .description('delete one account\'s data (both modes), or with --all the whole store')
    .option('--all', 'delete every account\'s data (asks for confirmation)')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (o) => {
      if (o.all) {
        if (!o.yes && !(await confirm(`Delete ALL data of every account on ${resolveBase(o.apiBase)}? Type 'yes' to confirm: `))) {
          throw new CliError('Not confirmed: nothing was deleted (pass --yes to skip the question).');
        }
        const api = new ApiClient(resolveBase(o.apiBase), o.apiKey ?? process.env.PINSTRIPE_API_KEY ?? freshKeys().secret);
        await api.request('POST', '/_pinstripe/reset?all=true');
        out(`${c.green('Reset')} the whole store.`);
        return;
      }
      const r = await client(o).request('POST', '/_pinstripe/reset');
      out(`${c.green('Reset')} account ${r.json.account}: its customers, products, prices, events, webhook endpoints and deliveries are gone.`);
    });

  program.command('keys')
    .description('print a fresh matching secret / publishable key pair (a new account)')
    .action(() => {
      const k = freshKeys();
      out(`${c.dim('STRIPE_SECRET_KEY=')}${k.secret}`);
      out(`${c.dim('STRIPE_PUBLISHABLE_KEY=')}${k.publishable}`);
    });

  apiOptions(program.command('deliveries'))
    .description('show recent webhook deliveries of the account and their attempts')
    .option('--event <id>', 'only the deliveries of this event')
    .option('--limit <n>', 'how many (1-100)', integer, 20)
    .action(async (o) => {
      const r = await client(o).request('GET', '/_pinstripe/webhook_deliveries', { event: o.event, limit: o.limit });
      if (!r.json.data.length) { out('No webhook deliveries.'); return; }
      for (const d of r.json.data) {
        const state = d.state === 'delivered' ? c.green(d.state) : d.state === 'failed' ? c.red(d.state) : c.yellow(d.state);
        out(`${c.bold(d.event)} -> ${d.webhook_endpoint}  ${state}${d.next_attempt_ms ? c.dim(` next attempt ${clockTime(d.next_attempt_ms)}`) : ''}`);
        for (const a of d.attempts) {
          out(`    ${c.dim(clockTime(a.at))}  ${statusText(a.status)}  ${String(a.latency_ms).padStart(5)} ms  ${JSON.stringify(a.response_excerpt.slice(0, 80))}`);
        }
      }
    });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`${c.red('Error:', process.stderr)} ${e.message}\n`);
      process.exit(e.exitCode);
    }
    throw e;
  }
}
