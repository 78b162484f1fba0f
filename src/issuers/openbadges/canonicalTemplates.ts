import { cryptosuite } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import jsigs from 'jsonld-signatures';
import * as rdfCanonize from 'rdf-canonize';
import { CONTEXTS } from './contexts.js';
import { createDocumentLoader, isBundledLoader, type DocumentLoader } from './documentLoader.js';
import { sha256Hex } from './sha256.js';

/**
 * RDFC-1.0 canonical N-Quads of JSON-LD documents without JSON-LD processing per document.
 *
 * Expanding a credential (contexts, scoped contexts, term definitions) is what makes signing slow,
 * and it is the same for every credential of one shape. A *shape* is a document with its string
 * values taken out: the keys, the array lengths, the `@context`, every `type` and `@…` value,
 * numbers, booleans and nulls stay; each other string becomes a slot. The first document of a
 * shape is converted once by the stock stack (eddsa-rdfc-2022's `canonize`, i.e. jsonld.toRDF and
 * rdf-canonize, with the loader jsonld-signatures gives it) with a unique *sentinel* in every
 * slot; where each sentinel lands in the resulting quads is the shape's template. Every later
 * document of that shape gets its quads by putting its own strings where the sentinels were, and
 * only RDFC-1.0 runs per document: its simple case (every blank node told apart by its
 * first-degree hash) here, on lines serialised by rdf-canonize's own serialiser; anything else
 * (identical pieces of evidence) by rdf-canonize itself.
 *
 * Why substituting is exact:
 * - JSON-LD never reads a string that it turns into a literal: `"x"` under a term becomes the
 *   lexical form `x`, with the datatype or language the term's definition gives, whatever `x` is.
 *   A slot whose sentinel lands anywhere but as a whole literal or IRI (inside a vocabulary IRI,
 *   a JSON literal, a language tag, nowhere at all…) is *pinned*: its value becomes part of the
 *   shape, and documents with another value there get a template of their own.
 * - A string that becomes an IRI (`id`, `@type: @id` or `@vocab` terms) is only put in a slot as an
 *   IRI when JSON-LD would leave it as it is: an absolute IRI with no character N-Quads would need
 *   to escape, which is no term of the contexts in play and whose scheme is no term either (or
 *   whose scheme is followed by `//`, which JSON-LD never reads as a compact IRI). Its sentinel is
 *   such an IRI too. Any other string gets a sentinel that is no IRI, so an IRI position holding it
 *   shows up as a pinned slot (or makes the probe fail, and the stock stack does the document).
 * - Two equal IRIs make one node in JSON-LD, and equal values of one property one quad (jsonld's node
 *   map compares node references by `@id`, literals by `@value`, `@type`, `@language` and `@index`).
 *   A quad that substitution makes equal to another is dropped only where that comparison is sure
 *   to find them equal: an IRI object, or two literals that both came from slots (plain strings
 *   under a term) while no context in play types a term `xsd:string` (a string typed so and one
 *   left untyped give the same quad, but stay two values) or uses `@index`. Any other such
 *   document goes the stock way, and so does one whose template itself holds a quad twice
 *   (equal `@json` values, which jsonld keeps both of).
 * - A document with a `@context` below its top level goes the stock way: its terms are not known
 *   here, so neither is which strings JSON-LD would read as compact IRIs. So does one holding
 *   anything JSON.parse could not give (NaN, a Date, an own `__proto__` key…): the shape key is
 *   written with JSON.stringify, which would take such values for others.
 * - Blank node labels of the template are arbitrary: RDFC-1.0 relabels them from the quads alone.
 *
 * Contexts are read only from the bundled copies (contexts.ts, and jsonld-signatures' own
 * security contexts, which it puts first): a document naming any other context, or a loader not
 * made by `createDocumentLoader` (whose bundled contexts come first), goes the stock way. The
 * differential test (test/openbadges/differential-signing.test.ts) compares this with the stock stack
 * byte for byte.
 */

