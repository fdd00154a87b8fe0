#!/usr/bin/env node
// Build-time generator: request-parameter tables for every Stripe v1 operation.
//
//   node scripts/gen-params.mjs
//
// Inputs (read at generation time only, never at runtime):
//   - node_modules/stripe/cjs/resources/**/*.js   -> which method does which HTTP call
//   - node_modules/stripe/cjs/resources/**/*.d.ts -> the `params` type of each method
//   - node_modules/stripe/cjs/apiVersion.d.ts     -> the API version those types describe
//   - ../shared/stripe-openapi/spec3.json         -> (older, 2023-08-16) OpenAPI spec, used
//     only to tell `integer` from `number` (TypeScript has just `number`) and for
//     x-expandableFields.
//
// Outputs (deterministic, keys sorted):
//   - src/generated/params.json      { apiVersion, operations: { "METHOD /v1/path": { params } } }
//   - src/generated/expandable.json  { "<object name>": ["field", ...] }
//
// Why the TypeScript compiler API rather than regexes over the .d.ts files: the param
// types are spread across namespaces, `extends` clauses (PaginationParams), shared
// aliases (Emptyable, OtherString, MetadataParam) and imports; the TypeChecker resolves
// all of that for us, so we only have to translate resolved types into schema nodes.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STRIPE_DIR = path.join(ROOT, 'node_modules/stripe/cjs');
const RESOURCES_DIR = path.join(STRIPE_DIR, 'resources');
const SPEC_PATH = path.resolve(ROOT, '../shared/stripe-openapi/spec3.json');
const OUT_DIR = path.join(ROOT, 'src/generated');

// Recursive param types are cut at this depth with {"t":"any"}.
const MAX_DEPTH = 12;

const warnings = [];
const warn = (msg) => warnings.push(msg);

// ---------------------------------------------------------------------------
// 1. Find every `this._makeRequest(METHOD, PATH, ...)` call in the resource .js files.
// ---------------------------------------------------------------------------

function listFiles(dir, ext) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(p, ext));
    else if (entry.name.endsWith(ext) && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

// Turn the path argument of _makeRequest into "/v1/customers/{id}" form, or null when it
// is not a static path (e.g. V2 event related-object URLs).
function pathFromNode(node) {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (!ts.isTemplateExpression(node)) return null;
  let out = node.head.text;
  for (const span of node.templateSpans) {
    // Placeholders are named after the method argument: `${encodeURIComponent(id)}` -> {id}.
    let e = span.expression;
    if (ts.isCallExpression(e) && e.arguments.length === 1) e = e.arguments[0];
    out += `{${ts.isIdentifier(e) ? e.text : 'param'}}` + span.literal.text;
  }
  return out;
}

function collectJsCalls() {
  const calls = [];
  for (const file of listFiles(RESOURCES_DIR, '.js')) {
    const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
    for (const stmt of sf.statements) {
      if (!ts.isClassDeclaration(stmt) || !stmt.name) continue;
      for (const member of stmt.members) {
        if (!ts.isMethodDeclaration(member) || !member.body || !ts.isIdentifier(member.name)) continue;
        // A method body may contain more than one request (Accounts.retrieve picks
        // /v1/accounts/{id} or /v1/account depending on its argument): take them all.
        const visit = (n) => {
          if (
            ts.isCallExpression(n) &&
            ts.isPropertyAccessExpression(n.expression) &&
            n.expression.expression.kind === ts.SyntaxKind.ThisKeyword &&
            n.expression.name.text === '_makeRequest' &&
            n.arguments.length >= 2 &&
            ts.isStringLiteral(n.arguments[0])
          ) {
            const p = pathFromNode(n.arguments[1]);
            if (p && p.startsWith('/v1/')) {
              calls.push({
                jsFile: file,
                className: stmt.name.text,
                methodName: member.name.text,
                httpMethod: n.arguments[0].text.toUpperCase(),
                path: p,
              });
            }
          }
          ts.forEachChild(n, visit);
        };
        visit(member.body);
      }
    }
  }
  return calls;
}

// ---------------------------------------------------------------------------
// 2. OpenAPI spec helpers (integer vs number; x-expandableFields).
// ---------------------------------------------------------------------------

const spec = JSON.parse(fs.readFileSync(SPEC_PATH, 'utf8'));

const normPath = (p) => p.replace(/\{[^}]*\}/g, '{}');

