import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FACTORIES } from '../../../src/components.js';
import { loadConfigText } from '../../../src/config/load.js';
import { Service } from '../../../src/pipeline/service.js';
import { createMemoryLogger } from '../../../src/util/logger.js';
import { FakeHubble, fixture, until, writeLines } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const TEXT = readFileSync(join(ROOT, 'pipelines', 'hubble.yaml'), 'utf8');
const servers: FakeHubble[] = [];
after(() => servers.forEach((s) => s.kill()));

test('pipelines/hubble.yaml validates with its defaults (relay Service, no TLS)', () => {
  const cfg = loadConfigText(TEXT, 'pipelines/hubble.yaml', { env: {}, factories: FACTORIES });
  const r = cfg.receivers.get('hubble');
  assert.equal(r?.type, 'hubble');
  const c = r?.config as { endpoint: string; tls: { enabled: boolean }; filters: { blacklist: unknown[] } };
  assert.equal(c.endpoint, 'hubble-relay.kube-system.svc:80');
  assert.equal(c.tls.enabled, false);
  assert.deepEqual(c.filters.blacklist, [{ destination_label: ['reserved:kube-apiserver'] }]);
  assert.deepEqual(cfg.pipelines.map((p) => [p.id, p.receivers, p.exporters]), [['logs', ['hubble'], ['jsonl']]]);
});

test('pipelines/hubble.yaml end to end: Hubble DNS answer + SYN -> a pastebin.com detection line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pastewatch-hubble-pipe-'));
  try {
    const srv = new FakeHubble((call) => writeLines(call, fixture('egress-scenario.jsonl')));
    servers.push(srv);
    await srv.listen('127.0.0.1:0');
    const out = join(dir, 'detections.jsonl');
    const text = TEXT.replace(/^ {2}jsonl:\n/m, `  jsonl:\n    path: ${out}\n`);
    const env = { PASTEWATCH_HUBBLE_ENDPOINT: srv.address };
    const cfg = loadConfigText(text, 'pipelines/hubble.yaml', { env, factories: FACTORIES });
    const service = new Service(cfg, { logger: createMemoryLogger('warn'), env });
    await service.start();
    try {
      await until(() => srv.requests.length === 1, 'the GetFlows call');
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await service.shutdown('test');
    }
    const lines = readFileSync(out, 'utf8').trim().split('\n').filter(Boolean);
    const text2 = lines.join('\n');
    assert.match(text2, /plaintext_communication/);
    // dedup folds the DNS lookup and the connection of one pod to one service into one line; the
    // connection's part shows as evidence ip.correlated (the SYN learned pastebin.com from the DNS answer).
    const pb = lines.map((l) => JSON.parse(l) as { attributes: Record<string, unknown> }).find((d) => d.attributes['pastewatch.service'] === 'pastebin.com');
    assert.ok(pb, text2.slice(0, 2000));
    assert.ok((pb.attributes['pastewatch.evidence'] as string[]).includes('ip.correlated'));
    assert.equal(pb.attributes['k8s.deployment.name'], 'builder');
    assert.ok(lines.some((l) => l.includes('paste.ee')));
    assert.ok(lines.some((l) => l.includes('builder-7d9f8c6b5-x2k4q')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