type Term = {
  termType: string;
  value: string;
  datatype?: { termType: string; value: string };
  language?: string;
};
type Quad = { subject: Term; predicate: Term; object: Term; graph: Term };
/** A template term: fixed, or the value of slot `slot` in place of the sentinel. */
type TemplateTerm = { term: Term; slot: number };
type Template = {
  quads: [TemplateTerm, TemplateTerm, TemplateTerm, TemplateTerm][];
  hasSlots: boolean;
  /** Per quad: its N-Quads line when it has no slot (blank nodes as markers), else null. */
  lines: (Line | null)[];
  /** Per quad: the blank nodes it names (marker numbers), each once. */
  blankNodesOf: number[][];
  blankNodeCount: number;
  /** Per quad: its slots, in the order of its terms. */
  slotsOf: number[][];
  /** Per quad with slots: the line last made and the slot values it was made from. */
  lastLines: ({ values: string[]; line: Line } | undefined)[];
  /** Per blank node: the last first-degree hash input and its hash. */
  lastHashes: ({ input: string; hash: string } | undefined)[];
  /** The context's `literalMergesSafe` (see ContextInfo). */
  literalMergesSafe: boolean;
};

/**
 * An N-Quads line whose blank nodes are markers, cut at them once when it is made: RDFC-1.0 writes
 * it with other labels several times (`_:a`/`_:z` for each first-degree hash, then the canonical
 * ones), and joining the pieces is cheaper than searching the line each time.
 */
type Line = {
  text: string;
  /** The text around the blank node labels (without their `_:`), or null when it has none. */
  pieces: string[] | null;
  /** The marker numbers of its blank nodes, in the order they appear. */
  nodes: number[];
};

function lineOf(text: string): Line {
  if (!text.includes('\u0000')) return { text, pieces: null, nodes: [] };
  const pieces: string[] = [];
  const nodes: number[] = [];
  let from = 0;
  for (const m of text.matchAll(MARKERS)) {
    pieces.push(text.slice(from, m.index));
    nodes.push(Number(m[1]));
    from = m.index + m[0].length;
  }
  pieces.push(text.slice(from));
  return { text, pieces, nodes };
}

/** The line with each blank node labelled by `label` (its text as it is when it has none). */
function labelled(line: Line, label: (node: number) => string): string {
  const pieces = line.pieces;
  if (!pieces) return line.text;
  let out = pieces[0]!;
  for (let i = 0; i < line.nodes.length; i++) out += label(line.nodes[i]!) + pieces[i + 1]!;
  return out;
}

type NQuadsApi = {
  parse(input: string): Quad[];
  serializeQuadComponents(s: Term, p: Term, o: Term, g: Term): string;
};
const { NQuads } = rdfCanonize as unknown as { NQuads: NQuadsApi };
const canonizeDataset = rdfCanonize.canonize as unknown as (
  input: Quad[],
  options: Record<string, unknown>,
) => Promise<string>;
const stockCanonize = (
  cryptosuite as unknown as {
    canonize(input: unknown, options: Record<string, unknown>): Promise<string>;
  }
).canonize;

/** The loader every probe uses: bundled contexts only, behind jsonld-signatures' own, as when signing. */
const probeLoader: DocumentLoader = jsigs.extendContextLoader(createDocumentLoader());

const SECURITY_CONTEXTS = new Set(['https://w3id.org/security/v1', 'https://w3id.org/security/v2']);

// ---------------------------------------------------------------------------------------------
// Terms of the contexts in play (a superset: every key of every context object, recursively)

/**
 * What substitution needs to know of a document's contexts: every term they define, and whether
 * two literals that give the same quad are always one value to jsonld (module comment).
 */
type ContextInfo = { terms: ReadonlySet<string>; literalMergesSafe: boolean } | { stock: true };
const contextInfos = new Map<string, Promise<ContextInfo>>();