function deref(node) {
  let n = node;
  for (let i = 0; n && n.$ref && i < 20; i++) {
    const m = /^#\/components\/schemas\/(.+)$/.exec(n.$ref);
    n = m ? spec.components.schemas[m[1]] : undefined;
  }
  return n;
}

// All concrete alternatives a spec node stands for (anyOf/oneOf/allOf flattened, $refs resolved).
function alternatives(nodes) {
  const out = [];
  const seen = new Set();
  const rec = (n, depth) => {
    n = deref(n);
    if (!n || typeof n !== 'object' || seen.has(n) || depth > 20) return;
    seen.add(n);
    const subs = [...(n.anyOf ?? []), ...(n.oneOf ?? []), ...(n.allOf ?? [])];
    if (subs.length) subs.forEach((s) => rec(s, depth + 1));
    if (!subs.length || n.type || n.properties) out.push(n);
  };
  nodes.forEach((n) => rec(n, 0));
  return out;
}

// One step down a param path: a property name, '[]' (array items) or '{}' (map values).
function specStep(nodes, seg) {
  const out = [];
  for (const n of alternatives(nodes)) {
    if (seg === '[]') {
      if (n.items) out.push(n.items);
    } else if (seg === '{}') {
      if (n.additionalProperties && typeof n.additionalProperties === 'object') out.push(n.additionalProperties);
    } else if (n.properties && Object.hasOwn(n.properties, seg)) {
      out.push(n.properties[seg]);
    }
  }
  return out;
}

// Root spec nodes for an operation: the form body schema plus a synthetic object made of
// the query parameters (GET/DELETE carry params in the query string).
const specOps = new Map();
for (const [p, item] of Object.entries(spec.paths)) {
  for (const [m, op] of Object.entries(item)) {
    if (!op || typeof op !== 'object' || !['get', 'post', 'delete'].includes(m)) continue;
    const roots = [];
    const body = op.requestBody?.content?.['application/x-www-form-urlencoded']?.schema;
    if (body) roots.push(body);
    const query = (op.parameters ?? []).filter((x) => x.in === 'query');
    if (query.length) roots.push({ type: 'object', properties: Object.fromEntries(query.map((x) => [x.name, x.schema])) });
    specOps.set(`${m.toUpperCase()} ${normPath(p)}`, roots);
  }
}

// Parameter names that spec3 types as `number` somewhere (request params or object
// schemas). Used as the fallback for operations/fields spec3 does not know (it is from
// 2023). Names that spec3 *also* types as `integer` in some request parameter are
// ambiguous (e.g. `quantity`: integer in every request, number in one issuing receipt
// response) and are left out, so they fall back to integer.
const numberNames = new Set();
const requestIntegerNames = new Set();
{
  const walk = (n, name, isRequest, seen = new Set()) => {
    n = deref(n);
    if (!n || typeof n !== 'object' || seen.has(n)) return;
    seen.add(n);
    if (n.type === 'number') numberNames.add(name);
    if (n.type === 'integer' && isRequest) requestIntegerNames.add(name);
    for (const [k, v] of Object.entries(n.properties ?? {})) walk(v, k, isRequest, seen);
    for (const s of [...(n.anyOf ?? []), ...(n.oneOf ?? []), ...(n.allOf ?? [])]) walk(s, name, isRequest, seen);
    if (n.items) walk(n.items, name, isRequest, seen);
    if (n.additionalProperties && typeof n.additionalProperties === 'object') walk(n.additionalProperties, name, isRequest, seen);
  };
  for (const roots of specOps.values()) for (const r of roots) walk(r, '', true);
  // Response schemas: do not follow $refs from here (each schema is visited on its own).
  for (const [name, s] of Object.entries(spec.components.schemas)) walk(s, name, false);
  for (const n of requestIntegerNames) numberNames.delete(n);
}

// Names that are fractional by nature even when spec3 does not mention them (newer
// fields such as `*_percent`, or the issuing test-helper `dispute_rate`,
// `*_decline_rate_past_hour`, fraud `score`: "values between 0 and 100"). When unsure,
// `number` is the lenient choice: it also accepts every integer.
const NUMBER_NAME_RE = /(^|_)(percent|percent_off|percentage|rate|score)(_|$)/;

// Field names whose integer/number choice was a guess (spec3 had no type at that
// location); listed with --verbose so new fractional fields can be spotted.
const guessedNumeric = new Map();

