/**
 * Structure-aware mutation of parsed JSON fixtures for the mapper fuzz tests: a random subtree is replaced
 * by a random JSON value, deleted, or given a prototype-polluting key (`__proto__`, `constructor`,
 * `prototype`) as an own property, the way JSON.parse creates them from hostile input.
 */
import fc from 'fast-check';

/** One structural edit: which node (by walk index), and what to do there. */
type JsonEdit = { pick: number; op: 'replace' | 'delete' | 'proto' | 'wrong_type'; value: unknown; key: string };

const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf');

const jsonEdit: fc.Arbitrary<JsonEdit> = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom('replace', 'delete', 'proto', 'wrong_type'),
  value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, '', -1, 1e308, 2 ** 64, '0x', '::', '1.2.3.4', 'a'.repeat(5000), [], {})),
  key: hostileKey,
}) as fc.Arbitrary<JsonEdit>;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every (container, key) pair in the tree, depth first. */
function slots(v: Json, out: [Json[] | Record<string, Json>, string | number][] = []): [Json[] | Record<string, Json>, string | number][] {
  if (Array.isArray(v)) v.forEach((x, i) => { out.push([v, i]); slots(x, out); });
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) { out.push([v, k]); slots(v[k], out); }
  return out;
}

function wrongType(v: unknown): unknown {
  if (typeof v === 'string') return v.length;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return { 0: v[0] ?? null };
  if (v !== null && typeof v === 'object') return [v];
  return 'x';
}

/** Applies edits to a deep copy of `doc`; hostile keys are inserted as own properties (JSON.parse style). */
export function applyJsonEdits(doc: unknown, edits: readonly JsonEdit[]): unknown {
  let root = JSON.parse(JSON.stringify(doc)) as Json;
  for (const e of edits) {
    const all = slots(root);
    if (all.length === 0) { root = JSON.parse(JSON.stringify(e.value) ?? 'null') as Json; continue; }
    const [container, key] = all[e.pick % all.length];
    const c = container as Record<string | number, Json>;
    switch (e.op) {
      case 'replace': c[key] = JSON.parse(JSON.stringify(e.value) ?? 'null') as Json; break;
      case 'wrong_type': c[key] = wrongType(c[key]) as Json; break;
      case 'delete':
        if (Array.isArray(container)) container.splice(key as number, 1);
        else delete c[key];
        break;
      case 'proto': {
        const target = c[key];
        if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
          Object.defineProperty(target, e.key, { value: JSON.parse('{"polluted":"yes","rule":"x","flow":{}}') as Json, enumerable: true, writable: true, configurable: true });
        }
        break;
      }
    }
  }
  // Round-trip through text so the result is exactly what JSON.parse makes of hostile input.
  return JSON.parse(JSON.stringify(root)) as unknown;
}

/** Mutations of one of the parsed `docs`. */
export function jsonMutationOf(docs: readonly unknown[], maxEdits = 4): fc.Arbitrary<unknown> {
  return fc.tuple(fc.nat({ max: docs.length - 1 }), fc.array(jsonEdit, { minLength: 1, maxLength: maxEdits }))
    .map(([i, edits]) => applyJsonEdits(docs[i], edits));
}

/** Asserts nothing was added to Object.prototype / Array.prototype (prototype pollution). */
export function assertNoPollution(): void {
  const probe = {} as Record<string, unknown>;
  if (probe.polluted !== undefined || ([] as unknown as Record<string, unknown>).polluted !== undefined) {
    throw new Error('Object.prototype was polluted');
  }
}
