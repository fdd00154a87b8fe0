// The HTTP edge: Fastify routes every operation through one pipeline — authentication,
// Stripe-Version, Stripe-Account, parameter decoding and validation, idempotency, execution
// in a store transaction, expansion and rendering — and renders every failure in Stripe's
// error shape with a Request-Id.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { StripeError, apiError, idempotencyError, invalidRequest } from '../api/errors.js';
import { applyExpand, parseExpand, type ExpandTree } from '../api/expand.js';
import { validateParams, type Params } from '../api/params.js';
import { renderForVersion, toBody } from '../api/render.js';
import { resolveApiVersion } from '../api/versions.js';
import { BodyCache, StoredResult, indentBody, plain } from '../api/stored-result.js';
import { IdempotencyTaken, type IdempotencyRecord, type StoredObject } from '../store/store.js';
import type { ReadContext, Services, WriteContext } from '../api/context.js';
import { operationParams } from '../generated/params.js';
import { INCLUDABLE, allOperations } from '../resources/index.js';
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

function send(reply: FastifyReply, status: number, body: string, headers?: Record<string, string>): FastifyReply {
  baseHeaders(reply).code(status);
  if (headers) reply.headers(headers);
  return reply.type('application/json').send(body);
}

function sendError(req: FastifyRequest, reply: FastifyReply, err: StripeError): FastifyReply {
  return send(reply, err.status, toBody(err.body(String(req.id))), err.headers);
}