function numericKind(specNodes, propName) {
  const types = new Set(alternatives(specNodes).map((n) => n.type));
  if (types.has('number')) return 'number';
  if (types.has('integer')) return 'integer';
  const kind = propName && (NUMBER_NAME_RE.test(propName) || numberNames.has(propName)) ? 'number' : 'integer';
  guessedNumeric.set(`${propName}: ${kind}`, (guessedNumeric.get(`${propName}: ${kind}`) ?? 0) + 1);
  return kind;
}

// ---------------------------------------------------------------------------
// 3. TypeScript program over the resource declarations.
// ---------------------------------------------------------------------------

const dtsFiles = listFiles(RESOURCES_DIR, '.js').map((f) => f.replace(/\.js$/, '.d.ts')).filter((f) => fs.existsSync(f));
const program = ts.createProgram(dtsFiles, {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
});
const checker = program.getTypeChecker();

const inStripe = (decl) => path.resolve(decl.getSourceFile().fileName).startsWith(STRIPE_DIR + path.sep);
const sharedFile = path.join(STRIPE_DIR, 'shared.d.ts');
const decimalFile = path.join(STRIPE_DIR, 'Decimal.d.ts');
const libFile = path.join(STRIPE_DIR, 'lib.d.ts');

function resolveSymbol(sym) {
  return sym && sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
}
function declaredIn(sym, file, name) {
  sym = resolveSymbol(sym);
  return !!sym && sym.name === name && (sym.declarations ?? []).some((d) => path.resolve(d.getSourceFile().fileName) === file);
}

// Does this type *node* accept ''? `Emptyable<string>` resolves to `string | null` (the ''
// literal is absorbed by `string`), so the resolved type cannot tell us; the syntax can.
function nodeIsEmptyable(node, depth = 0) {
  if (!node || depth > 10) return false;
  while (ts.isParenthesizedTypeNode(node)) node = node.type;
  if (ts.isLiteralTypeNode(node)) return ts.isStringLiteral(node.literal) && node.literal.text === '';
  if (ts.isUnionTypeNode(node)) return node.types.some((t) => nodeIsEmptyable(t, depth + 1));
  if (ts.isTypeReferenceNode(node)) {
    const sym = resolveSymbol(checker.getSymbolAtLocation(node.typeName));
    if (declaredIn(sym, sharedFile, 'Emptyable')) return true;
    // Follow local non-generic aliases (`type Foo = Emptyable<...>`).
    const decl = sym?.declarations?.find(ts.isTypeAliasDeclaration);
    if (decl && !decl.typeParameters && inStripe(decl)) return nodeIsEmptyable(decl.type, depth + 1);
  }
  return false;
}

const isDecimalType = (type) => {
  const syms = [type.aliasSymbol, type.symbol, ...(type.isIntersection() ? type.types.map((t) => t.symbol) : [])];
  return syms.some((s) => s && (s.declarations ?? []).some((d) => path.resolve(d.getSourceFile().fileName) === decimalFile));
};
// `FileData` (multipart file part: `data: string | Uint8Array`) is not a form value.
const isFileData = (type) => declaredIn(type.symbol, libFile, 'FileData') || declaredIn(type.aliasSymbol, libFile, 'FileData');

// Plain `string` and template literals.
const isPlainString = (type) => !!(type.flags & (ts.TypeFlags.String | ts.TypeFlags.TemplateLiteral | ts.TypeFlags.StringMapping));
// `OtherString` (= string & Record<never, never>): stripe-node joins it to almost every
// enum ("open enums", so new server-side values type-check). It is not plain `string`.
const isOtherString = (type) => type.isIntersection() && type.types.some((t) => t.flags & ts.TypeFlags.String);
const isStringish = (type) => isPlainString(type) || isOtherString(type);

// Order alternatives of a union from most to least specific, so a validator that tries
// them in order matches the enum 'inf' before integer, integer before string, etc.
const RANK = { enum: 0, boolean: 1, integer: 2, number: 3, string: 4, object: 5, map: 6, array: 7, union: 8, any: 9 };
const canon = (v) => JSON.stringify(sortKeys(v));

// Translate a resolved type into a schema node.
//   segs      - param path (for spec lookups and for messages)
//   specNodes - the spec3 nodes at that path (possibly empty)
//   declNode  - the type node the type came from, when known (for Emptyable detection)
function schemaOf(type, segs, specNodes, declNode, depth) {
  const s = schemaOfInner(type, segs, specNodes, declNode, depth);
  if (declNode && nodeIsEmptyable(declNode)) s.emptyable = true;
  return s;
}