async function contextInfo(contextKey: string, context: unknown): Promise<ContextInfo> {
  let info = contextInfos.get(contextKey);
  if (!info) {
    info = collectTerms(context).catch(() => ({ stock: true }) as const);
    remember(contextInfos, contextKey, info, 64);
  }
  return info;
}

async function collectTerms(context: unknown): Promise<ContextInfo> {
  const terms = new Set<string>();
  const seen = new Set<string>();
  let remoteOk = true;
  // Whether two literals giving the same quad are always one value to jsonld (see the module
  // comment): no `@index`, and no string value that names xsd:string (as a `@type`, a term or a
  // `@vocab`-relative name) anywhere in the contexts. These are the bundled files only (an inline
  // context goes the stock way), and every `@type` they hold was read when this was written: OB
  // 3.0.0 and 3.0.1 type terms xsd:string (so they are not safe), no other names it.
  let literalMergesSafe = true;
  const visit = async (value: unknown): Promise<void> => {
    if (typeof value === 'string') {
      if (seen.has(value)) return;
      seen.add(value);
      if (!CONTEXTS.has(value) && !SECURITY_CONTEXTS.has(value)) {
        remoteOk = false;
        return;
      }
      const loaded = await probeLoader(value);
      await visitContextDocument((loaded.document as { '@context'?: unknown })?.['@context']);
      return;
    }
    await visitContextDocument(value);
  };
  const visitContextDocument = async (value: unknown): Promise<void> => {
    if (Array.isArray(value)) {
      for (const v of value) await visit(v);
      return;
    }
    if (typeof value === 'string') return visit(value);
    if (value === null || typeof value !== 'object') return;
    for (const [k, v] of Object.entries(value)) {
      terms.add(k);
      if (k === '@index' || v === '@index' || (typeof v === 'string' && /(?:^|[:#/])string$/.test(v)))
        literalMergesSafe = false;
      if ((k === '@context' || k === '@import') && v !== null) await visit(v);
      else if (v !== null && typeof v === 'object') await visitContextDocument(v);
    }
  };
  // Named contexts only: what an inline one defines is not worth the care here.
  const names = Array.isArray(context) ? context : [context];
  if (!names.every((name) => typeof name === 'string')) return { stock: true };
  await visit(context);
  return remoteOk ? { terms, literalMergesSafe } : { stock: true };
}

// ---------------------------------------------------------------------------------------------
// Shapes

/**
 * An absolute IRI as jsonld keeps it (its `_isAbsoluteIri`: a scheme, a colon, no white space in
 * JavaScript's sense, which includes Unicode spaces), with no character N-Quads would escape.
 */
// eslint-disable-next-line no-control-regex -- control characters are what it must refuse
const PLAIN_IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s\u0000-\u001f\u007f<>"{}|\\^`]*$/;

const I_SENTINEL = (n: number) => `https://laurel-probe.invalid/${n}i`;
const L_SENTINEL = (n: number) => `laurelprobe${n}l`;
const SENTINELS = /(?:https:\/\/)?laurel-probe\.invalid\/(\d+)i|laurelprobe(\d+)l/g;

type Shape = { key: string; values: string[]; iri: boolean[] };

/** Structural keys: their whole value belongs to the shape. */
const structural = (key: string) => key === 'type' || key.charCodeAt(0) === 64; /* '@' */

function isPlainIri(value: string, terms: ReadonlySet<string>): boolean {
  if (!PLAIN_IRI.test(value) || terms.has(value)) return false;
  const colon = value.indexOf(':');
  return value.startsWith('//', colon + 1) || !terms.has(value.slice(0, colon));
}

/**
 * Whether a value is what JSON.parse could give: the shape key is written with JSON.stringify,
 * which would make NaN look like null and a Date like a string, and a probe could not copy an own
 * `__proto__` key.
 */
function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    for (let i = 0; i < value.length; i++) if (!(i in value) || !isPlainJson(value[i])) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if ((proto !== Object.prototype && proto !== null) || Object.hasOwn(value, '__proto__')) return false;
  for (const v of Object.values(value)) if (!isPlainJson(v)) return false;
  return true;
}

/**
 * The document's shape, or null when it has a `@context` below its top level or anything JSON
 * could not hold (such documents go the stock way).
 */
function shapeOf(doc: Record<string, unknown>, terms: ReadonlySet<string>): Shape | null {
  const parts: string[] = [];
  const values: string[] = [];
  const iri: boolean[] = [];
  let unsupported = false;
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      const plain = isPlainIri(value, terms);
      parts.push(plain ? '\u0001I' : '\u0001L');
      values.push(value);
      iri.push(plain);
    } else if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) unsupported = true;
      parts.push('[');
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) unsupported = true;
        walk(value[i]);
        parts.push(',');
      }
      parts.push(']');
    } else if (value !== null && typeof value === 'object') {
      const proto = Object.getPrototypeOf(value);
      if (
        (proto !== Object.prototype && proto !== null) ||
        Object.hasOwn(value, '__proto__') ||
        (value !== doc && Object.hasOwn(value, '@context'))
      )
        unsupported = true;
      parts.push('{');
      for (const [k, v] of Object.entries(value)) {
        parts.push(JSON.stringify(k), ':');
        if (structural(k)) {
          if (!isPlainJson(v)) unsupported = true;
          parts.push(JSON.stringify(v));
        } else walk(v);
        parts.push(',');
      }
      parts.push('}');
    } else {
      if (!isPlainJson(value)) unsupported = true;
      parts.push(JSON.stringify(value));
    }
  };
  walk(doc);
  return unsupported ? null : { key: parts.join(''), values, iri };
}

