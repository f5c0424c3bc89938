// Where things are in a YAML file: parses text keeping the node tree and a
// line counter, and maps a field path (["manifests", 1, "spec"]) back to the
// 1-based line a user should look at. Every LabFileError is made here.
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments, parseDocument, YAMLError } from 'yaml';
import type { Document, Node } from 'yaml';
import { LabFileError } from '../util/errors.ts';

export type Path = readonly (string | number)[];

/** ["manifests", 1, "spec", "ports", 0, "port"] -> "manifests[1].spec.ports[0].port". */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`; // label keys like app.kubernetes.io/name
  }
  return out;
}

/** One YAML document of a file; `prefix` is prepended to paths in messages (a List's items[3]). */
export class YamlSource {
  constructor(
    readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    readonly prefix: Path = [],
  ) {}

  /** The document's plain data. */
  data(): unknown {
    return this.doc.toJS({ maxAliasCount: 1000 });
  }

  /** A view of a sub-tree (an object inside a List, or a lab manifest) with paths relative to it. */
  at(prefix: Path): YamlSource {
    return new YamlSource(this.file, this.doc, this.lines, [...this.prefix, ...prefix]);
  }

  /**
   * The line of the node at `path`: a mapping key's line for a field, an item's
   * first line for a list element. A path that does not exist (a missing field)
   * gives the line of the deepest part that does: the parent mapping.
   */
  line(path: Path): number {
    const { node, key } = this.walk(path);
    const anchor = key ?? (node as Node | null);
    return anchor?.range ? this.lines.linePos(anchor.range[0]).line : 1;
  }

  /** Whether the file spells out `path` (rather than leaving it to a default). */
  has(path: Path): boolean {
    return this.walk(path).complete;
  }

  private walk(path: Path): { node: unknown; key?: Node; complete: boolean } {
    let node: unknown = this.doc.contents;
    let key: Node | undefined;
    for (const seg of [...this.prefix, ...path]) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
        if (!pair) return { node, key, complete: false };
        node = pair.value;
        key = pair.key as Node;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        node = node.items[seg];
        key = undefined;
      } else {
        return { node, key, complete: false };
      }
    }
    return { node, key, complete: true };
  }

  error(path: Path, message: string): LabFileError {
    return new LabFileError(message, this.file, this.line(path), formatPath([...this.prefix, ...path]) || undefined);
  }

  /** A warning line, located like an error. */
  warning(path: Path, message: string): string {
    return formatLabError(this.error(path, message));
  }
}

/** "file:line path: message" — how the CLI prints a LabFileError (and how warnings read). */
export function formatLabError(e: LabFileError): string {
  const where = e.location;
  return where ? `${where}: ${e.message}` : e.message;
}

// yaml's errors carry a byte offset; the message is made plain and the line exact.
function yamlError(file: string, err: YAMLError, lines: LineCounter): LabFileError {
  const { line, col } = lines.linePos(err.pos[0]);
  const msg = err.message.replace(/\s+at line \d+, column \d+[\s\S]*$/, '').trim();
  return new LabFileError(`not valid YAML: ${msg} (column ${col})`, file, line);
}

const OPTIONS = { prettyErrors: false, uniqueKeys: true, keepSourceTokens: false } as const;

/** Parses a single-document file; throws LabFileError on a YAML error. */
export function parseYaml(text: string, file: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { ...OPTIONS, lineCounter: lines });
  if (doc.errors.length) throw yamlError(file, doc.errors[0], lines);
  return new YamlSource(file, doc, lines);
}

/** Parses every document of a multi-document file (`---` separated), skipping empty ones. */
export function parseYamlDocuments(text: string, file: string): YamlSource[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { ...OPTIONS, lineCounter: lines });
  for (const doc of docs) if (doc.errors.length) throw yamlError(file, doc.errors[0], lines);
  // "---" alone, or a trailing separator, makes an empty document: not an object.
  return docs.map((d) => new YamlSource(file, d, lines)).filter((s) => s.data() !== null);
}