function schemaOfInner(type, segs, specNodes, declNode, depth) {
  if (depth > MAX_DEPTH) return { t: 'any' };
  const propName = [...segs].reverse().find((x) => x !== '[]' && x !== '{}');

  if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return { t: 'any' };
  if (isDecimalType(type)) return { t: 'string', decimal: true };
  if (isFileData(type)) return { t: 'any' };

  if (type.isUnion()) {
    const members = type.types.filter((t) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Void)));
    let emptyable = false;
    let hasString = false; // plain `string`
    let hasOtherString = false;
    let hasBoolean = false;
    const literals = [];
    let rest = [];
    for (const m of members) {
      if (m.isStringLiteral()) {
        if (m.value === '') emptyable = true;
        else literals.push(m.value);
      } else if (m.flags & ts.TypeFlags.BooleanLiteral) hasBoolean = true;
      else if (isDecimalType(m)) rest.push(m);
      else if (isPlainString(m)) hasString = true;
      else if (isOtherString(m)) hasOtherString = true;
      else rest.push(m);
    }
    // `string | number` (MetadataParam values): on the wire both are form strings and
    // Stripe stores them as strings, so describe it as a string (an integer alternative
    // would invite a validator to coerce "123" into a number).
    if (hasString) rest = rest.filter((m) => !(m.flags & (ts.TypeFlags.Number | ts.TypeFlags.NumberLiteral)));
    const parts = [];
    // Literals + plain `string` accept anything: just a string.
    // Literals + `OtherString` are the SDK's "open enum": the literal list is the complete
    // set for the API version these types were generated for, and the real API rejects
    // other values, so keep it as an enum. `OtherString` alone is a string.
    if (hasString || (hasOtherString && !literals.length)) parts.push(stringNode(specNodes));
    else if (literals.length) parts.push({ t: 'enum', values: [...new Set(literals)].sort() });
    else if (emptyable && !rest.length && !hasBoolean) parts.push({ t: 'enum', values: [''] }); // e.g. `invoicing_rules?: ''`
    if (hasBoolean) parts.push({ t: 'boolean' });
    for (const m of rest) parts.push(schemaOfInner(m, segs, specNodes, undefined, depth));
    // Dedupe and order; `any` swallows everything.
    const uniq = [...new Map(parts.map((p) => [canon(p), p])).values()].sort(
      (a, b) => RANK[a.t] - RANK[b.t] || (canon(a) < canon(b) ? -1 : 1),
    );
    let out;
    if (!uniq.length || uniq.some((p) => p.t === 'any')) out = { t: 'any' }; // e.g. a bare `null`
    else if (uniq.length === 1) out = uniq[0];
    else out = { t: 'union', of: uniq };
    if (emptyable) out.emptyable = true;
    return out;
  }

  if (type.flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) return { t: 'boolean' };
  if (type.isStringLiteral()) return type.value === '' ? { t: 'enum', values: [''], emptyable: true } : { t: 'enum', values: [type.value] };
  if (isStringish(type)) return stringNode(specNodes);
  if (type.flags & (ts.TypeFlags.Number | ts.TypeFlags.NumberLiteral)) return { t: numericKind(specNodes, propName) };

  if (checker.isArrayType(type) || checker.isTupleType(type)) {
    const args = checker.getTypeArguments(type);
    const el = args.length === 1 ? args[0] : checker.getUnionType([...args]);
    const elNode = arrayElementNode(declNode);
    return { t: 'array', items: schemaOf(el, [...segs, '[]'], specStep(specNodes, '[]'), elNode, depth + 1) };
  }

  if (type.flags & ts.TypeFlags.Object || type.isIntersection()) {
    // Only walk shapes Stripe declares; Buffer/Uint8Array/Date & co. are opaque here.
    const decls = [...(type.symbol?.declarations ?? []), ...(type.aliasSymbol?.declarations ?? [])];
    if (type.isIntersection()) decls.push(...type.types.flatMap((t) => t.symbol?.declarations ?? []));
    if (decls.length && !decls.some(inStripe)) return { t: 'any' };

    const props = checker.getPropertiesOfType(type).filter((p) => !(p.flags & ts.SymbolFlags.Method));
    const index = checker.getIndexInfosOfType(type).find((i) => i.keyType.flags & ts.TypeFlags.String);
    if (index && !props.length) {
      return {
        t: 'map',
        values: schemaOf(index.type, [...segs, '{}'], specStep(specNodes, '{}'), index.declaration?.type, depth + 1),
      };
    }
    if (index) warn(`${segs.join('.')}: object with both properties and an index signature; index signature ignored`);
    const out = { t: 'object', props: {} };
    const required = [];
    for (const p of props) {
      const decl = p.valueDeclaration ?? p.declarations?.[0];
      const tn = decl && (ts.isPropertySignature(decl) || ts.isPropertyDeclaration(decl)) ? decl.type : undefined;
      // Prefer the declared type node: it carries no `| undefined` from `?:`.
      const pt = tn ? checker.getTypeFromTypeNode(tn) : checker.getTypeOfSymbol(p);
      out.props[p.name] = schemaOf(pt, [...segs, p.name], specStep(specNodes, p.name), tn, depth + 1);
      if (!(p.flags & ts.SymbolFlags.Optional)) required.push(p.name);
    }
    if (required.length) out.required = required.sort();
    return out;
  }

  warn(`${segs.join('.') || '<root>'}: unhandled type ${checker.typeToString(type)} -> any`);
  return { t: 'any' };
}