/** The document with each slot's value replaced by its sentinel, except the pinned ones. */
function probeOf(doc: Record<string, unknown>, shape: Shape, pinned: ReadonlySet<number>): unknown {
  let n = 0;
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const i = n++;
      if (pinned.has(i)) return value;
      return shape.iri[i] ? I_SENTINEL(i) : L_SENTINEL(i);
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = structural(k) ? v : walk(v);
      return out;
    }
    return value;
  };
  return walk(doc);
}

// ---------------------------------------------------------------------------------------------
// Templates

type ShapeEntry = {
  /** Slots whose value is part of the template key (see the module comment). */
  pinned: Set<number>;
  templates: Map<string, Promise<Template | null>>;
};
const shapes = new Map<string, ShapeEntry>();
const MAX_SHAPES = 512;
const MAX_TEMPLATES_PER_SHAPE = 256;

/** Map insertion order as recency: a hit moves the entry to the end; the oldest go first. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value as K);
}

const templateKey = (shape: Shape, pinned: ReadonlySet<number>) =>
  pinned.size === 0 ? '' : JSON.stringify([...pinned].sort((a, b) => a - b).map((i) => [i, shape.values[i]]));

/**
 * Converts the probe of `doc` with the stock stack and reads the template off its quads. Slots
 * whose sentinel lands anywhere but as a whole term are added to `entry.pinned` and the probe is
 * run again; null when the stock stack refuses the probe (the document then goes the stock way).
 */
