// Typed access to the request-parameter tables produced by `npm run gen:params`
// (scripts/gen-params.mjs). The data lives in src/generated/params.json and
// src/generated/expandable.json; they are read with fs at runtime (not imported) so the
// same code works from src/ (ts-node/tsx) and from the compiled dist/src/generated/,
// and so tsc does not have to inline ~1 MB of JSON types.
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ParamSchemaBase {
  /** object: its properties */
  props?: Record<string, ParamSchema>;
  /** object: non-optional property names */
  required?: string[];
  /** array: element schema */
  items?: ParamSchema;
  /** union: alternatives, most specific first (enum, boolean, integer, number, string, object, map, array) */
  of?: ParamSchema[];
  /** the form value "" is accepted and means "unset" */
  emptyable?: boolean;
  /** string carrying a decimal number (e.g. unit_amount_decimal) */
  decimal?: boolean;
}

/**
 * One node of a parameter schema. `values` means two things in the JSON: the accepted
 * literals of an enum, and the value schema of a map (`{"t":"map","values":{"t":"string"}}`).
 * The union below types it per kind, so `switch (s.t)` narrows `s.values` correctly.
 */
export type ParamSchema =
  | (ParamSchemaBase & { t: 'enum'; values?: string[] })
  | (ParamSchemaBase & { t: 'map'; values?: ParamSchema })
  | (ParamSchemaBase & {
      t: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'union' | 'any';
      values?: undefined;
    });

/** Value schema of a `t: 'map'` node (metadata, currency_options, ...). */
export function mapValues(schema: ParamSchema): ParamSchema | undefined {
  return schema.t === 'map' ? schema.values : undefined;
}

export interface OperationParams {
  params: ParamSchema;
}

interface ParamsFile {
  apiVersion: string;
  operations: Record<string, OperationParams>;
}

const GENERATED_FILES = ['params.json', 'expandable.json'];

// Walk up from this module until a directory with package.json and the generated JSON
// is found: src/generated/params.ts -> project root, dist/src/generated/params.js -> project root.
let rootDir: string | undefined;
function projectRoot(): string {
  if (rootDir) return rootDir;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'generated', GENERATED_FILES[0]))) {
      return (rootDir = dir);
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`pinstripe: cannot find src/generated/params.json above ${fileURLToPath(import.meta.url)} (run npm run gen:params)`);
    }
    dir = parent;
  }
}

function readGenerated<T>(name: string): T {
  return JSON.parse(readFileSync(join(projectRoot(), 'src', 'generated', name), 'utf8')) as T;
}

/** Placeholder names do not matter: "/v1/customers/{id}", "/v1/customers/{customer}" and "/v1/customers/:id" are the same. */
function normalizeKey(method: string, pathTemplate: string): string {
  const p = pathTemplate
    .split('?')[0]
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\/:[^/]+/g, '/{}')
    .replace(/\/+$/, '');
  return `${method.toUpperCase()} ${p}`;
}

let paramsFile: ParamsFile | undefined;
let operationIndex: Map<string, OperationParams> | undefined;

function loadParams(): ParamsFile {
  return (paramsFile ??= readGenerated<ParamsFile>('params.json'));
}

function index(): Map<string, OperationParams> {
  if (!operationIndex) {
    operationIndex = new Map();
    for (const [key, op] of Object.entries(loadParams().operations)) {
      const sp = key.indexOf(' ');
      operationIndex.set(normalizeKey(key.slice(0, sp), key.slice(sp + 1)), op);
    }
  }
  return operationIndex;
}

/** Parameter schema of "METHOD /v1/..." (placeholder names ignored), or undefined if unknown. */
export function operationParams(method: string, pathTemplate: string): OperationParams | undefined {
  return index().get(normalizeKey(method, pathTemplate));
}

/** All known operation keys, as written in params.json ("POST /v1/customers/{id}", ...). */
export function operationKeys(): string[] {
  return Object.keys(loadParams().operations);
}

/**
 * The Stripe API version of the stripe-node declarations the tables were generated from.
 * Read from the head of params.json (the generator writes it first), so importing this
 * module does not parse the whole table.
 */
export const generatedApiVersion: string = readApiVersion();

function readApiVersion(): string {
  const fd = openSync(join(projectRoot(), 'src', 'generated', 'params.json'), 'r');
  try {
    const buf = Buffer.alloc(512);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const m = /"apiVersion"\s*:\s*"([^"]+)"/.exec(buf.toString('utf8', 0, n));
    if (m) return m[1]!;
  } finally {
    closeSync(fd);
  }
  return loadParams().apiVersion;
}

let expandable: Record<string, readonly string[]> | undefined;

/** Expandable fields of an object type ("customer", "checkout.session", or a sub-schema name). */
export function expandableFields(objectName: string): readonly string[] {
  expandable ??= readGenerated<Record<string, readonly string[]>>('expandable.json');
  return Object.hasOwn(expandable, objectName) ? expandable[objectName]! : [];
}
