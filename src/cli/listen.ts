// `pinstripe listen`: like `stripe listen`. The CLI opens a relay on a local port and registers
// a temporary webhook endpoint pointing at it (so the server's own outbox, signing and retries
// do the delivery); every event that arrives is checked against the endpoint's secret, printed,
// and forwarded to --forward-to signed with that same secret, which is printed at start. The
// endpoint is deleted on exit (SIGINT / SIGTERM). The relay always answers the server 200, as
// `stripe listen` does not retry on the forward target's behalf.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApiClient, CliError } from './client.js';
import { c, clockTime, err, out, statusText } from './output.js';
import { CONTENT_TYPE, USER_AGENT, signatureHeader } from '../events/signing.js';

export interface ListenOptions {
  forwardTo?: string;
  events?: string[];
  /** Host the server should call the relay on (default 127.0.0.1). */
  relayHost?: string;
  /** Forwarding time limit per event. */
  timeoutMs?: number;
}

function verify(secret: string, body: string, header: string | undefined): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  if (!parts.t || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function forward(url: string, secret: string, body: string, timeoutMs: number): Promise<{ status: number | null; error?: string }> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': CONTENT_TYPE, 'User-Agent': USER_AGENT, 'Stripe-Signature': signatureHeader(secret, body, Math.floor(Date.now() / 1000)) },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    return { status: res.status };
  } catch (e) {
    const x = e as Error & { cause?: { code?: string } };
    return { status: null, error: x.name === 'TimeoutError' ? 'timeout' : x.cause?.code ?? x.message };
  }
}

/** Is something listening at the URL's host and port? (A refused connection means no.) */
async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { method: 'GET', signal: AbortSignal.timeout(1000) });
    return true;
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code;
    return code !== 'ECONNREFUSED';
  }
}

/**
 * Endpoints left by a listener that was killed (kill -9 skips the cleanup): this account's
 * `pinstripe listen` endpoints whose relay port no longer answers are deleted.
 */
async function removeStaleListeners(api: ApiClient): Promise<string[]> {
  const list = (await api.request('GET', '/v1/webhook_endpoints', { limit: 100 })).json?.data ?? [];
  const removed: string[] = [];
  for (const we of list) {
    if (we.metadata?.pinstripe_listen !== 'true') continue;
    if (await answers(we.url)) continue;
    await api.request('DELETE', `/v1/webhook_endpoints/${we.id}`, {}, [404]);
    removed.push(we.id);
  }
  return removed;
}

export async function listen(api: ApiClient, opts: ListenOptions): Promise<void> {
  if (opts.forwardTo) {
    try { new URL(opts.forwardTo); } catch { throw new CliError(`--forward-to must be a URL, got '${opts.forwardTo}'`, 2); }
  }
  let secret = '';
  const relay: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (!verify(secret, body, req.headers['stripe-signature'] as string | undefined)) {
        res.writeHead(400).end('bad signature');
        return;
      }
      let event: any;
      try { event = JSON.parse(body); } catch { res.writeHead(400).end('bad body'); return; }
      void (async () => {
        const when = clockTime(Date.now());
        const head = `${c.dim(when)}  ${c.bold(event.type)} ${c.cyan(`[${event.id}]`)}`;
        if (!opts.forwardTo) {
          out(head);
        } else {
          const r = await forward(opts.forwardTo, secret, body, opts.timeoutMs ?? 8000); // under the server's 10 s attempt limit
          out(`${head}  --> ${statusText(r.status)}${r.error ? ` ${r.error}` : ''} POST ${opts.forwardTo}`);
        }
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    relay.once('error', reject);
    relay.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (relay.address() as AddressInfo).port;

  let endpointId: string | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (endpointId) await api.request('DELETE', `/v1/webhook_endpoints/${endpointId}`).catch((e) => err(`could not delete ${endpointId}: ${(e as Error).message}`));
    relay.closeAllConnections();
    relay.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  let endpoint: any;
  try {
    const stale = await removeStaleListeners(api);
    if (stale.length) out(c.dim(`Removed ${stale.length} endpoint(s) of listeners that are gone: ${stale.join(', ')}`));
    endpoint = (await api.request('POST', '/v1/webhook_endpoints', {
      url: `http://${opts.relayHost ?? '127.0.0.1'}:${port}/`,
      enabled_events: opts.events?.length ? opts.events : ['*'],
      description: 'pinstripe listen (temporary, deleted when it exits)',
      metadata: { pinstripe_listen: 'true' },
    })).json;
  } catch (e) {
    relay.close();
    throw e;
  }
  endpointId = endpoint.id;
  secret = endpoint.secret;
  out(`${c.green('Ready!')} Your webhook signing secret is ${c.bold(secret)} (^C to quit)`);
  out(c.dim(`Listening for ${opts.events?.length ? opts.events.join(', ') : 'all events'} on ${api.base}${opts.forwardTo ? `, forwarding to ${opts.forwardTo}` : ''} (endpoint ${endpoint.id})`));
  await new Promise(() => {}); // runs until a signal
}