async function compile(
  doc: Record<string, unknown>,
  shape: Shape,
  entry: ShapeEntry,
  literalMergesSafe: boolean,
): Promise<Template | null> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const pinned = new Set(entry.pinned);
    // A sentinel must come from its slot only: a document whose fixed parts (keys, types, pinned
    // values) look like one is left to the stock stack.
    if (
      sentinelsIn(shape.key).length > 0 ||
      [...pinned].some((i) => sentinelsIn(shape.values[i]!).length > 0)
    ) {
      return null;
    }
    let quads: Quad[];
    try {
      const canonical = await stockCanonize(probeOf(doc, shape, pinned), {
        documentLoader: probeLoader,
        base: null,
        safe: true,
      });
      // A quad the stock stack gives twice must stay twice, and substitution drops duplicates; a
      // NUL would be taken for a blank node marker: neither template is made.
      const lines = canonical.split('\n');
      if (canonical.includes('\u0000') || new Set(lines).size !== lines.length) return null;
      quads = NQuads.parse(canonical);
    } catch (err) {
      // Safe mode refuses some sentinels where only a term or an IRI may stand (`proofPurpose`
      // is a `@vocab` term with no `@vocab` to fall back on): its error names the sentinel, and
      // that slot is pinned. An error naming no sentinel is the document's own.
      const culprits = sentinelsIn(errorDetails(err)).filter((i) => !pinned.has(i));
      if (culprits.length === 0) return null;
      for (const i of culprits) entry.pinned.add(i);
      continue;
    }
    const seen = new Array<number>(shape.values.length).fill(0);
    const toPin = new Set<number>();
    // The probe's canonical labels (`c14n…`) would be kept as they are by rdf-canonize, which
    // leaves labels with its own prefix alone: label the blank nodes as jsonld.toRDF does.
    const blankNodes = new Map<string, Term>();
    const templateTerm = (
      term: Term,
      position: 'subject' | 'predicate' | 'object' | 'graph',
    ): TemplateTerm => {
      if (term.termType === 'BlankNode') {
        let relabelled = blankNodes.get(term.value);
        if (!relabelled)
          blankNodes.set(
            term.value,
            (relabelled = { termType: 'BlankNode', value: marker(blankNodes.size) }),
          );
        return { term: relabelled, slot: -1 };
      }
      let slot = -1;
      const strings = [term.value, term.datatype?.value ?? '', term.language ?? ''];
      for (let s = 0; s < strings.length; s++) {
        for (const m of strings[s]!.matchAll(SENTINELS)) {
          const i = Number(m[1] ?? m[2]);
          const exact =
            s === 0 &&
            m.index === 0 &&
            m[0].length === term.value.length &&
            !pinned.has(i) &&
            (m[1] !== undefined) === shape.iri[i] &&
            (term.termType === 'Literal' ||
              (term.termType === 'NamedNode' && shape.iri[i] && position !== 'predicate'));
          if (exact) {
            slot = i;
            seen[i]!++;
          } else toPin.add(i);
        }
      }
      return { term, slot };
    };
    const template: Template = {
      quads: [],
      hasSlots: false,
      lines: [],
      blankNodesOf: [],
      blankNodeCount: 0,
      slotsOf: [],
      lastLines: [],
      lastHashes: [],
      literalMergesSafe,
    };
    for (const q of quads) {
      const t: Template['quads'][number] = [
        templateTerm(q.subject, 'subject'),
        templateTerm(q.predicate, 'predicate'),
        templateTerm(q.object, 'object'),
        templateTerm(q.graph, 'graph'),
      ];
      const slotted = t.some((c) => c.slot >= 0);
      if (slotted) template.hasSlots = true;
      template.quads.push(t);
      template.lines.push(
        slotted ? null : lineOf(NQuads.serializeQuadComponents(t[0].term, t[1].term, t[2].term, t[3].term)),
      );
      template.slotsOf.push(t.filter((c) => c.slot >= 0).map((c) => c.slot));
      template.lastLines.push(undefined);
      template.blankNodesOf.push([
        ...new Set(t.filter((c) => c.term.termType === 'BlankNode').map((c) => markerNumber(c.term.value))),
      ]);
    }
    template.blankNodeCount = blankNodes.size;
    for (let i = 0; i < seen.length; i++) if (!pinned.has(i) && seen[i] === 0) toPin.add(i);
    if (toPin.size === 0) return template;
    for (const i of toPin) entry.pinned.add(i);
  }
  return null;
}

