import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FACTORIES } from '../../../src/components.js';
import { loadConfigText } from '../../../src/config/load.js';
import { Service } from '../../../src/pipeline/service.js';
import { createMemoryLogger } from '../../../src/util/logger.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('pipelines/falco.yaml validates with its defaults (loopback 2801, no token)', () => {
  const text = readFileSync(join(ROOT, 'pipelines', 'falco.yaml'), 'utf8');
  const cfg = loadConfigText(text, 'pipelines/falco.yaml', { env: {}, factories: FACTORIES });
  const falco = cfg.receivers.get('falco');
  assert.equal(falco?.type, 'falco');
  assert.deepEqual((falco?.config as { endpoint: string; auth: unknown }).endpoint, '127.0.0.1:2801');
  assert.deepEqual((falco?.config as { auth: unknown }).auth, { bearer_token: '' });
  assert.deepEqual(cfg.pipelines.map((p) => [p.id, p.receivers, p.exporters]), [['logs', ['falco'], ['jsonl']]]);
});

test('pipelines/falco.yaml end to end: a Falco alert to pastebin.com becomes a detection line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pastewatch-falco-pipe-'));
  try {
    const out = join(dir, 'detections.jsonl');
    const port = await freePort();
    const text = readFileSync(join(ROOT, 'pipelines', 'falco.yaml'), 'utf8').replace(/^ {2}jsonl:\n/m, `  jsonl:\n    path: ${out}\n`);
    const env = { PASTEWATCH_FALCO_ENDPOINT: `127.0.0.1:${port}`, PASTEWATCH_FALCO_TOKEN: 'tok-123' };
    const cfg = loadConfigText(text, 'pipelines/falco.yaml', { env, factories: FACTORIES });
    const service = new Service(cfg, { logger: createMemoryLogger('warn'), env });
    await service.start();
    try {
      const alert = readFileSync(join(ROOT, 'test', 'fixtures', 'falco', 'falcosidekick-webhook-udp.json'), 'utf8');
      const paste = readFileSync(join(ROOT, 'test', 'fixtures', 'falco', 'falco-paste-connect-ipv4.json'), 'utf8');
      const denied = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: paste });
      assert.equal(denied.status, 401);
      for (const body of [paste, alert]) {
        const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'PUT', headers: { 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer tok-123' }, body });
        assert.equal(res.status, 200, await res.text());
      }
    } finally {
      await service.shutdown('test');
    }
    const lines = readFileSync(out, 'utf8').trim().split('\n').filter(Boolean);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /plaintext_communication/);
    assert.match(lines[0], /pastebin\.com/);
    assert.match(lines[0], /falco\.rule/);
    assert.ok(!lines[0].includes('ghp_0123'), 'the token in the command line is redacted');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
