// The HTTP edge: Fastify routes every operation through one pipeline — authentication,
// Stripe-Version, Stripe-Account, parameter decoding and validation, idempotency, execution
// in a store transaction, expansion and rendering — and renders every failure in Stripe's
// error shape with a Request-Id.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import FindMyWay from 'find-my-way';
import { hash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { StripeError, apiError, idempotencyError, invalidRequest } from '../api/errors.js';
import { applyExpand, parseExpand, type ExpandTree } from '../api/expand.js';
import { validateParams, type Params } from '../api/params.js';
import { renderForVersion, toBody } from '../api/render.js';
import { resolveApiVersion } from '../api/versions.js';
import { BodyCache, LIST_ITEM_INDENT, StoredResult, indentBody, plain, type Rendered } from '../api/stored-result.js';
import { IdempotencyTaken, type IdempotencyRecord, type StoredObject } from '../store/store.js';
import type { ReadContext, Services, WriteContext } from '../api/context.js';
import { operationParams } from '../generated/params.js';
import { INCLUDABLE, allOperations } from '../resources/index.js';
import { stripIncludable } from '../api/includable.js';
import type { Obj, Operation } from '../resources/define.js';
import { authenticate, checkStripeAccount, requireSecretKey, type Auth } from './auth.js';
import { decodeForm } from './forms.js';
import { registerThreeDS } from '../web/three-ds.js';

export const BODY_LIMIT = 1024 * 1024;
const IDEMPOTENCY_LEASE_MS = 60_000;
const MAX_IDEMPOTENCY_KEY = 255;

export interface AppOptions {
  services: Services;
  logger: Logger | false;
}

function unrecognized(method: string, url: string): StripeError {
  return invalidRequest(`Unrecognized request URL (${method}: ${url.split('?')[0]}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`, undefined, undefined, 404);
}

/** Headers every response carries, errors and preflights included. */
function baseHeaders(reply: FastifyReply): FastifyReply {
  return reply.headers({
    'Request-Id': String(reply.request.id),
    'Access-Control-Allow-Origin': '*',
    'Cache-Control': 'no-cache, no-store',
  });
}

function send(reply: FastifyReply, status: number, body: string | Buffer, headers?: Record<string, string>): FastifyReply {
  baseHeaders(reply).code(status);
  if (headers) reply.headers(headers);
  return reply.type('application/json').send(body);
}

function sendError(req: FastifyRequest, reply: FastifyReply, err: StripeError): FastifyReply {
  return send(reply, err.status, toBody(err.body(String(req.id))), err.headers);
}

/** A response of the API pipeline, before it is written (a cached retrieve's body as its bytes). */
interface Outcome { status: number; body: string | Buffer; headers?: Record<string, string> }

/** What the pipeline needs of a request, whichever way it came in (the fast path or Fastify). */
interface Incoming {
  id: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The raw body, undefined when the request had none. */
  body: string | undefined;
  params: Record<string, string>;
}

const errorOutcome = (err: StripeError, requestId: string): Outcome => ({ status: err.status, body: toBody(err.body(requestId)), headers: err.headers });

/** Removes includable fields unless expanded, then expands, on a private copy. */
async function prepare(ctx: ReadContext, obj: Obj, tree: ExpandTree): Promise<Obj> {
  const hidden = typeof obj.object === 'string' ? INCLUDABLE.get(obj.object) : undefined;
  if (hidden) stripIncludable(obj, hidden, tree);
  if (Object.keys(tree).length) await applyExpand(ctx, obj, tree);
  return renderForVersion(obj, ctx.apiVersion);
}

/** Rendered bodies, per store: row sequence numbers are only unique within one database. */
const bodyCaches = new WeakMap<object, BodyCache>();
function bodyCache(ctx: ReadContext): BodyCache {
  let cache = bodyCaches.get(ctx.services.store);
  if (!cache) bodyCaches.set(ctx.services.store, (cache = new BodyCache()));
  return cache;
}
/** Stands for the rendered items inside a list envelope while it is serialised. */
const ITEMS = '\u0000items';
const ITEMS_JSON = JSON.stringify(ITEMS);

/** A stored object rendered as the request's version shows it, unexpanded: cached by row version. */
async function renderStoredEntry(ctx: ReadContext, s: StoredObject): Promise<Rendered> {
  const bodies = bodyCache(ctx);
  const key = bodies.key(ctx.scope.account, s, ctx.apiVersion);
  return bodies.get(key) ?? bodies.set(key, toBody(await prepare(ctx, s.data, {})));
}
const renderStored = async (ctx: ReadContext, s: StoredObject): Promise<string> => (await renderStoredEntry(ctx, s)).text;

async function renderResult(ctx: ReadContext, op: Operation, result: Obj, expand: string[] | undefined): Promise<string> {
  const tree = parseExpand(expand, !!op.returnsList, op.listExtras);
  const unexpanded = Object.keys(tree).length === 0;
  if (op.returnsList) {
    const items = result.data as Array<Obj | StoredResult>;
    if (unexpanded && items.length) {
      // Serialise the envelope around a marker, then splice in the items' bodies, indented.
      const rendered: string[] = [];
      for (const item of items) {
        rendered.push(item instanceof StoredResult
          ? bodyCache(ctx).inList(await renderStoredEntry(ctx, item.stored))
          : indentBody(toBody(await prepare(ctx, item, tree)), LIST_ITEM_INDENT));
      }
      const envelope = toBody({ ...result, data: [ITEMS] });
      const spliced = rendered.join(`,\n${LIST_ITEM_INDENT}`);
      return envelope.replace(ITEMS_JSON, () => spliced); // a function: '$&' in a body must stay literal
    }
    const data = [];
    for (const item of items) data.push(await prepare(ctx, plain(item), tree));
    return toBody({ ...result, data });
  }
  if (result instanceof StoredResult) {
    return unexpanded ? renderStored(ctx, result.stored) : toBody(await prepare(ctx, result.stored.data, tree));
  }
  return toBody(await prepare(ctx, result, tree));
}

function requestHash(method: string, path: string, raw: unknown): string {
  return hash('sha256', `${method} ${path}\n${JSON.stringify(raw)}`, 'base64url'); // one-shot: no Hash object
}

/** Answers a request whose idempotency key already has a result, or is still executing. */
function replay(r: IdempotencyRecord, hash: string, idempotencyKey: string): Outcome {
  if (r.requestHash !== hash) {
    throw idempotencyError(`Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`);
  }
  if (r.state === 'pending') {
    throw new StripeError(409, {
      type: 'invalid_request_error', code: 'idempotency_key_in_use',
      message: `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${idempotencyKey}. Please try again later.`,
    }, { 'Stripe-Should-Retry': 'true' });
  }
  return { status: r.status!, body: r.body!, headers: { 'Idempotent-Replayed': 'true' } };
}

/** `/v1/customers/{id}` → `/v1/customers/:id` for Fastify's router. */
const routePath = (p: string) => p.replace(/\{(\w+)\}/g, ':$1');

export type App = FastifyInstance<any, any, any, any>;

/** Fastify's defaults, applied to the server we create for it (see serverFactory below). */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/** Unexpected errors and Fastify's own 4xx errors, in Stripe's error shape. */
function failureOutcome(err: unknown, requestId: string, log: Logger | null): Outcome {
  if (err instanceof StripeError) return errorOutcome(err, requestId);
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return errorOutcome(invalidRequest(`Request body too large: the limit is ${BODY_LIMIT} bytes.`, undefined, undefined, 413), requestId);
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return errorOutcome(invalidRequest(`Invalid request: ${e.message}`, undefined, undefined, e.statusCode), requestId);
  }
  log?.error({ err, reqId: requestId }, 'unexpected error');
  return errorOutcome(apiError('An unknown error occurred'), requestId);
}

