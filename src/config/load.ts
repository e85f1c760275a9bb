/**
 * Loads otel-config.yaml the way the OpenTelemetry Collector does: receivers / processors / exporters /
 * extensions / service.pipelines, ids `type[/name]`, pipelines `logs[/name]` and `traces[/name]`, env
 * expansion, each component's defaults overlaid by the user's YAML, unknown keys and types rejected, and
 * every problem reported at once with its key path and line.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, isScalar, isSeq, parseDocument, visit, parse as parseYaml } from 'yaml';
import type { Document, Scalar } from 'yaml';
import type { AnyFactory, ComponentKind, ExporterFactory, ExtensionFactory, ProcessorFactory, ReceiverFactory, Signal } from '../component/types.js';
import { PastewatchError } from '../util/errors.js';
import { expandString, isWholeReference } from './expand.js';
import type { ExpandProblem } from './expand.js';
import type { Problem } from './problems.js';
import { formatProblem } from './problems.js';
import { parseWithSchema, suggest } from './schema-util.js';
import { pipelinesSchema, serviceSchema } from './service-schema.js';
import type { ServiceConfig } from './service-schema.js';

/** One configured component: its id, factory and validated config (defaults overlaid). */
export interface ComponentEntry<F extends AnyFactory = AnyFactory> {
  id: string;
  type: string;
  name?: string;
  factory: F;
  config: unknown;
}

/** A pipeline as configured. */
export interface PipelineSpec {
  id: string;
  signal: Signal;
  receivers: string[];
  processors: string[];
  exporters: string[];
}

/** A validated config, ready for the pipeline runtime. */
export interface LoadedConfig {
  source: string;
  receivers: Map<string, ComponentEntry<ReceiverFactory>>;
  processors: Map<string, ComponentEntry<ProcessorFactory>>;
  exporters: Map<string, ComponentEntry<ExporterFactory>>;
  extensions: Map<string, ComponentEntry<ExtensionFactory>>;
  pipelines: PipelineSpec[];
  service: ServiceConfig;
}