/**
 * Blank nodes of a template are labelled with a NUL-delimited number: N-Quads escapes every
 * control character of a literal and no IRI here holds one, so in a serialised line a NUL only
 * ever comes from a label. (Not `c14n…`: rdf-canonize keeps labels with its own prefix.)
 */
const marker = (n: number) => `\u0000${n}\u0000`;
const markerNumber = (value: string) => Number(value.slice(1, -1));
// eslint-disable-next-line no-control-regex -- the markers are NUL-delimited on purpose
const MARKERS = /_:\u0000(\d+)\u0000/g;

/** A template with a document's values put in: its N-Quads lines (blank nodes as markers). */
type Substituted = { lines: Line[]; quads: number[] };

/**
 * The template's quads with `values` in the slots, as N-Quads lines, each quad once (see the
 * module comment for when a duplicate may be dropped); null when the document must go the stock
 * way because jsonld might keep both of two equal quads.
 */
function substitute(template: Template, values: readonly string[]): Substituted | null {
  const fill = (c: TemplateTerm): Term => (c.slot < 0 ? c.term : { ...c.term, value: values[c.slot]! });
  const lines: Line[] = [];
  const quads: number[] = [];
  // The template holds no quad twice (compile makes sure): only lines with slots can repeat.
  const seen = template.hasSlots ? new Map<string, number>() : null;
  for (let q = 0; q < template.quads.length; q++) {
    let line = template.lines[q]!;
    if (line === null) {
      // Most slots hold the same value credential after credential (the issuer's and the
      // achievement's parts): the line made for the last values is kept.
      const slots = template.slotsOf[q]!;
      const last = template.lastLines[q];
      if (last && slots.every((slot, k) => last.values[k] === values[slot])) line = last.line;
      else {
        const [s, p, o, g] = template.quads[q]!;
        line = lineOf(NQuads.serializeQuadComponents(fill(s), fill(p), fill(o), fill(g)));
        template.lastLines[q] = { values: slots.map((slot) => values[slot]!), line };
      }
    }
    if (seen) {
      const earlier = seen.get(line.text);
      if (earlier !== undefined) {
        if (!mergesAsJsonLd(template, earlier, q)) return null;
        continue;
      }
      seen.set(line.text, q);
    }
    lines.push(line);
    quads.push(q);
  }
  return { lines, quads };
}

/**
 * Whether jsonld's node map would make one value of quads `a` and `b` of a template, given that
 * they came out equal: node references are compared by `@id` alone; two literals only when both
 * are slots (plain strings under a term, so no `@index` and no `@type` but the term's) and no
 * context in play could make a term's string typed and another's not.
 */
function mergesAsJsonLd(template: Template, a: number, b: number): boolean {
  const objectA = template.quads[a]![2];
  const objectB = template.quads[b]![2];
  if (objectA.term.termType === 'NamedNode') return true;
  return (
    objectA.term.termType === 'Literal' &&
    objectA.slot >= 0 &&
    objectB.slot >= 0 &&
    template.literalMergesSafe
  );
}

/**
 * RDFC-1.0 of substituted lines when every blank node's first-degree hash is unique (the spec's
 * simple case, and Laurel's usual one): canonical labels in the order of those hashes, as
 * rdf-canonize issues them. Serialising, hashing and sorting are rdf-canonize's own (its
 * serialiser, SHA-256 over the sorted lines, JavaScript's default sort). Null when two blank
 * nodes share a hash (identical pieces of evidence): the n-degree algorithm is rdf-canonize's.
 */