/** Removes includable fields unless expanded, then expands, on a private copy. */
async function prepare(ctx: ReadContext, obj: Obj, tree: ExpandTree): Promise<Obj> {
  const hidden = typeof obj.object === 'string' ? INCLUDABLE.get(obj.object) : undefined;
  if (hidden) for (const f of hidden) if (!(f in tree)) delete obj[f];
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
async function renderStored(ctx: ReadContext, s: StoredObject): Promise<string> {
  const bodies = bodyCache(ctx);
  const key = bodies.key(ctx.scope.account, s, ctx.apiVersion);
  let body = bodies.get(key);
  if (body === undefined) {
    body = toBody(await prepare(ctx, s.data, {}));
    bodies.set(key, body);
  }
  return body;
}

async function renderResult(ctx: ReadContext, op: Operation, result: Obj, expand: string[] | undefined): Promise<string> {
  const tree = parseExpand(expand, !!op.returnsList, op.listExtras);
  const unexpanded = Object.keys(tree).length === 0;
  if (op.returnsList) {
    const items = result.data as Array<Obj | StoredResult>;
    if (unexpanded && items.length) {
      // Serialise the envelope around a marker, then splice in the items' bodies, indented.
      const rendered: string[] = [];
      for (const item of items) {
        rendered.push(item instanceof StoredResult ? await renderStored(ctx, item.stored) : toBody(await prepare(ctx, item, tree)));
      }
      const envelope = toBody({ ...result, data: [ITEMS] });
      const spliced = indentBody(rendered.join(',\n'), '    ');
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
  return createHash('sha256').update(`${method} ${path}\n${JSON.stringify(raw)}`).digest('base64url');
}

/** Answers a request whose idempotency key already has a result, or is still executing. */
function replay(reply: FastifyReply, r: IdempotencyRecord, hash: string, idempotencyKey: string): FastifyReply {
  if (r.requestHash !== hash) {
    throw idempotencyError(`Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`);
  }
  if (r.state === 'pending') {
    throw new StripeError(409, {
      type: 'invalid_request_error', code: 'idempotency_key_in_use',
      message: `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${idempotencyKey}. Please try again later.`,
    }, { 'Stripe-Should-Retry': 'true' });
  }
  return send(reply, r.status!, r.body!, { 'Idempotent-Replayed': 'true' });
}

/** `/v1/customers/{id}` → `/v1/customers/:id` for Fastify's router. */
const routePath = (p: string) => p.replace(/\{(\w+)\}/g, ':$1');

export type App = FastifyInstance<any, any, any, any>;

export function buildApp(opts: AppOptions): App {
  const { services } = opts;
  const log = opts.logger === false ? null : opts.logger;
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
    frameworkErrors: (err, req, reply) => {
      void sendError(req, reply, invalidRequest(`Invalid request: ${err.message}`));
    },
  });

  // Every body arrives as a string; decoding (and refusing what is not a form) is ours.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  if (log?.isLevelEnabled('info')) {
    app.addHook('onResponse', (req, reply, done) => {
      log.info({ reqId: req.id, method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
      done();
    });
  }

  app.setErrorHandler((err: unknown, req, reply) => {
    if (err instanceof StripeError) return sendError(req, reply, err);
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(req, reply, invalidRequest(`Request body too large: the limit is ${BODY_LIMIT} bytes.`, undefined, undefined, 413));
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return sendError(req, reply, invalidRequest(`Invalid request: ${e.message}`, undefined, undefined, e.statusCode));
    }
    log?.error({ err, reqId: req.id }, 'unexpected error');
    return sendError(req, reply, apiError('An unknown error occurred'));
  });

  app.setNotFoundHandler((req, reply) => {
    if (req.method === 'OPTIONS') return corsPreflight(reply);
    return sendError(req, reply, unrecognized(req.method, req.url));
  });

  for (const op of allOperations()) {
    let schema = operationParams(op.method, op.paramsKey?.split(' ')[1] ?? op.path)?.params;
    if (!schema) throw new Error(`no parameter table for ${op.method} ${op.path}`);
    if (op.extraParams) schema = { ...schema, props: { ...schema.props, ...op.extraParams } };
    app.route({
      method: op.method,
      url: routePath(op.path),
      handler: (req, reply) => handle(services, op, schema, req, reply),
    });
  }
  registerThreeDS(app, services); // the 3-D Secure test page (src/web), not an API route
  return app;
}

function corsPreflight(reply: FastifyReply): FastifyReply {
  return baseHeaders(reply).code(204).headers({
    'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type, Idempotency-Key, Stripe-Version, Stripe-Account, X-Stripe-Client-User-Agent, User-Agent',
    'Access-Control-Max-Age': '300',
  }).send();
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function handle(services: Services, op: Operation, schema: Parameters<typeof validateParams>[1], req: FastifyRequest, reply: FastifyReply) {
  const auth: Auth = authenticate(header(req, 'authorization'));
  if (!op.publishable) requireSecretKey(auth);
  checkStripeAccount(auth, header(req, 'stripe-account'));
  const apiVersion = resolveApiVersion(header(req, 'stripe-version'));

  // Parameters: the query string always, the form body on POST.
  const qIndex = req.url.indexOf('?');
  const raw: Record<string, unknown> = qIndex >= 0 ? decodeForm(req.url.slice(qIndex + 1)) : {};
  const bodyText = typeof req.body === 'string' ? req.body : '';
  if (bodyText) {
    const ctype = String(req.headers['content-type'] ?? '');
    if (!ctype.startsWith('application/x-www-form-urlencoded')) {
      throw invalidRequest(`Invalid request: unsupported Content-Type ${ctype || '(none)'}. If error persists and you need assistance, please contact support@stripe.com.`);
    }
    if (req.method === 'POST') Object.assign(raw, decodeForm(bodyText));
  }
  const params: Params = validateParams(raw, schema);

  const idempotencyKey = req.method === 'POST' ? header(req, 'idempotency-key') ?? null : null;
  if (idempotencyKey !== null) {
    reply.header('Idempotency-Key', idempotencyKey);
    if (idempotencyKey.length > MAX_IDEMPOTENCY_KEY) {
      throw invalidRequest(`Idempotency-Key must be at most ${MAX_IDEMPOTENCY_KEY} characters long.`);
    }
  }
  reply.header('Stripe-Version', apiVersion);

  const pathParams = req.params as Record<string, string>;
  if (Object.values(pathParams).some((v) => v === '')) {
    throw invalidRequest(`Unrecognized request URL (${req.method}: ${req.url.split('?')[0]}). If you are trying to list objects, remove the trailing slash. If you are trying to retrieve an object, make sure you passed a valid (non-empty) identifier in your code. Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`, undefined, undefined, 404);
  }
  const base = {
    scope: auth.scope, services, requestId: String(req.id), idempotencyKey, apiVersion,
    keyKind: auth.kind, maskedKey: auth.maskedKey, now: () => services.clock.now(),
    origin: `${req.protocol}://${header(req, 'host') ?? req.hostname}`,
  };

  if (!op.write) {
    const ctx: ReadContext = { ...base, db: services.store };
    const result = await op.handler(ctx, params, pathParams);
    return send(reply, 200, await renderResult(ctx, op, result, params.expand));
  }

  const { store } = services;
  let hash: string | undefined;
  if (idempotencyKey !== null) {
    hash = requestHash(req.method, req.url.split('?')[0]!, raw);
    const claim = await store.claimIdempotency(auth.scope, idempotencyKey, hash, services.clock.nowMs(), IDEMPOTENCY_LEASE_MS);
    if (claim.kind === 'existing') return replay(reply, claim.record, hash, idempotencyKey);
  }
  try {
    const outcome = await store.transaction(async (tx) => {
      const ctx: WriteContext = { ...base, db: tx, tx };
      let result: Obj;
      try {
        result = await op.handler(ctx, params, pathParams);
      } catch (err) {
        // A committing error (a card decline) keeps the state changes and is the response.
        if (!(err instanceof StripeError && err.commit)) throw err;
        const text = toBody(err.body(String(req.id)));
        if (idempotencyKey !== null) await tx.finishIdempotency(auth.scope, idempotencyKey, err.status, text);
        return { status: err.status, text, headers: err.headers };
      }
      const text = await renderResult(ctx, op, result, params.expand);
      if (idempotencyKey !== null) await tx.finishIdempotency(auth.scope, idempotencyKey, 200, text);
      return { status: 200, text, headers: {} };
    });
    return send(reply, outcome.status, outcome.text, outcome.headers);
  } catch (err) {
    if (idempotencyKey !== null) {
      // Another process answered this key first: its response is ours (see IdempotencyTaken).
      if (err instanceof IdempotencyTaken) {
        await store.releaseIdempotency(auth.scope, idempotencyKey);
        return replay(reply, err.record, hash!, idempotencyKey);
      }
      // The endpoint began executing: a Stripe error is the request's result and is replayed;
      // an unexpected failure frees the key so the client's retry runs again.
      try {
        if (err instanceof StripeError) await store.finishIdempotency(auth.scope, idempotencyKey, err.status, toBody(err.body(String(req.id))));
        else await store.releaseIdempotency(auth.scope, idempotencyKey);
      } catch (recordErr) {
        if (!(recordErr instanceof IdempotencyTaken)) throw recordErr;
        await store.releaseIdempotency(auth.scope, idempotencyKey);
        return replay(reply, recordErr.record, hash!, idempotencyKey);
      }
    }
    throw err;
  }
}