/** A config that failed to load: every problem found, each with its path and line. */
export class ConfigError extends PastewatchError {
  readonly problems: Problem[];
  readonly source: string;
  constructor(source: string, problems: Problem[]) {
    super('CONFIG_INVALID', `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
    this.problems = problems;
    this.source = source;
  }
}

/** Options for loading. */
export interface LoadOptions {
  env: Record<string, string | undefined>;
  factories: readonly AnyFactory[];
}

const SECTIONS: Record<string, ComponentKind> = { receivers: 'receiver', processors: 'processor', exporters: 'exporter', extensions: 'extension' };
const TOP_KEYS = ['receivers', 'processors', 'exporters', 'connectors', 'extensions', 'service'];
const TYPE_RE = /^[a-zA-Z][0-9a-zA-Z_]{0,62}$/;

/** Splits `type[/name]`; returns undefined (with a reason) when malformed. */
export function parseComponentId(id: string): { type: string; name?: string } | { error: string } {
  const slash = id.indexOf('/');
  const type = slash < 0 ? id : id.slice(0, slash);
  const name = slash < 0 ? undefined : id.slice(slash + 1);
  if (!TYPE_RE.test(type)) return { error: `"${id}": a component type must match ${TYPE_RE.source}` };
  if (name !== undefined && name.trim() === '') return { error: `"${id}": the name after "/" must not be empty` };
  return { type, name };
}

/** Reads and loads a config file; throws ConfigError (all problems) or PastewatchError (unreadable). */
export function loadConfigFile(path: string, opts: LoadOptions): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PastewatchError('CONFIG_NOT_FOUND', code === 'ENOENT' ? `${path}: config file not found` : `${path}: cannot read config file (${code ?? String(err)})`, { cause: err });
  }
  return loadConfigText(text, path, opts);
}

/** Loads a config from YAML text (source names it in messages). */
export function loadConfigText(text: string, source: string, opts: LoadOptions): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const problems: Problem[] = [];
  for (const e of doc.errors) {
    const first = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    problems.push({ path: [], message: `YAML: ${first}`, line: e.linePos?.[0]?.line });
  }
  if (problems.length) throw new ConfigError(source, problems);

  expandEnv(doc, opts.env, problems, lineCounter);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    // yaml throws a plain ReferenceError on an alias bomb; report it like any other problem (found by the
    // fuzz suite: test/config/load.test.ts "regression: a YAML alias bomb is a ConfigError").
    throw new ConfigError(source, [...problems, { path: [], message: `YAML: ${(err as Error).message}` }]);
  }
  const locate = (path: (string | number)[]): number | undefined => lineOf(doc, lineCounter, path);
  return resolveConfig(raw, source, opts, locate, problems);
}

/**
 * Validates an already-parsed config object (the CLI builds some in code). `locate` maps a key path to a
 * line; `initial` carries problems found earlier (env expansion).
 */
export function resolveConfig(
  raw: unknown,
  source: string,
  opts: LoadOptions,
  locate: (path: (string | number)[]) => number | undefined = () => undefined,
  initial: Problem[] = [],
): LoadedConfig {
  const problems = [...initial];
  const samePath = (a: (string | number)[], b: (string | number)[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  const add = (path: (string | number)[], message: string): void => {
    // A value whose env reference failed would also fail its schema: report the cause once.
    if (initial.some((p) => samePath(p.path, path))) return;
    problems.push({ path, message, line: locate(path) });
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [{ path: [], message: 'the config must be a mapping with receivers, processors, exporters and service' }]);
  }
  const top = raw as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (!TOP_KEYS.includes(key)) {
      const hint = suggest(key, TOP_KEYS);
      add([key], `unknown top-level key${hint ? ` (did you mean "${hint}"?)` : ` (known: ${TOP_KEYS.join(', ')})`}`);
    }
  }
  if (top.connectors && Object.keys(top.connectors as object).length) add(['connectors'], 'connectors are not supported by pastewatch');

  const byKind = new Map<string, AnyFactory>();
  for (const f of opts.factories) byKind.set(`${f.kind}:${f.type}`, f);

  const sections: Record<string, Map<string, ComponentEntry>> = {
    receivers: new Map(), processors: new Map(), exporters: new Map(), extensions: new Map(),
  };
  for (const [section, kind] of Object.entries(SECTIONS)) {
    const value = top[section];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      add([section], 'must be a mapping of component ids to their settings');
      continue;
    }
    for (const [id, settings] of Object.entries(value as Record<string, unknown>)) {
      const parsed = parseComponentId(id);
      if ('error' in parsed) {
        add([section, id], parsed.error);
        continue;
      }
      const factory = byKind.get(`${kind}:${parsed.type}`);
      if (!factory) {
        const known = opts.factories.filter((f) => f.kind === kind).map((f) => f.type).sort();
        const hint = suggest(parsed.type, known);
        add([section, id], `unknown ${kind} type "${parsed.type}"${hint ? ` (did you mean "${hint}"?)` : ''}; known types: ${known.join(', ') || '(none)'}`);
        continue;
      }
      if (settings !== null && settings !== undefined && (typeof settings !== 'object' || Array.isArray(settings))) {
        add([section, id], 'settings must be a mapping (or empty for the defaults)');
        continue;
      }
      const r = parseWithSchema(factory.schema, settings ?? {}, [section, id]);
      for (const p of r.problems) add(p.path, p.message);
      if (r.value === undefined) continue;
      const extra = factory.validate?.(r.value) ?? [];
      for (const p of extra) add([section, id, ...p.path], p.message);
      sections[section].set(id, { id, type: parsed.type, name: parsed.name, factory, config: r.value });
    }
  }

  const svc = parseWithSchema(serviceSchema, top.service ?? {}, ['service']);
  for (const p of svc.problems) add(p.path, p.message);
  // With a problem elsewhere in `service`, the pipelines are still checked on their own.
  const pipelinesOnly = svc.value ? undefined : parseWithSchema(pipelinesSchema, (top.service as Record<string, unknown> | undefined)?.pipelines ?? {}, ['service', 'pipelines']);
  const service = svc.value ?? { ...serviceSchema.parse({}), pipelines: pipelinesOnly?.value ?? {} };

  const pipelines: PipelineSpec[] = [];
  if (svc.value || pipelinesOnly?.value) {
    const declared = (section: string, id: string): boolean => {
      if (sections[section].has(id)) return true;
      // A component that failed validation is declared; do not report it twice as undefined.
      const sec = top[section];
      return !!sec && typeof sec === 'object' && id in (sec as object);
    };
    for (const [pid, spec] of Object.entries(service.pipelines)) {
      const base = ['service', 'pipelines', pid];
      const slash = pid.indexOf('/');
      const signal = slash < 0 ? pid : pid.slice(0, slash);
      if (signal !== 'logs' && signal !== 'traces') {
        add(base, signal === 'metrics' ? 'metrics pipelines are not supported (pastewatch exports logs and traces)' : `pipeline id must be logs[/name] or traces[/name], got "${pid}"`);
        continue;
      }
      if (slash >= 0 && pid.slice(slash + 1).trim() === '') add(base, 'the name after "/" must not be empty');
      if (spec.receivers.length === 0) add([...base, 'receivers'], 'a pipeline needs at least one receiver');
      if (spec.exporters.length === 0) add([...base, 'exporters'], 'a pipeline needs at least one exporter');
      for (const [list, section, kind] of [['receivers', 'receivers', 'receiver'], ['processors', 'processors', 'processor'], ['exporters', 'exporters', 'exporter']] as const) {
        const seen = new Set<string>();
        spec[list].forEach((ref, i) => {
          if (seen.has(ref)) add([...base, list, i], `${kind} "${ref}" is listed twice in this pipeline`);
          seen.add(ref);
          if (!declared(section, ref)) add([...base, list, i], `pipeline "${pid}" references ${kind} "${ref}" which is not configured in ${section}`);
        });
      }
      pipelines.push({ id: pid, signal, receivers: spec.receivers, processors: spec.processors, exporters: spec.exporters });
    }
    if (Object.keys(service.pipelines).length === 0) add(['service', 'pipelines'], 'at least one pipeline is required');
    service.extensions.forEach((ref, i) => {
      if (!declared('extensions', ref)) add(['service', 'extensions', i], `extension "${ref}" is not configured in extensions`);
    });
  }

  if (problems.length) throw new ConfigError(source, problems);
  return {
    source,
    receivers: sections.receivers as Map<string, ComponentEntry<ReceiverFactory>>,
    processors: sections.processors as Map<string, ComponentEntry<ProcessorFactory>>,
    exporters: sections.exporters as Map<string, ComponentEntry<ExporterFactory>>,
    extensions: sections.extensions as Map<string, ComponentEntry<ExtensionFactory>>,
    pipelines,
    service,
  };
}

/** Expands env references in every value scalar (never in keys), recording problems with their line. */
function expandEnv(doc: Document, env: Record<string, string | undefined>, problems: Problem[], lc: LineCounter): void {
  visit(doc, {
    Scalar(key, node: Scalar, path) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      const found: ExpandProblem[] = [];
      const text = node.value;
      const expanded = expandString(text, env, found);
      const keyPath = pathOf(path, node);
      for (const f of found) problems.push({ path: keyPath, message: f.message, line: node.range ? lc.linePos(node.range[0]).line : undefined });
      if (found.length) return;
      if (isWholeReference(text) && node.type === 'PLAIN') {
        try {
          const v: unknown = parseYaml(expanded);
          node.value = v === null || typeof v === 'object' ? expanded : v;
        } catch {
          node.value = expanded;
        }
      } else node.value = expanded;
    },
  });
}

/** The key path of a node from the visitor's ancestry. */
function pathOf(path: readonly unknown[], node: unknown): (string | number)[] {
  const out: (string | number)[] = [];
  const chain = [...path, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i] as { items?: unknown[] };
    const child = chain[i + 1] as { key?: unknown };
    if (parent && typeof parent === 'object' && 'key' in parent && 'value' in parent) {
      const k = (parent as { key: unknown }).key;
      out.push(isScalar(k) ? String(k.value) : String(k));
    } else if (Array.isArray(parent.items) && !('key' in (child ?? {}))) {
      const idx = parent.items.indexOf(child);
      if (idx >= 0) out.push(idx);
    }
  }
  return out;
}

/** Line of the deepest key (or sequence item) that exists along a key path. */
function lineOf(doc: Document, lc: LineCounter, path: (string | number)[]): number | undefined {
  for (let n = path.length; n > 0; n--) {
    const parent = n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
    const last = path[n - 1];
    const items = (parent as { items?: unknown[] } | null | undefined)?.items;
    if (!Array.isArray(items)) continue;
    if (typeof last === 'number' && isSeq(parent)) {
      const item = items[last] as { range?: [number, number, number] } | undefined;
      if (item?.range) return lc.linePos(item.range[0]).line;
      continue;
    }
    // A mapping entry: point at its key (where a reader looks for "pcap_flie:"), not at its value.
    const pair = (items as { key?: { value?: unknown; range?: [number, number, number] } }[]).find((it) => isScalar(it.key) && String(it.key.value) === String(last));
    if (pair?.key?.range) return lc.linePos(pair.key.range[0]).line;
  }
  return undefined;
}