function canonizeSimple(template: Template, substituted: Substituted): string | null {
  const { lines } = substituted;
  const byBlankNode: Line[][] = Array.from({ length: template.blankNodeCount }, () => []);
  for (let i = 0; i < lines.length; i++) {
    for (const b of template.blankNodesOf[substituted.quads[i]!]!) byBlankNode[b]!.push(lines[i]!);
  }
  const hashes: string[] = [];
  const owner = new Map<string, number>();
  for (let b = 0; b < byBlankNode.length; b++) {
    const related = byBlankNode[b]!.map((line) => labelled(line, (n) => (n === b ? '_:a' : '_:z')));
    related.sort();
    const input = related.join('');
    const last = template.lastHashes[b];
    let hash: string;
    if (last && last.input === input) hash = last.hash;
    else {
      hash = sha256Hex(input);
      template.lastHashes[b] = { input, hash };
    }
    if (owner.has(hash)) return null;
    owner.set(hash, b);
    hashes.push(hash);
  }
  const labels = new Array<string>(byBlankNode.length);
  hashes.sort();
  for (let i = 0; i < hashes.length; i++) labels[owner.get(hashes[i]!)!] = `_:c14n${i}`;
  const canonical = lines.map((line) => labelled(line, (n) => labels[n]!));
  canonical.sort();
  return canonical.join('');
}

function errorDetails(err: unknown): string {
  try {
    return JSON.stringify((err as { details?: unknown })?.details) ?? '';
  } catch {
    return '';
  }
}

const sentinelsIn = (text: string) => [...text.matchAll(SENTINELS)].map((m) => Number(m[1] ?? m[2]));

/** The substituted quads as terms, for rdf-canonize's n-degree path. */
function instantiate(template: Template, values: readonly string[], substituted: Substituted): Quad[] {
  const fill = (c: TemplateTerm): Term => (c.slot < 0 ? c.term : { ...c.term, value: values[c.slot]! });
  return substituted.quads.map((q) => {
    const [s, p, o, g] = template.quads[q]!;
    return { subject: fill(s), predicate: fill(p), object: fill(o), graph: fill(g) };
  });
}

/** Counts of how documents were canonicalised, for the bench and tests. */
export const canonicalStats = { templated: 0, compiled: 0, stock: 0, nDegree: 0 };

/**
 * The RDFC-1.0 canonical N-Quads of a JSON-LD document, exactly as eddsa-rdfc-2022's `canonize`
 * gives them (with `{ documentLoader, base: null, safe: true }`, as Data Integrity calls it),
 * from a cached template when the document's shape allows.
 */
export async function canonizeDocument(
  doc: Record<string, unknown>,
  documentLoader: DocumentLoader,
): Promise<string> {
  const fast = isBundledLoader(documentLoader) ? await templated(doc) : null;
  if (fast !== null) return fast;
  canonicalStats.stock++;
  return stockCanonize(doc, {
    documentLoader: jsigs.extendContextLoader(documentLoader),
    base: null,
    safe: true,
  });
}

async function templated(doc: Record<string, unknown>): Promise<string | null> {
  const context = doc['@context'];
  const info = await contextInfo(JSON.stringify(context) ?? '', context);
  if ('stock' in info) return null;
  const shape = shapeOf(doc, info.terms);
  if (!shape) return null;
  let entry = shapes.get(shape.key);
  if (!entry) entry = { pinned: new Set(), templates: new Map() };
  remember(shapes, shape.key, entry, MAX_SHAPES);
  let key = templateKey(shape, entry.pinned);
  let pending = entry.templates.get(key);
  if (!pending) {
    canonicalStats.compiled++;
    pending = compile(doc, shape, entry, info.literalMergesSafe);
    // compile may pin more slots: file the template under the key it was made for.
    const made = await pending;
    key = templateKey(shape, entry.pinned);
    pending = Promise.resolve(made);
  }
  remember(entry.templates, key, pending, MAX_TEMPLATES_PER_SHAPE);
  const template = await pending;
  if (!template) return null;
  const substituted = substitute(template, shape.values);
  if (!substituted) return null;
  canonicalStats.templated++;
  const simple = canonizeSimple(template, substituted);
  if (simple !== null) return simple;
  canonicalStats.nDegree++;
  return canonizeDataset(instantiate(template, shape.values, substituted), {
    algorithm: 'RDFC-1.0',
    format: 'application/n-quads',
  });
}
