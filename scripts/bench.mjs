#!/usr/bin/env node
// `npm run bench` (builds first): generates the benchmark captures if missing (scripts/gen-capture.ts,
// seeded, into bench-out/), then for each capture times
//   - the JS record walk (the streaming reader alone: the ceiling of the read path),
//   - the pcap_file receiver + packet engine without a pipeline (observations counted),
//   - `node bin/pastewatch.js scan FILE --format jsonl` (the whole product),
// under /usr/bin/time -v (wall time, peak RSS), checks the scan's detections against the ground truth
// (every paste name found with its evidence, no decoy flagged) and, when tshark is installed, times tshark
// on a 100k-packet slice of the same capture next to pastewatch on that slice, and prints the ratio.
// Usage: node scripts/bench.mjs [--packets N] [--only mixed|dns] [--no-tshark] [--regen]
// Exit status 1 when a ground-truth check fails.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
process.chdir(root);
const OUT = process.env.BENCH_OUT ?? 'bench-out';
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const packets = opt('packets', '1000000');
const only = opt('only', 'all');
const withTshark = !argv.includes('--no-tshark') && spawnSync('tshark', ['--version']).status === 0;
const SLICE = 100000;
const hasTime = existsSync('/usr/bin/time');
mkdirSync(OUT, { recursive: true });

if (!existsSync('dist/src/capture/reader.js')) {
  console.error('bench: dist/ is missing; run `npm run bench` (it builds first) or `npm run build`');
  process.exit(2);
}

