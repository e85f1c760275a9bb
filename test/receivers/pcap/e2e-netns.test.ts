/**
 * End to end in network namespaces: a "pod" namespace joined to an "internet" namespace by a veth pair;
 * the internet side answers DNS for pastebin.com, paste.ee and a look-alike and serves HTTPS, HTTP and a
 * CONNECT proxy. The real CLI runs the `pcap` receiver (interface auto) inside the pod namespace with
 * dns_correlation -> paste_classifier -> dedup -> jsonl; real clients (curl, dig, openssl, node) make DNS,
 * HTTPS, plain HTTP and proxied requests; SIGTERM must flush everything, including a connection still
 * open at that moment (only the shutdown flush can report it).
 *
 * The lab's resolver answers after 3 ms and its servers start talking 10 ms after accepting: the distance
 * to a real resolver and a real paste service (both usually further). With no delay at all a client's
 * whole exchange ends within half a millisecond of its first packet, before any procfs reader can see its
 * socket (docs/receivers/pcap.md, "Process attribution"); PW_E2E_DNS_DELAY_MS / PW_E2E_TCP_DELAY_MS
 * override the delays to measure that.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createLab, netnsUnavailableReason } from '../../helpers/netns-lab.js';
import type { NetnsLab } from '../../helpers/netns-lab.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const skip = netnsUnavailableReason();

interface Line {
  body: string;
  attributes: Record<string, unknown>;
}

async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  for (let t = 0; t < ms; t += 50) {
    if (pred()) return true;
    await sleep(50);
  }
  return pred();
}

describe('pcap receiver end to end in network namespaces', { skip: skip ?? false }, () => {
  let lab: NetnsLab;
  let pw: ChildProcess;
  let stderr = '';
  let exitCode: number | null = null;
  let lines: Line[] = [];
  let keeper: ChildProcess | undefined;
  let keeperPid = 0;
  // Connects to pastebin.com over TLS, says "connected PID" and stays connected until killed.
  const KEEPER = "const s = require('node:tls').connect({ host: 'pastebin.com', port: 443, servername: 'pastebin.com' }, () => console.log('connected', process.pid)); s.on('error', (e) => { console.log('error', e.message); process.exit(1); });"
  const results: Record<string, { code: number | null; stdout: string; stderr: string }> = {};

  before(async () => {
    // The look-alike has its own address, as it would on the internet.
    lab = await createLab(['pastebin.com', 'paste.ee', 'pastebln.com=10.77.0.3'], {
      dnsDelayMs: Number(process.env.PW_E2E_DNS_DELAY_MS ?? 3),
      tcpDelayMs: Number(process.env.PW_E2E_TCP_DELAY_MS ?? 10),
    });
    const out = join(lab.dir, 'detections.jsonl');
    const cfg = join(lab.dir, 'config.yaml');
    writeFileSync(
      cfg,
      [
        'receivers:',
        '  pcap:',
        '    interface: auto',
        '    flow_report_delay_ms: 60000   # flows are reported at FIN or on SIGTERM',
        'processors:',
        '  dns_correlation:',
        '  paste_classifier:',
        '  dedup:',
        '    window_ms: 600000',
        'exporters:',
        '  jsonl:',
        `    path: ${out}`,
        'service:',
        `  telemetry: { logs: { level: ${process.env.PW_E2E_DEBUG ? 'debug' : 'info'} } }`,
        '  pipelines:',
        '    logs:',
        '      receivers: [pcap]',
        '      processors: [dns_correlation, paste_classifier, dedup]',
        '      exporters: [jsonl]',
        '',
      ].join('\n'),
    );
    pw = lab.spawnInPod(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', 'run', '--config', cfg], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    pw.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((r) => pw.once('exit', (code) => ((exitCode = code), r())));
    assert.ok(await waitFor(() => stderr.includes('pipelines running'), 20_000), `pastewatch did not start:\n${stderr}`);
    const ca = lab.caFile;
    const proxy = `http://${lab.internetAddress}:3128`;
    const run = async (name: string, cmd: string, args: string[], env?: Record<string, string>): Promise<void> => {
      results[name] = await lab.run(cmd, args, { env });
      await sleep(150);
    };
    // Each client once per service, the way a build step would.
    await run('curl https pastebin', 'curl', ['-sS', '--cacert', ca, 'https://pastebin.com/raw/abc']);
    await run('curl http pastebin', 'curl', ['-sS', 'http://pastebin.com/api/api_post.php', '-d', 'api_paste_code=hello']);
    await run('curl connect paste.ee', 'curl', ['-sS', '-p', '-x', proxy, '--cacert', ca, 'https://paste.ee/r/xyz']);
    await run('dig paste.ee', 'dig', ['+short', 'paste.ee']);
    await run('openssl pastebin', 'sh', ['-c', `exec openssl s_client -connect pastebin.com:443 -servername pastebin.com -CAfile ${ca} </dev/null`]);
    await run('node paste.ee', process.execPath, ['-e', "fetch('https://paste.ee/d/1').then(async (r) => { await r.text(); await new Promise((s) => setTimeout(s, 100)); console.log(r.status); })"], { NODE_EXTRA_CA_CERTS: ca });
    await run('curl look-alike', 'curl', ['-sS', '--cacert', ca, 'https://pastebln.com/raw/abc']);
    // A client still connected when pastewatch stops: its flow has no FIN and is far from its report delay.
    keeper = lab.spawnInPod(process.execPath, ['-e', KEEPER], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_EXTRA_CA_CERTS: ca } });
    const [hello] = (await once(keeper.stdout!, 'data')) as [Buffer];
    keeperPid = Number(hello.toString().trim().split(' ')[1]);
    await sleep(300);
    pw.kill('SIGTERM');
    await exited;
    keeper.kill('SIGKILL');
    if (process.env.PW_E2E_DEBUG) writeFileSync('/tmp/pw-e2e-stderr.log', stderr);
    lines = existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line) : [];
  });

  after(async () => {
    pw?.kill('SIGKILL');
    keeper?.kill('SIGKILL');
    await lab?.close();
  });

  const find = (exe: string, service: string): Line[] => lines.filter((l) => l.attributes['process.executable.name'] === exe && l.attributes['pastewatch.service'] === service);
  const evidence = (l: Line): string[] => l.attributes['pastewatch.evidence'] as string[];
  const summary = (): string =>
    lines.map((l) => `${String(l.attributes['process.executable.name'] ?? '-')} ${String(l.attributes['pastewatch.service'])} ${evidence(l).join('+')}`).join('\n') + `\n${stderr.split('\n').filter((x) => x.includes('capture stopped')).join('')}`;

  test('every client succeeded and pastewatch exited cleanly on SIGTERM', (t) => {
    for (const [name, r] of Object.entries(results)) assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.match(results['node paste.ee'].stdout, /200/);
    assert.ok(keeperPid > 1, 'the keeper connected');
    assert.equal(exitCode, 0, stderr);
    assert.match(stderr, /capturing on pwp/);
    // The misses are counted: say them (a miss is not a failure as long as every client's detection above has its process).
    t.diagnostic(stderr.split('\n').find((x) => x.includes('capture stopped'))?.replace(/^.*capture stopped/, 'attribution:') ?? 'no capture stopped line');
  });

  test('SIGTERM flushed a connection still open: its detection carries the client\'s pid', () => {
    const kept = find('node', 'pastebin.com');
    assert.equal(kept.length, 1, summary());
    assert.ok(evidence(kept[0]).includes('tls.sni'));
    assert.equal(kept[0].attributes['process.pid'], keeperPid);
  });

  test('curl: one detection per service, with TLS SNI, HTTP Host and CONNECT evidence, pid and executable', () => {
    const pb = find('curl', 'pastebin.com');
    assert.equal(pb.length, 1, JSON.stringify(lines.map((l) => l.body)));
    assert.ok(evidence(pb[0]).includes('tls.sni'), summary());
    assert.ok(evidence(pb[0]).includes('http.host'), String(evidence(pb[0])));
    assert.equal(pb[0].attributes['pastewatch.activity'], 'upload');
    assert.equal(typeof pb[0].attributes['process.pid'], 'number');
    assert.equal(pb[0].attributes['process.executable.path'], '/usr/bin/curl');
    const pe = find('curl', 'paste.ee');
    assert.equal(pe.length, 1);
    assert.ok(evidence(pe[0]).includes('http.connect'), String(evidence(pe[0])));
    assert.match(String(pe[0].attributes['process.command_line']), /^curl -sS -p -x http:\/\/10\.77\.0\.1:3128/);
  });

  test('dig, openssl and node: one detection each, with their pid and executable', () => {
    const dig = find('dig', 'paste.ee');
    assert.equal(dig.length, 1, summary());
    assert.equal(dig[0].attributes['pastewatch.activity'], 'lookup');
    assert.ok(evidence(dig[0]).includes('dns.query'));
    const ossl = find('openssl', 'pastebin.com');
    assert.equal(ossl.length, 1);
    assert.ok(evidence(ossl[0]).includes('tls.sni'));
    const node = find('node', 'paste.ee');
    assert.equal(node.length, 1);
    assert.ok(evidence(node[0]).includes('tls.sni'));
    assert.equal(node[0].attributes['process.executable.path'], process.execPath);
    for (const l of [...dig, ...ossl, ...node]) assert.ok(Number(l.attributes['process.pid']) > 1);
  });

  test('no detection for the look-alike, and nothing attributed to a wrong client', () => {
    assert.ok(!lines.some((l) => JSON.stringify(l).includes('pastebln')), 'look-alike detected');
    const pairs = new Set(lines.filter((l) => l.attributes['process.executable.name']).map((l) => `${l.attributes['process.executable.name']}|${l.attributes['pastewatch.service']}`));
    assert.deepEqual([...pairs].sort(), ['curl|paste.ee', 'curl|pastebin.com', 'dig|paste.ee', 'node|paste.ee', 'node|pastebin.com', 'openssl|pastebin.com'], summary());
  });
});
