/**
 * The ONE explicit list of component factories (no registration by import side effect). The config
 * loader and the CLI resolve component types here; a duplicate type is rejected at startup.
 */
import type { AnyFactory } from './component/types.js';
import { jsonlFactory } from './exporters/jsonl/factory.js';
import { tableFactory } from './exporters/table/table.js';

/** Every factory pastewatch ships. */
export const FACTORIES: AnyFactory[] = [
  jsonlFactory,
  tableFactory,
];

/** Rejects two factories of the same kind and type (a programming error, caught by a test and at startup). */
export function checkFactories(list: readonly AnyFactory[]): void {
  const seen = new Set<string>();
  for (const f of list) {
    const key = `${f.kind}:${f.type}`;
    if (seen.has(key)) throw new Error(`duplicate ${f.kind} factory type "${f.type}" in src/components.ts`);
    seen.add(key);
  }
}
