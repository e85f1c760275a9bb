/**
 * The ONE explicit list of component factories (no registration by import side effect). The config
 * loader and the CLI resolve component types here; a duplicate type is rejected at startup.
 */
import type { AnyFactory } from './component/types.js';
import { jsonlFactory } from './exporters/jsonl/factory.js';
import { tableFactory } from './exporters/table/table.js';
import { healthCheckFactory } from './extensions/health_check/factory.js';
import { pcapFactory } from './receivers/pcap/factory.js';
import { pcapFileFactory } from './receivers/pcap_file/factory.js';
import { dnsCorrelationFactory } from './processors/dns_correlation/factory.js';
import { pasteClassifierFactory } from './processors/paste_classifier/factory.js';
import { dedupFactory } from './processors/dedup/factory.js';
import { falcoFactory } from './receivers/falco/factory.js';
import { enrichFactory } from './processors/enrich/factory.js';
import { otlpHttpFactory } from './exporters/otlp_http/factory.js';
import { alertWebhookFactory } from './exporters/alert_webhook/factory.js';
import { hubbleFactory } from './receivers/hubble/factory.js';
import { hubbleFileFactory } from './receivers/hubble_file/factory.js';

/** Every factory pastewatch ships. */
export const FACTORIES: AnyFactory[] = [
  enrichFactory,
  otlpHttpFactory,
  alertWebhookFactory,
  falcoFactory,
  dnsCorrelationFactory,
  pasteClassifierFactory,
  dedupFactory,
  jsonlFactory,
  tableFactory,
  healthCheckFactory,
  pcapFactory,
  pcapFileFactory,
  hubbleFactory,
  hubbleFileFactory,
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