function stringNode(specNodes) {
  // spec3 marks some plain-string params as decimals (`format: decimal`); keep that hint.
  const alts = alternatives(specNodes);
  return alts.some((n) => n.type === 'string' && n.format === 'decimal') ? { t: 'string', decimal: true } : { t: 'string' };
}

// For `Array<Emptyable<X>>` / `Emptyable<X>[]` the element's type node is needed for
// Emptyable detection (the resolved array type does not keep it).
function arrayElementNode(node) {
  while (node && ts.isParenthesizedTypeNode(node)) node = node.type;
  if (!node) return undefined;
  if (ts.isArrayTypeNode(node)) return node.elementType;
  if (ts.isTypeReferenceNode(node) && node.typeArguments?.length === 1 && /^(ReadonlyArray|Array)$/.test(node.typeName.getText())) {
    return node.typeArguments[0];
  }
  // `Emptyable<Array<X>>`: look through the Emptyable wrapper.
  if (ts.isTypeReferenceNode(node) && node.typeArguments?.length === 1 && declaredIn(checker.getSymbolAtLocation(node.typeName), sharedFile, 'Emptyable')) {
    return arrayElementNode(node.typeArguments[0]);
  }
  return undefined;
}

// Find the `params` parameter type of ClassName.methodName in the sibling .d.ts.
const classCache = new Map();
function paramsTypeOf(call) {
  const dts = call.jsFile.replace(/\.js$/, '.d.ts');
  const sf = program.getSourceFile(dts);
  if (!sf) return { error: `no declaration file ${path.relative(ROOT, dts)}` };
  const key = `${dts}#${call.className}`;
  let cls = classCache.get(key);
  if (cls === undefined) {
    cls = sf.statements.find((s) => ts.isClassDeclaration(s) && s.name?.text === call.className) ?? null;
    classCache.set(key, cls);
  }
  if (!cls) return { error: `class ${call.className} not in ${path.relative(ROOT, dts)}` };
  const sigs = cls.members.filter((m) => ts.isMethodDeclaration(m) && m.name.getText(sf) === call.methodName);
  if (!sigs.length) return { error: `method ${call.className}.${call.methodName} not declared` };
  const types = [];
  for (const sig of sigs) {
    const p = sig.parameters.find((x) => ts.isIdentifier(x.name) && x.name.text === 'params');
    if (p?.type) types.push(checker.getTypeFromTypeNode(p.type));
  }
  return { types };
}

// ---------------------------------------------------------------------------
// 4. Merging: several SDK methods can hit the same endpoint (e.g. Accounts.retrieve(null)
//    and Accounts.retrieveCurrent both GET /v1/account).
// ---------------------------------------------------------------------------

function mergeSchemas(a, b) {
  if (canon(a) === canon(b)) return a;
  if (a.t === 'object' && b.t === 'object') {
    const props = { ...a.props };
    for (const [k, v] of Object.entries(b.props)) props[k] = props[k] ? mergeSchemas(props[k], v) : v;
    // Required only if every variant requires it.
    const required = (a.required ?? []).filter((r) => (b.required ?? []).includes(r));
    const out = { t: 'object', props };
    if (required.length) out.required = required;
    if (a.emptyable || b.emptyable) out.emptyable = true;
    return out;
  }
  const of = [...(a.t === 'union' ? a.of : [a]), ...(b.t === 'union' ? b.of : [b])];
  const uniq = [...new Map(of.map((p) => [canon(p), p])).values()].sort(
    (x, y) => RANK[x.t] - RANK[y.t] || (canon(x) < canon(y) ? -1 : 1),
  );
  return uniq.length === 1 ? uniq[0] : { t: 'union', of: uniq };
}

