/**
 * `pastewatch ci -- COMMAND` end to end: the gate runs live capture in a "build pod" network namespace made by
 * the test (test/helpers/netns-lab.ts) while real commands (curl, sh) run; plus the trace link and the
 * command span against an OTLP test receiver on loopback (no capture needed). Uses the built CLI
 * (bin/pastewatch.js -> dist/; `npm test` builds first).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, netnsUnavailableReason } from '../helpers/netns-lab.js';
import type { NetnsLab } from '../helpers/netns-lab.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import type { CiReport } from '../../src/report/ci-report.js';

const BIN = fileURLToPath(new URL('../../bin/pastewatch.js', import.meta.url));
const skip = netnsUnavailableReason();

function gateConfig(dir: string, iface: string): string {
  const path = join(dir, 'gate.yaml');
  writeFileSync(path, `
receivers:
  pcap:
    interface: ${iface}
processors:
  dns_correlation:
  enrich: { kubernetes: { enabled: false } }
  paste_classifier: { environment: ci }
  dedup:
exporters:
  jsonl: { path: ${join(dir, 'detections.jsonl')} }
service:
  pipelines:
    logs: { receivers: [pcap], processors: [dns_correlation, enrich, paste_classifier, dedup], exporters: [jsonl] }
`);
  return path;
}

interface GateRun { code: number | null; stdout: string; stderr: string; report: CiReport }

describe('pastewatch ci in a build-pod namespace', { skip }, () => {
  let lab: NetnsLab;
  let dir: string;
  let config: string;
  before(async () => {
    // Like a real network, the lab's resolver and servers take a few milliseconds: a socket that lives less
    // than the process lookup cannot be attributed from procfs (docs/receivers/pcap.md).
    lab = await createLab(['pastebin.com', 'paste.ee'], { dnsDelayMs: 3, tcpDelayMs: 10 });
    dir = mkdtempSync(join(tmpdir(), 'pw-ci-'));
    config = gateConfig(dir, lab.podInterface);
  });
  after(async () => {
    await lab?.close();
  });

  let n = 0;
  async function gate(args: string[], command: string[], env: Record<string, string> = {}): Promise<GateRun> {
    const report = join(dir, `report-${++n}.json`);
    const r = await lab.run(process.execPath, [BIN, 'ci', '--config', config, '--grace-ms', '600', '--report', report, ...args, '--', ...command], { timeoutMs: 60_000, env });
    assert.ok(existsSync(report), `no report written; stderr:\n${r.stderr}`);
    return { ...r, report: JSON.parse(readFileSync(report, 'utf8')) as CiReport };
  }

  const curlPaste = ['sh', '-c', `curl -s --max-time 5 --cacert ${'$CA'} -o /dev/null https://pastebin.com/raw/abc && echo fetched`];

  test('a paste fetch is reported with curl as the process; without --enforce the command exit code passes through', async () => {
    const r = await gate([], curlPaste, { CA: lab.caFile });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /fetched/);
    assert.equal(r.report.schema, 'pastewatch.ci-report/v1');
    assert.equal(r.report.outcome, 'detected');
    const d = r.report.detections.find((x) => x.service === 'pastebin.com' && x.evidence.includes('tls.sni'));
    assert.ok(d, JSON.stringify(r.report.detections, null, 2));
    assert.equal(d.name, 'pastebin.com');
    assert.match(d.process?.executable ?? '', /curl$/, `process of ${JSON.stringify(d)}`);
    assert.equal(typeof d.process?.pid, 'number');
    assert.match(r.stderr, /pastewatch ci: \d+ detections? during `sh -c curl/);
    assert.match(r.stderr, /pastebin\.com/);
    // The JSON lines exporter of the config got the same detections.
    const lines = readFileSync(join(dir, 'detections.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { attributes: Record<string, unknown>; trace_id: string });
    assert.ok(lines.some((l) => l.attributes['pastewatch.service'] === 'pastebin.com'));
    // Detections are children of the command's span: same trace.
    assert.ok(r.report.detections.every((x) => x.trace_id === r.report.trace.trace_id));
  });

  test('--enforce turns a detection into exit code 3 with a line that says so', async () => {
    const r = await gate(['--enforce'], curlPaste, { CA: lab.caFile });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.report.outcome, 'enforced');
    assert.equal(r.report.exit_code, 3);
    assert.equal(r.report.command_exit_code, 0);
    assert.match(r.stderr, /--enforce: failing the step with exit code 3/);
  });

  test('--allow makes a domain not count', async () => {
    const r = await gate(['--enforce', '--allow', 'pastebin.com'], curlPaste, { CA: lab.caFile });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.report.outcome, 'clean');
    assert.deepEqual(r.report.allowed_domains, ['pastebin.com']);
  });

  test('a failing command keeps its exit code; a command that never touches the network gives an empty clean report', async () => {
    const r = await gate(['--enforce'], ['sh', '-c', 'exit 7']);
    assert.equal(r.code, 7);
    assert.equal(r.report.outcome, 'clean');
    assert.deepEqual(r.report.detections, []);
    assert.equal(r.report.command_exit_code, 7);
    assert.match(r.stderr, /no paste-service egress/);
  });

  test('a command killed by a signal is reported as such', async () => {
    const r = await gate([], ['sh', '-c', 'kill -TERM $$']);
    assert.equal(r.code, 143);
    assert.equal(r.report.command_signal, 'SIGTERM');
    assert.equal(r.report.command_exit_code, null);
    assert.match(r.stderr, /killed by SIGTERM/);
  });

  test('on GitHub Actions: step summary markdown and ::error annotations', async () => {
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, '# earlier step\n');
    const r = await gate(['--enforce'], curlPaste, { CA: lab.caFile, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_RUN_ID: '1234', GITHUB_RUN_ATTEMPT: '1', GITHUB_REPOSITORY: 'acme/app' });
    assert.equal(r.code, 3);
    const md = readFileSync(summary, 'utf8');
    assert.match(md, /^# earlier step\n/);
    assert.match(md, /### pastewatch: paste-service egress detected \(step failed by --enforce\)/);
    assert.match(md, /\| SEVERITY \| SERVICE \| NAME \|/);
    assert.match(md, /\| (ERROR|FATAL) \| pastebin\.com \| pastebin\.com \|/);
    assert.match(r.stdout, /^::error title=pastewatch%3A \w+ pastebin\.com::.*pastebin\.com/m);
    // The GitHub-derived CI context: the command span is a child of the run's root span.
    const sha = (t: string): string => createHash('sha256').update(t).digest('hex');
    assert.equal(r.report.trace.trace_id, sha('12341t').slice(0, 32));
    assert.equal(r.report.trace.parent_span_id, sha('12341s').slice(16, 32));
    assert.equal(r.report.ci['cicd.pipeline.run.id'], '1234');
  });
});

describe('pastewatch ci trace link (no capture)', () => {
  test('the command gets a TRACEPARENT naming its own span, a child of the CI context, and the span is exported', async () => {
    const otlp = await startOtlpReceiver();
    const dir = mkdtempSync(join(tmpdir(), 'pw-ci-trace-'));
    try {
      const config = join(dir, 'c.yaml');
      // A receiver that needs no capture (the Falco webhook on an ephemeral loopback port) keeps this test
      // independent of privileges; the otlp_http exporter receives the command span.
      writeFileSync(config, `
receivers:
  falco: { endpoint: "127.0.0.1:0" }
processors:
  paste_classifier:
exporters:
  otlp_http: { endpoint: "${otlp.url}", encoding: json, compression: none }
service:
  pipelines:
    logs: { receivers: [falco], processors: [paste_classifier], exporters: [otlp_http] }
`);
      const report = join(dir, 'r.json');
      const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const child = spawn(process.execPath, [BIN, 'ci', '--config', config, '--grace-ms', '0', '--report', report, '--', 'sh', '-c', 'echo "TP=$TRACEPARENT"'], { env: { ...process.env, TRACEPARENT: parent, GITHUB_ACTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('close', r));
      assert.equal(code, 0, err);
      const rep = JSON.parse(readFileSync(report, 'utf8')) as CiReport;
      assert.equal(rep.trace.trace_id, '0af7651916cd43dd8448eb211c80319c');
      assert.equal(rep.trace.parent_span_id, 'b7ad6b7169203331');
      assert.match(rep.trace.span_id, /^[0-9a-f]{16}$/);
      assert.equal(out.trim(), `TP=00-0af7651916cd43dd8448eb211c80319c-${rep.trace.span_id}-01`);
      await otlp.waitFor('spans', 1, 5000);
      const span = otlp.spans[0];
      assert.equal(span.traceId, '0af7651916cd43dd8448eb211c80319c');
      assert.equal(span.spanId, rep.trace.span_id);
      assert.equal(span.parentSpanId, 'b7ad6b7169203331');
      assert.match(span.name, /^ci sh -c echo/);
    } finally {
      await otlp.close();
    }
  });
});
