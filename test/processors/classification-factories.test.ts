import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createDefaultConfig } from '../../src/component/types.js';
import type { ProcessorFactory } from '../../src/component/types.js';
import { FACTORIES, checkFactories } from '../../src/components.js';
import type { Detection } from '../../src/model/detection.js';
import { observation } from '../../src/model/observation.js';
import { dedupFactory } from '../../src/processors/dedup/factory.js';
import { dnsCorrelationFactory } from '../../src/processors/dns_correlation/factory.js';
import { pasteClassifierFactory } from '../../src/processors/paste_classifier/factory.js';
import { processorSettings, runThrough } from '../helpers/processor-settings.js';

const mine: ProcessorFactory<unknown>[] = [dnsCorrelationFactory, pasteClassifierFactory, dedupFactory] as ProcessorFactory<unknown>[];

describe('processor factory conformance', () => {
  test('registered in src/components.ts without duplicates', () => {
    for (const f of mine) assert.ok(FACTORIES.includes(f), `${f.type} not registered`);
    checkFactories(FACTORIES);
  });

  for (const f of mine) {
    test(`${f.type}: default config valid, shutdown without start safe, start -> consume -> shutdown delivers everything`, async () => {
      const cfg = createDefaultConfig(f);
      assert.deepEqual(f.validate?.(cfg) ?? [], []);
      assert.equal(f.kind, 'processor');
      assert.ok(f.description.length > 20);
      const idle = f.create(processorSettings(f.type), cfg);
      await idle.shutdown();
      await idle.shutdown();
      const p = f.create(processorSettings(f.type), cfg);
      await p.start();
      const items = [1, 2, 3].map((i) =>
        observation({ kind: 'connection', timeUnixNano: BigInt(i) * 10_000_000_000n, receiver: 'test', source: { address: `10.0.0.${i}`, port: 1 }, destination: { address: '1.2.3.4', port: 443 }, names: [{ name: 'pastebin.com', evidence: 'tls.sni' }] }),
      );
      const out = await runThrough(p, items);
      await p.shutdown();
      await p.shutdown();
      assert.equal(out.length, 3);
      if (f.type === 'paste_classifier') assert.deepEqual(out.map((x) => (x as Detection).service), ['pastebin.com', 'pastebin.com', 'pastebin.com']);
      else assert.deepEqual(out, items);
    });
  }
});