// ---------------------------------------------------------------------------
// 5. Drive it.
// ---------------------------------------------------------------------------

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

const apiVersion = /ApiVersion\s*=\s*["']([^"']+)["']/.exec(fs.readFileSync(path.join(STRIPE_DIR, 'apiVersion.d.ts'), 'utf8'))?.[1];
if (!apiVersion) throw new Error('could not read ApiVersion from stripe/cjs/apiVersion.d.ts');

const calls = collectJsCalls();
const byKey = new Map(); // normalized "METHOD /v1/x/{}" -> { key, params, sources }
let specMatched = 0;
for (const call of calls.sort((a, b) => (a.jsFile + a.className + a.methodName + a.path).localeCompare(b.jsFile + b.className + b.methodName + b.path))) {
  const normKey = `${call.httpMethod} ${normPath(call.path)}`;
  const specRoots = specOps.get(normKey) ?? [];
  if (specRoots.length) specMatched++;
  const found = paramsTypeOf(call);
  let params;
  if (found.error) {
    warn(`${normKey} (${call.className}.${call.methodName}): ${found.error}; params left as any object`);
    params = { t: 'object', props: {} };
  } else if (!found.types.length) {
    params = { t: 'object', props: {} };
  } else {
    params = found.types.map((t) => schemaOf(t, [], specRoots, undefined, 0)).reduce(mergeSchemas);
  }
  if (params.t !== 'object') warn(`${normKey}: params resolved to ${params.t}, not object`);
  const source = `${path.relative(RESOURCES_DIR, call.jsFile)} ${call.className}.${call.methodName}`;
  const prev = byKey.get(normKey);
  if (prev) {
    const merged = mergeSchemas(prev.params, params);
    if (canon(merged) !== canon(prev.params)) warn(`${normKey}: ${source} differs from ${prev.sources.join(', ')}; merged`);
    prev.params = merged;
    prev.sources.push(source);
  } else {
    byKey.set(normKey, { key: `${call.httpMethod} ${call.path}`, params, sources: [source] });
  }
}

const operations = {};
for (const { key, params } of byKey.values()) operations[key] = { params };

// expandable.json from spec3's x-expandableFields, keyed by the object's `object` value.
const expandable = {};
for (const [name, schema] of Object.entries(spec.components.schemas)) {
  const fields = schema['x-expandableFields'];
  if (!Array.isArray(fields) || !fields.length) continue;
  const objEnum = schema.properties?.object?.enum;
  const objName = Array.isArray(objEnum) && objEnum.length === 1 ? objEnum[0] : name;
  // Several schemas can share an object name (e.g. a resource and its deleted_* twin): union.
  expandable[objName] = [...new Set([...(expandable[objName] ?? []), ...fields])].sort();
}

// One operation / one object per line: compact, yet diffs stay readable per endpoint.
function writeLines(file, header, entries, trailer) {
  const keys = Object.keys(entries).sort();
  const body = keys.map((k, i) => `    ${JSON.stringify(k)}: ${JSON.stringify(sortKeys(entries[k]))}${i < keys.length - 1 ? ',' : ''}`);
  fs.writeFileSync(file, [header, ...body, trailer].join('\n') + '\n');
}
fs.mkdirSync(OUT_DIR, { recursive: true });
writeLines(
  path.join(OUT_DIR, 'params.json'),
  `{\n  "apiVersion": ${JSON.stringify(apiVersion)},\n  "operations": {`,
  operations,
  '  }\n}',
);
{
  const keys = Object.keys(expandable).sort();
  const body = keys.map((k, i) => `  ${JSON.stringify(k)}: ${JSON.stringify(expandable[k])}${i < keys.length - 1 ? ',' : ''}`);
  fs.writeFileSync(path.join(OUT_DIR, 'expandable.json'), ['{', ...body, '}'].join('\n') + '\n');
}

for (const w of warnings) console.warn(`warning: ${w}`);
if (process.argv.includes('--verbose')) {
  console.log('numeric fields not found in spec3 (name: chosen type, occurrences):');
  for (const [k, n] of [...guessedNumeric].sort()) console.log(`  ${k} x${n}`);
}
console.log(
  `gen-params: API ${apiVersion}: ${Object.keys(operations).length} operations ` +
    `(${calls.length} SDK calls, ${specMatched} matched in spec3), ` +
    `${Object.keys(expandable).length} expandable object types, ${warnings.length} warnings`,
);