interface Route { op: Operation; schema: Parameters<typeof validateParams>[1] }

export function buildApp(opts: AppOptions): App {
  const { services } = opts;
  const log = opts.logger === false ? null : opts.logger;
  const logRequests = !!log?.isLevelEnabled('info');

  // The API's own router. API requests are answered on node:http directly (the fast path
  // below), which costs a fraction of a framework's per-request work; Fastify serves the
  // rest (the pages in src/web, /_pinstripe routes, 404s, CORS preflights, and any request
  // the fast path leaves to it: odd methods, percent-encoded paths, bodies that are not
  // forms or too large), with the same pipeline behind it.
  const router = FindMyWay({ ignoreTrailingSlash: false, maxParamLength: 500 });
  const routes: Route[] = [];
  for (const op of allOperations()) {
    let schema = operationParams(op.method, op.paramsKey?.split(' ')[1] ?? op.path)?.params;
    if (!schema) throw new Error(`no parameter table for ${op.method} ${op.path}`);
    if (op.extraParams) schema = { ...schema, props: { ...schema.props, ...op.extraParams } };
    const route: Route = { op, schema };
    routes.push(route);
    router.on(op.method, routePath(op.path), () => {}, route);
  }

  const finish = (res: ServerResponse, inc: Incoming, out: Outcome, extra: Record<string, string>, started: number, close = false) => {
    // Assigned one by one rather than spread into a literal (see the contexts in execute).
    const headers: Record<string, string | number> = {
      'request-id': inc.id,
      'access-control-allow-origin': '*',
      'cache-control': 'no-cache, no-store',
    };
    for (const k in extra) headers[k] = extra[k]!;
    if (out.headers) for (const k in out.headers) headers[k.toLowerCase()] = out.headers[k]!;
    headers['content-type'] = 'application/json; charset=utf-8';
    headers['content-length'] = typeof out.body === 'string' ? Buffer.byteLength(out.body) : out.body.length;
    if (close) headers.connection = 'close';
    res.writeHead(out.status, headers);
    res.end(out.body);
    if (logRequests) {
      log!.info({ reqId: inc.id, method: inc.method, path: inc.url.split('?')[0], status: out.status, ms: Math.round((performance.now() - started) * 10) / 10 }, 'request');
    }
  };

  const run = (res: ServerResponse, route: Route, inc: Incoming, started: number) => {
    const extra: Record<string, string> = {};
    execute(services, route.op, route.schema, inc, extra)
      .catch((err: unknown) => failureOutcome(err, inc.id, log))
      .then((out) => finish(res, inc, out, extra, started))
      .catch((err: unknown) => { log?.error({ err, reqId: inc.id }, 'could not send the response'); res.destroy(); });
  };

  /** Answers an API request without Fastify; false leaves the request to Fastify. */
  const fastPath = (req: IncomingMessage, res: ServerResponse): boolean => {
    const method = req.method!;
    if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') return false;
    const url = req.url!;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const headers = req.headers;
    if (path.includes('%') || headers.host === undefined) return false;
    const found = router.find(method, path);
    if (!found) return false;
    const route = found.store as Route;
    if (method === 'GET') {
      const started = logRequests ? performance.now() : 0;
      run(res, route, { id: services.ids.id('req'), method, url, headers, body: undefined, params: found.params as Record<string, string> }, started);
      return true;
    }
    const ctype = headers['content-type'];
    const length = headers['content-length'];
    const te = headers['transfer-encoding'];
    if (ctype === undefined && te === undefined && (length === undefined || length === '0')) {
      const started = logRequests ? performance.now() : 0;
      run(res, route, { id: services.ids.id('req'), method, url, headers, body: undefined, params: found.params as Record<string, string> }, started);
      return true;
    }
    // Bodies that are not forms, and declared lengths over the limit, take Fastify's path.
    if (ctype === undefined || !FORM_TYPE.test(ctype)) return false;
    if (length !== undefined && !(Number(length) <= BODY_LIMIT)) return false;
    const started = logRequests ? performance.now() : 0;
    const id = services.ids.id('req');
    const chunks: Buffer[] = [];
    let received = 0;
    let failed = false;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > BODY_LIMIT) {
        failed = true;
        req.off('data', onData);
        const inc: Incoming = { id, method, url, headers, body: undefined, params: {} };
        // The client may still be sending: answer, then close the connection.
        finish(res, inc, failureOutcome({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' }, id, log), {}, started, true);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (failed) return;
      const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, received).toString('utf8');
      run(res, route, { id, method, url, headers, body, params: found.params as Record<string, string> }, started);
    });
    req.once('error', () => { failed = true; });
    return true;
  };

  const app = Fastify({
    // Fastify's own per-request child loggers cost more than the rest of a retrieve; we log one
    // line per request ourselves, with the Request-Id, only when the level asks for it.
    logger: false,
    bodyLimit: BODY_LIMIT,
    genReqId: () => services.ids.id('req'),
    requestIdHeader: false,
    return503OnClosing: false,
    forceCloseConnections: false,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 500 },
    serverFactory: (handler) => {
      const server = createServer((req, res) => {
        if (!fastPath(req, res)) handler(req, res);
      });
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      server.requestTimeout = 0;
      server.setTimeout(0);
      return server;
    },
    frameworkErrors: (err, req, reply) => {
      void sendError(req, reply, invalidRequest(`Invalid request: ${err.message}`));
    },
  });

  // Every body arrives as a string; decoding (and refusing what is not a form) is ours.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  if (logRequests) {
    app.addHook('onResponse', (req, reply, done) => {
      log!.info({ reqId: req.id, method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
      done();
    });
  }

  app.setErrorHandler((err: unknown, req, reply) => {
    const out = failureOutcome(err, String(req.id), log);
    return send(reply, out.status, out.body, out.headers);
  });

  app.setNotFoundHandler((req, reply) => {
    if (req.method === 'OPTIONS') return corsPreflight(reply);
    return sendError(req, reply, unrecognized(req.method, req.url));
  });

  for (const { op, schema } of routes) {
    app.route({
      method: op.method,
      url: routePath(op.path),
      handler: async (req, reply) => {
        const extra: Record<string, string> = {};
        const inc: Incoming = {
          id: String(req.id), method: req.method, url: req.url, headers: req.headers,
          body: typeof req.body === 'string' ? req.body : undefined, params: req.params as Record<string, string>,
        };
        try {
          const out = await execute(services, op, schema, inc, extra);
          reply.headers(extra);
          return send(reply, out.status, out.body, out.headers);
        } catch (err) {
          reply.headers(extra); // Idempotency-Key and Stripe-Version go on errors too
          throw err;
        }
      },
    });
  }
  registerThreeDS(app, services); // the 3-D Secure test page (src/web), not an API route
  return app;
}