/** Runs a command under /usr/bin/time -v; returns wall seconds, peak RSS (KiB), status, stdout/stderr. */
function timed(cmd, args, { stdoutFile } = {}) {
  const shell = `${hasTime ? '/usr/bin/time -v ' : ''}${[cmd, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ')}${stdoutFile ? ` > '${stdoutFile}'` : ''}`;
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/bin/sh', ['-c', shell], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  const el = /Elapsed \(wall clock\) time[^:]*: (?:(\d+):)?(\d+):(\d+(?:\.\d+)?)/.exec(r.stderr ?? '');
  const wallTime = el ? Number(el[1] ?? 0) * 3600 + Number(el[2]) * 60 + Number(el[3]) : wall;
  return { wall: wallTime, rssKiB: rss ? Number(rss[1]) : undefined, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ensureCaptures() {
  const kinds = only === 'all' ? ['mixed', 'dns'] : [only];
  const missing = kinds.filter((k) => argv.includes('--regen') || !existsSync(join(OUT, `${k}.pcap`)) || !existsSync(join(OUT, `${k}.truth.json`)));
  for (const k of missing) {
    console.error(`bench: generating ${OUT}/${k}.pcap (${packets} packets) ...`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gen-capture.ts', '--out', OUT, '--packets', packets, '--only', k], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  return kinds;
}

// Child programs (run with the built dist/ so no TypeScript loader is timed).
const WALK = `
import { readCapture } from './dist/src/capture/reader.js';
let n = 0, b = 0;
const r = await readCapture(process.argv[1], (_l, _s, _ns, _buf, _o, len) => { n++; b += len; });
console.log(JSON.stringify({ records: n, bytes: b, end: r.end }));
`;
const ENGINE = `
import { PcapFileReceiver } from './dist/src/receivers/pcap_file/receiver.js';
import { pcapFileSchema } from './dist/src/receivers/pcap_file/config.js';
import { TelemetryRegistry } from './dist/src/component/telemetry.js';
import { HealthRegistry } from './dist/src/component/health.js';
import { createLogger } from './dist/src/util/logger.js';
const registry = new TelemetryRegistry();
const settings = { id: 'pcap_file', kind: 'receiver', logger: createLogger({ level: 'warn' }), telemetry: registry.forComponent('receiver', 'pcap_file'), registry, health: new HealthRegistry(), env: {} };
const r = new PcapFileReceiver(settings, pcapFileSchema.parse({ path: process.argv[1] }));
const kinds = {};
await r.start({ emit: (o) => { kinds[o.kind] = (kinds[o.kind] ?? 0) + 1; }, end() {}, fail(e) { console.error(e.message); } });
const sum = await r.done();
console.log(JSON.stringify({ packets: sum.packets, observations: kinds, stats: r.engineStats() }));
`;

/** Checks scan detections (JSON lines) against the truth; returns a list of failures. */
function checkTruth(truth, jsonl) {
  const dets = jsonl.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const failures = [];
  const found = new Map(); // evidence -> Set(names)
  const flagged = new Set();
  for (const d of dets) {
    const a = d.attributes ?? {};
    for (const n of a['pastewatch.names'] ?? []) {
      flagged.add(n);
      for (const ev of a['pastewatch.evidence'] ?? []) {
        if (!found.has(ev)) found.set(ev, new Set());
        found.get(ev).add(n);
      }
    }
  }
  for (const [ev, names] of Object.entries(truth.paste)) {
    for (const n of Object.keys(names)) if (!found.get(ev)?.has(n)) failures.push(`paste name ${n} not detected with evidence ${ev}`);
  }
  for (const names of Object.values(truth.decoys)) for (const n of Object.keys(names)) if (flagged.has(n)) failures.push(`decoy ${n} was flagged`);
  return { detections: dets.length, failures };
}

const mb = (bytes) => bytes / 1e6;
const fmt = (n, d = 0) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const rows = [];
let failed = false;
const results = { date: new Date().toISOString(), node: process.version, captures: {} };

for (const kind of ensureCaptures()) {
  const file = join(OUT, `${kind}.pcap`);
  const truth = JSON.parse(readFileSync(join(OUT, `${kind}.truth.json`), 'utf8'));
  const size = statSync(file).size;
  const res = { file, packets: truth.packets, bytes: size };
  console.error(`bench: ${file}: ${truth.packets} packets, ${fmt(mb(size), 1)} MB`);

  // Warm the page cache so every tool reads from memory.
  spawnSync('/bin/sh', ['-c', `cat '${file}' > /dev/null`]);

  const walk = timed(process.execPath, ['--input-type=module', '-e', WALK, file]);
  res.walk = { ...walk, out: JSON.parse(walk.stdout || '{}') };
  rows.push([kind, 'JS record walk (reader only, 8 MiB reads)', truth.packets / walk.wall, mb(size) / walk.wall, walk.rssKiB, walk.wall, res.walk.out.records === truth.packets ? 'n/a (no parsing)' : `records ${res.walk.out.records} != ${truth.packets}`]);

  const eng = timed(process.execPath, ['--input-type=module', '-e', ENGINE, file]);
  res.engine = { ...eng, out: JSON.parse(eng.stdout || '{}') };
  rows.push([kind, 'pcap_file receiver + packet engine (no pipeline)', truth.packets / eng.wall, mb(size) / eng.wall, eng.rssKiB, eng.wall, `${fmt(Object.values(res.engine.out.observations ?? {}).reduce((a, b) => a + b, 0))} observations`]);

  const detFile = join(OUT, `${kind}.detections.jsonl`);
  const scan = timed(process.execPath, ['bin/pastewatch.js', 'scan', file, '--format', 'jsonl'], { stdoutFile: detFile });
  const check = checkTruth(truth, existsSync(detFile) ? readFileSync(detFile, 'utf8') : '');
  if (scan.status !== 0) check.failures.unshift(`scan exited ${scan.status}: ${(scan.stderr ?? '').split('\n').filter((l) => !/^\s/.test(l) && l && !/^\t|Command being timed|time:/.test(l)).slice(-3).join(' | ')}`);
  res.scan = { wall: scan.wall, rssKiB: scan.rssKiB, status: scan.status, ...check };
  if (check.failures.length) failed = true;
  rows.push([kind, '`pastewatch scan --format jsonl` (full pipeline)', truth.packets / scan.wall, mb(size) / scan.wall, scan.rssKiB, scan.wall, check.failures.length ? `FAIL: ${check.failures.length} (${check.failures.slice(0, 3).join('; ')})` : `all (${check.detections} detections, no decoy)`]);

  if (withTshark) {
    const slice = join(OUT, `${kind}.slice.pcap`);
    if (!existsSync(slice)) spawnSync('editcap', ['-r', file, slice, `1-${SLICE}`]);
    const sliceSize = statSync(slice).size;
    const ts = timed('tshark', ['-n', '-r', slice, '-T', 'fields', '-e', 'dns.qry.name', '-e', 'tls.handshake.extensions_server_name', '-e', 'http.host'], { stdoutFile: '/dev/null' });
    const pw = timed(process.execPath, ['bin/pastewatch.js', 'scan', slice, '--format', 'jsonl'], { stdoutFile: '/dev/null' });
    res.tshark = { slicePackets: SLICE, tshark: { wall: ts.wall, rssKiB: ts.rssKiB }, pastewatch: { wall: pw.wall, rssKiB: pw.rssKiB }, ratio: ts.wall / pw.wall };
    rows.push([kind, `tshark 4.0 -T fields (first ${fmt(SLICE)} packets)`, SLICE / ts.wall, mb(sliceSize) / ts.wall, ts.rssKiB, ts.wall, '(reference)']);
    rows.push([kind, `pastewatch scan (same ${fmt(SLICE)} packets)`, SLICE / pw.wall, mb(sliceSize) / pw.wall, pw.rssKiB, pw.wall, `${fmt(ts.wall / pw.wall, 1)}x tshark's speed`]);
  }
  results.captures[kind] = res;
}

const header = '| capture | what | packets/s | MB/s | peak RSS | wall s | names right? |\n|---|---|---|---|---|---|---|';
const table = [header, ...rows.map(([k, what, pps, mbs, rss, wall, note]) => `| ${k} | ${what} | ${fmt(pps)} | ${fmt(mbs, 1)} | ${rss ? `${fmt(rss / 1024)} MiB` : 'n/a'} | ${fmt(wall, 2)} | ${note} |`)].join('\n');
console.log(table);
writeFileSync(join(OUT, 'results.json'), JSON.stringify(results, null, 2) + '\n');
writeFileSync(join(OUT, 'results.md'), table + '\n');
console.error(`bench: results in ${OUT}/results.json and ${OUT}/results.md`);
if (failed) {
  console.error('bench: ground-truth check FAILED');
  process.exit(1);
}
