/**
 * The CLI as a user runs it (bin/pastewatch.js -> dist/; `npm test` builds first): validate on every shipped
 * config and on broken ones, help and version, scan exit codes, and `run` draining on SIGTERM.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../../src/version.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'pastewatch.js');
const cli = (args: string[], env: Record<string, string> = {}, input?: Buffer) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, input, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const noStack = (s: string): void => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, `a stack trace leaked:\n${s}`);

describe('pastewatch validate', () => {
  const shipped = ['otel-config.yaml', ...readdirSync(join(ROOT, 'pipelines')).filter((f) => f.endsWith('.yaml')).map((f) => `pipelines/${f}`)];
  for (const file of shipped) {
    test(`${file} is valid`, () => {
      const r = cli(['validate', '--config', file], { PASTEWATCH_CAPTURE: 'test/fixtures/pcap/dns.pcap' });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^${file.replace('.', '\\.')}: valid \\(`));
    });
  }

  const broken: [string, RegExp[]][] = [
    ['typo-key.yaml', [/receivers::pcap_file::pathh: unknown key \(did you mean "path"\?\) \(line 3\)/]],
    ['unknown-type.yaml', [/receivers::pcap_flie: unknown receiver type "pcap_flie" \(did you mean "pcap_file"\?\); known types: .*pcap_file.* \(line 2\)/]],
    ['undefined-ref.yaml', [/service::pipelines::logs::processors::0: pipeline "logs" references processor "dedup" which is not configured in processors \(line 10\)/, /exporters::1: pipeline "logs" references exporter "otlp_http" which is not configured/]],
    ['missing-env.yaml', [/receivers::pcap_file::path: environment variable PASTEWATCH_TEST_UNSET_CAPTURE is not set and the reference has no default .*\(line 3\)/]],
    ['malformed.yaml', [/YAML: .*\(line \d+\)/]],
    ['many-problems.yaml', [/5 problems/, /receivers::falco::max_body_bytes: .*\(line 3\)/, /receivers::falco::endpont: unknown key \(did you mean "endpoint"\?\)/, /processors::dedup::window_ms: .*\(line 7\)/, /exporters::otlp_http::endpoint: must be an http/, /references exporter "jsonl" which is not configured/]],
  ];
  for (const [file, patterns] of broken) {
    test(`${file}: exit 2, every problem with key path and line, no stack trace`, () => {
      const r = cli(['validate', '--config', `test/fixtures/configs/${file}`]);
      assert.equal(r.code, 2);
      for (const p of patterns) assert.match(r.stderr, p);
      noStack(r.stderr);
    });
  }

  test('PASTEWATCH_CONFIG names the default config', () => {
    const r = cli(['validate'], { PASTEWATCH_CONFIG: 'pipelines/falco.yaml' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pipelines\/falco\.yaml: valid/);
  });

  test('a missing config file is a clear error', () => {
    const r = cli(['validate', '--config', 'nope.yaml']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nope\.yaml: config file not found/);
  });
});

describe('pastewatch help and version', () => {
  test('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(VERSION, pkg.version);
    const r = cli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });
  for (const cmd of [[], ['run'], ['validate'], ['scan'], ['ci'], ['components']]) {
    test(`--help ${cmd.join(' ') || '(top level)'}`, () => {
      const r = cli([...cmd, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Usage: pastewatch/);
    });
  }
  test('an unknown command or option exits 2 with a usage hint', () => {
    const r = cli(['scna']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'scna'/);
  });
});

describe('pastewatch scan', () => {
  test('detections as JSON lines; --fail-on-detection exits 1; a clean capture exits 0', () => {
    const r = cli(['scan', '--format', 'jsonl', '--fail-on-detection', 'test/fixtures/pcap/tls.pcap']);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event_name: string; attributes: Record<string, unknown> });
    assert.ok(lines.length > 0);
    assert.ok(lines.every((l) => l.event_name === 'plaintext_communication'));
    assert.ok(lines.some((l) => (l.attributes['pastewatch.evidence'] as string[]).includes('tls.sni')));
    const clean = cli(['scan', '--format', 'jsonl', '--fail-on-detection', '--config', 'test/fixtures/configs/allow-everything.yaml', 'test/fixtures/pcap/tls.pcap']);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stdout, '');
  });

  test('--observations prints every observation, from stdin too', () => {
    const r = cli(['scan', '--observations', '--format', 'jsonl', '-'], {}, readFileSync(join(ROOT, 'test/fixtures/pcap/dns.pcap')));
    assert.equal(r.code, 0, r.stderr);
    const obs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event_name: string; kind: string });
    assert.ok(obs.length > 2);
    assert.ok(obs.every((o) => o.event_name === 'pastewatch.observation'));
    assert.ok(obs.some((o) => o.kind === 'dns'));
  });

  test('the table format lists detections; a clean run says nothing on stderr', () => {
    const r = cli(['scan', '--format', 'table', 'test/fixtures/pcap/http.pcap']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^SEVERITY\s+SERVICE\s+NAME\s+EVIDENCE/);
  });

  test('a missing or corrupt capture exits 2 with a clear message; what was read before damage is reported', () => {
    const missing = cli(['scan', 'no-such.pcap']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^pastewatch scan: no-such\.pcap: no such file$/m);
    noStack(missing.stderr);
    const dir = mkdtempSync(join(tmpdir(), 'pw-cli-'));
    const bad = join(dir, 'bad.pcap');
    writeFileSync(bad, Buffer.from('this is not a capture file at all'));
    const corrupt = cli(['scan', bad]);
    assert.equal(corrupt.code, 2);
    assert.match(corrupt.stderr, /not a pcap or pcapng file/);
    noStack(corrupt.stderr);
    const good = readFileSync(join(ROOT, 'test/fixtures/pcap/tls.pcap'));
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, Buffer.concat([good, Buffer.from([0x10, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f])]));
    const damaged = cli(['scan', '--format', 'jsonl', cut]);
    assert.equal(damaged.code, 2);
    assert.ok(damaged.stdout.trim().split('\n').length >= 1, 'detections before the damage are still printed');
    assert.match(damaged.stderr, /cut\.pcap/);
    noStack(damaged.stderr);
  });
});

describe('pastewatch run', () => {
  test('SIGTERM drains: everything received before the signal is exported, exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-run-'));
    const out = join(dir, 'out.jsonl');
    const config = join(dir, 'c.yaml');
    writeFileSync(config, `
receivers:
  falco: { endpoint: "127.0.0.1:0" }
processors:
  paste_classifier:
  dedup: { window_ms: 600000 }
exporters:
  jsonl: { path: ${out} }
service:
  pipelines:
    logs: { receivers: [falco], processors: [paste_classifier, dedup], exporters: [jsonl] }
`);
    const child = spawn(process.execPath, [BIN, 'run', '--config', config], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no listening line:\n${err}`)), 15_000);
      child.stderr.on('data', () => {
        const m = /listening url=(\S+)/.exec(err);
        if (m) {
          clearTimeout(t);
          resolve(m[1]);
        }
      });
    });
    const alert = readFileSync(join(ROOT, 'test/fixtures/falco/falco-paste-connect-ipv4.json'), 'utf8');
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: alert });
      assert.ok(res.ok);
    }
    // dedup holds the group for 10 minutes: only the drain on SIGTERM can flush it.
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    assert.equal(code, 0, err);
    assert.match(err, /SIGTERM received: stopping receivers and draining/);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { attributes: Record<string, unknown> });
    assert.equal(lines.length, 1);
    assert.equal(lines[0].attributes['pastewatch.count'], 3);
  });
});