const FORM_TYPE = /^application\/x-www-form-urlencoded(?:\s*;|\s*$)/i;

function corsPreflight(reply: FastifyReply): FastifyReply {
  return baseHeaders(reply).code(204).headers({
    'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type, Idempotency-Key, Stripe-Version, Stripe-Account, X-Stripe-Client-User-Agent, User-Agent',
    'Access-Control-Max-Age': '300',
  }).send();
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The API pipeline for one request: authentication, Stripe-Version, Stripe-Account, parameters,
 * idempotency, execution in a store transaction, rendering. Headers every answer to this
 * request carries once known (Idempotency-Key, Stripe-Version), errors included, go in `extra`
 * (names in lower case, as written on the wire).
 */
async function execute(services: Services, op: Operation, schema: Parameters<typeof validateParams>[1], req: Incoming, extra: Record<string, string>): Promise<Outcome> {
  const auth: Auth = authenticate(header(req.headers, 'authorization'));
  if (!op.publishable) requireSecretKey(auth);
  checkStripeAccount(auth, header(req.headers, 'stripe-account'));
  const apiVersion = resolveApiVersion(header(req.headers, 'stripe-version'));

  // Parameters: the query string always, the form body on POST.
  const qIndex = req.url.indexOf('?');
  const raw: Record<string, unknown> = qIndex >= 0 ? decodeForm(req.url.slice(qIndex + 1)) : {};
  const bodyText = req.body ?? '';
  if (bodyText) {
    const ctype = String(req.headers['content-type'] ?? '');
    if (!ctype.startsWith('application/x-www-form-urlencoded')) {
      throw invalidRequest(`Invalid request: unsupported Content-Type ${ctype || '(none)'}. If error persists and you need assistance, please contact support@stripe.com.`);
    }
    if (req.method === 'POST') Object.assign(raw, decodeForm(bodyText));
  }
  const params: Params = validateParams(raw, schema);

  const idempotencyKey = req.method === 'POST' ? header(req.headers, 'idempotency-key') ?? null : null;
  if (idempotencyKey !== null) {
    extra['idempotency-key'] = idempotencyKey;
    if (idempotencyKey.length > MAX_IDEMPOTENCY_KEY) {
      throw invalidRequest(`Idempotency-Key must be at most ${MAX_IDEMPOTENCY_KEY} characters long.`);
    }
  }
  extra['stripe-version'] = apiVersion;

  const pathParams = req.params;
  let emptyPathParam = false;
  for (const k in pathParams) if (pathParams[k] === '') emptyPathParam = true;
  if (emptyPathParam) {
    throw invalidRequest(`Unrecognized request URL (${req.method}: ${req.url.split('?')[0]}). If you are trying to list objects, remove the trailing slash. If you are trying to retrieve an object, make sure you passed a valid (non-empty) identifier in your code. Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`, undefined, undefined, 404);
  }
  // Contexts are built as whole literals: on Node 20, properties added to a spread copy
  // (`{ ...base, db }`) cost microseconds each (every copy gets a map of its own).
  // Hence two literals below rather than one shared base.
  const origin = `http://${header(req.headers, 'host')}`;
  const now = () => services.clock.now();
  // ('tx' in ctx tells a write context from a read one.)
  if (!op.write) {
    const ctx: ReadContext = {
      scope: auth.scope, services, requestId: req.id, idempotencyKey, apiVersion,
      keyKind: auth.kind, maskedKey: auth.maskedKey, now, origin, db: services.store,
    };
    const result = await op.handler(ctx, params, pathParams);
    if (result instanceof StoredResult && !op.returnsList && params.expand === undefined) {
      // A retrieve: the cached body's bytes, written as they are.
      return { status: 200, body: bodyCache(ctx).bytes(await renderStoredEntry(ctx, result.stored)) };
    }
    return { status: 200, body: await renderResult(ctx, op, result, params.expand) };
  }

  const { store } = services;
  let hash: string | undefined;
  if (idempotencyKey !== null) {
    hash = requestHash(req.method, req.url.split('?')[0]!, raw);
    const claim = await store.claimIdempotency(auth.scope, idempotencyKey, hash, services.clock.nowMs(), IDEMPOTENCY_LEASE_MS);
    if (claim.kind === 'existing') return replay(claim.record, hash, idempotencyKey);
  }
  try {
    return await store.transaction(async (tx): Promise<Outcome> => {
      const ctx: WriteContext = {
        scope: auth.scope, services, requestId: req.id, idempotencyKey, apiVersion,
        keyKind: auth.kind, maskedKey: auth.maskedKey, now, origin, db: tx, tx,
      };
      let result: Obj;
      try {
        result = await op.handler(ctx, params, pathParams);
      } catch (err) {
        // A committing error (a card decline) keeps the state changes and is the response.
        if (!(err instanceof StripeError && err.commit)) throw err;
        const text = toBody(err.body(req.id));
        if (idempotencyKey !== null) await tx.finishIdempotency(auth.scope, idempotencyKey, err.status, text);
        return { status: err.status, body: text, headers: err.headers };
      }
      const text = await renderResult(ctx, op, result, params.expand);
      if (idempotencyKey !== null) await tx.finishIdempotency(auth.scope, idempotencyKey, 200, text);
      return { status: 200, body: text };
    });
  } catch (err) {
    if (idempotencyKey !== null) {
      // Another process answered this key first: its response is ours (see IdempotencyTaken).
      if (err instanceof IdempotencyTaken) {
        await store.releaseIdempotency(auth.scope, idempotencyKey);
        return replay(err.record, hash!, idempotencyKey);
      }
      // The endpoint began executing: a Stripe error is the request's result and is replayed;
      // an unexpected failure frees the key so the client's retry runs again.
      try {
        if (err instanceof StripeError) await store.finishIdempotency(auth.scope, idempotencyKey, err.status, toBody(err.body(req.id)));
        else await store.releaseIdempotency(auth.scope, idempotencyKey);
      } catch (recordErr) {
        if (!(recordErr instanceof IdempotencyTaken)) throw recordErr;
        await store.releaseIdempotency(auth.scope, idempotencyKey);
        return replay(recordErr.record, hash!, idempotencyKey);
      }
    }
    throw err;
  }
}
