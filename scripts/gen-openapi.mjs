// Generates src/controlplane/openapi/schemas.json: the OpenAPI 3.0 component
// schemas of every kind the lab apiserver serves (and the types they reach),
// derived from the kubernetes-types .d.ts files with the TypeScript compiler's
// parser — the project's own type knowledge, not a copy of upstream's spec.
// The file is committed (the bundle serves it without node_modules) and
// test/controlplane/openapi.test.ts fails when it no longer matches this output.
//   node scripts/gen-openapi.mjs            write the file
//   node scripts/gen-openapi.mjs --stdout   print it instead
import ts from 'typescript';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'src/controlplane/openapi/schemas.json');
const TYPES = dirname(createRequire(join(ROOT, 'package.json')).resolve('kubernetes-types/package.json'));

// kubernetes-types module → the Go package upstream names its definitions after.
const PACKAGES = {
  'meta/v1': 'io.k8s.apimachinery.pkg.apis.meta.v1',
  'api/resource': 'io.k8s.apimachinery.pkg.api.resource',
  runtime: 'io.k8s.apimachinery.pkg.runtime',
};
// ServiceCIDR is networking.k8s.io/v1 since 1.33, newer than kubernetes-types 1.30:
// its fields are those of the v1alpha1 declarations, named as the v1 definitions.
const RENAMED = { 'networking/v1alpha1': 'networking/v1' };
const packageOf = (mod) => PACKAGES[mod] ?? `io.k8s.api.${(RENAMED[mod] ?? mod).replace('/', '.')}`;

// The served kinds, their lists, and the meta types requests carry.
const ROOTS = [
  ...['Namespace', 'Node', 'Service', 'Pod', 'Endpoints'].flatMap((k) => [['core/v1', k], ['core/v1', `${k}List`]]),
  ['apps/v1', 'Deployment'], ['apps/v1', 'DeploymentList'],
  ['discovery/v1', 'EndpointSlice'], ['discovery/v1', 'EndpointSliceList'],
  ['networking/v1alpha1', 'ServiceCIDR'], ['networking/v1alpha1', 'ServiceCIDRList'],
  ['autoscaling/v1', 'Scale'],
  ['meta/v1', 'Status'], ['meta/v1', 'DeleteOptions'], ['meta/v1', 'WatchEvent'],
];

// Scalar aliases upstream gives schemas of their own (OpenAPISchemaType/Format and
// OpenAPIV3OneOfTypes of resource.Quantity, intstr.IntOrString, metav1.Time/MicroTime).
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const SCALARS = {
  'api/resource.Quantity': { oneOf: [{ type: 'string' }, { type: 'number' }] },
  'meta/v1.Time': { type: 'string', format: 'date-time' },
  'meta/v1.MicroTime': { type: 'string', format: 'date-time' },
};

const files = new Map();
function parsed(mod) {
  if (!files.has(mod)) {
    const sf = ts.createSourceFile(`${mod}.d.ts`, readFileSync(join(TYPES, `${mod}.d.ts`), 'utf8'), ts.ScriptTarget.Latest, true);
    const decls = new Map();
    const imports = new Map();
    for (const st of sf.statements) {
      if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) decls.set(st.name.text, st);
      if (ts.isImportDeclaration(st) && st.importClause?.namedBindings && ts.isNamedImports(st.importClause.namedBindings)) {
        const from = posix.normalize(posix.join(posix.dirname(mod), st.moduleSpecifier.text));
        for (const el of st.importClause.namedBindings.elements) imports.set(el.name.text, from);
      }
    }
    files.set(mod, { decls, imports });
  }
  return files.get(mod);
}

function docOf(node) {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const text = docs.map((d) => ts.getTextOfJSDocComment(d.comment) ?? '').join('\n').trim();
  return text || undefined;
}

const schemas = {};

/** The component name of `name` declared in `mod`, generating its schema on first use. */
function define(mod, name) {
  const key = `${mod}.${name}`;
  if (SCALARS[key]) {
    const id = `${packageOf(mod)}.${name}`;
    schemas[id] ??= { ...SCALARS[key], ...withDoc(parsed(mod).decls.get(name)) };
    return id;
  }
  const id = `${packageOf(mod)}.${name}`;
  if (schemas[id]) return id;
  const decl = parsed(mod).decls.get(name);
  if (!decl || !ts.isInterfaceDeclaration(decl)) throw new Error(`${key}: not an interface in kubernetes-types`);
  const schema = { ...withDoc(decl), type: 'object' };
  schemas[id] = schema;
  const properties = {};
  const required = [];
  for (const m of decl.members) {
    if (!ts.isPropertySignature(m) || !m.type) continue;
    const field = m.name.getText();
    const s = schemaOf(mod, m.type);
    const doc = docOf(m);
    // OpenAPI 3.0 ignores siblings of $ref; upstream wraps a ref in allOf to keep the field's description.
    properties[field] = s.$ref ? { allOf: [s], ...(doc ? { description: doc } : {}) } : { ...(doc ? { description: doc } : {}), ...s };
    if (!m.questionToken) required.push(field);
  }
  schema.properties = properties;
  if (required.length) schema.required = required;
  const gvk = gvkOf(RENAMED[mod] ?? mod, name, properties);
  if (gvk) schema['x-kubernetes-group-version-kind'] = [gvk];
  return id;
}

function withDoc(decl) {
  const d = decl && docOf(decl);
  return d ? { description: d } : {};
}

/** A top-level kind has apiVersion, kind and metadata; its GVK comes from its module. */
function gvkOf(mod, name, properties) {
  if (!properties.apiVersion || !properties.kind) return undefined;
  const [group, version] = mod.split('/');
  const g = { core: '', apps: 'apps', autoscaling: 'autoscaling', discovery: 'discovery.k8s.io', networking: 'networking.k8s.io', meta: '' }[group];
  if (g === undefined) return undefined;
  return { group: g, kind: name, version };
}

function schemaOf(mod, t) {
  switch (t.kind) {
    case ts.SyntaxKind.StringKeyword: return { type: 'string' };
    // kubernetes-types writes every Go number as `number`; the served kinds hold only
    // int32/int64 fields (floats live in kinds not served, e.g. autoscaling/v2), but
    // which of the two a field is the .d.ts does not say, so no format is claimed.
    case ts.SyntaxKind.NumberKeyword: return { type: 'integer' };
    case ts.SyntaxKind.BooleanKeyword: return { type: 'boolean' };
    case ts.SyntaxKind.ObjectKeyword: case ts.SyntaxKind.AnyKeyword: case ts.SyntaxKind.UnknownKeyword: return { type: 'object' };
    case ts.SyntaxKind.LiteralType: return { type: 'string' };
    case ts.SyntaxKind.ArrayType: return { type: 'array', items: schemaOf(mod, t.elementType) };
    case ts.SyntaxKind.ParenthesizedType: return schemaOf(mod, t.type);
  }
  if (ts.isUnionTypeNode(t)) {
    const kinds = t.types.map((u) => u.kind).sort();
    if (kinds.length === 2 && kinds.includes(ts.SyntaxKind.NumberKeyword) && kinds.includes(ts.SyntaxKind.StringKeyword)) {
      schemas[INT_OR_STRING] ??= {
        description: 'IntOrString is a type that can hold an int32 or a string. When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.',
        format: 'int-or-string',
        oneOf: [{ type: 'integer' }, { type: 'string' }],
      };
      return { $ref: `#/components/schemas/${INT_OR_STRING}` };
    }
    throw new Error(`${mod}: union ${t.getText()} has no schema`);
  }
  if (ts.isTypeLiteralNode(t)) {
    const index = t.members.find(ts.isIndexSignatureDeclaration);
    if (index) return { type: 'object', additionalProperties: schemaOf(mod, index.type) };
    if (t.members.length === 0) return { type: 'object' };
    throw new Error(`${mod}: inline object ${t.getText()} has no schema`);
  }
  if (ts.isTypeReferenceNode(t)) {
    const name = t.typeName.getText();
    if (name === 'Array' && t.typeArguments?.length === 1) return { type: 'array', items: schemaOf(mod, t.typeArguments[0]) };
    if (name === 'Record' && t.typeArguments?.length === 2) return { type: 'object', additionalProperties: schemaOf(mod, t.typeArguments[1]) };
    const from = parsed(mod).decls.has(name) ? mod : parsed(mod).imports.get(name);
    if (!from) throw new Error(`${mod}: ${name} is neither declared nor imported`);
    const decl = parsed(from).decls.get(name);
    if (decl && ts.isTypeAliasDeclaration(decl) && !SCALARS[`${from}.${name}`]) return schemaOf(from, decl.type);
    return { $ref: `#/components/schemas/${define(from, name)}` };
  }
  throw new Error(`${mod}: type ${t.getText()} has no schema`);
}

for (const [mod, name] of ROOTS) define(mod, name);

const sorted = (o) =>
  Array.isArray(o) ? o.map(sorted) : o && typeof o === 'object' ? Object.fromEntries(Object.keys(o).sort().map((k) => [k, sorted(o[k])])) : o;
const text = `${JSON.stringify(sorted(schemas), null, 1)}\n`;
if (process.argv.includes('--stdout')) process.stdout.write(text);
else writeFileSync(OUT, text);
