/**
 * Adversarial load benchmark: writes a capture of floods (SYN flood with unique 5-tuples, DNS answer flood
 * with random names and addresses, half-sent ClientHellos, huge fake TLS record lengths, DNS-over-TCP messages
 * announcing 65535 bytes) with real paste traffic mixed in early and late (scripts/adversarial.ts), runs the
 * real pipeline (pcap_file -> dns_correlation -> paste_classifier -> dedup -> jsonl) over it in a child
 * process, samples the child's RSS every 100 ms from /proc, and reports peak RSS, evictions per table, and
 * whether every mixed-in paste detection came out. Exits 1 when a detection is missing.
 *
 * Run: node --import tsx scripts/bench-adversarial.ts [scale=1] [caps=default|small]
 *   scale 1 = 2M SYNs, 1M DNS answers, 50k half-sent hellos, 50k huge records, 50k DNS-over-TCP (~3.2M packets)
 * Output goes to bench-out/ (gitignored).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CAPS, missingPasteDetections, runAdversarial, writeAdversarialCapture } from './adversarial.js';
import type { RunCaps, RunReport } from './adversarial.js';

const SMALL_CAPS: RunCaps = { maxFlows: 16384, maxReassemblyFlows: 1024, maxReassemblyBytes: 16384, dnsMaxEntries: 10000, dedupMaxGroups: 1000 };

if (process.argv[2] === '--child') {
  // Child: run the pipeline and print the report as one JSON line.
  const [capture, out, capsJson] = process.argv.slice(3);
  const r = await runAdversarial(capture, out, JSON.parse(capsJson) as RunCaps);
  process.stdout.write(JSON.stringify(r) + '\n');
} else {
  const scale = Number(process.argv[2] ?? '1') || 1;
  const caps = process.argv[3] === 'small' ? SMALL_CAPS : DEFAULT_CAPS;
  const dir = join(fileURLToPath(new URL('..', import.meta.url)), 'bench-out');
  mkdirSync(dir, { recursive: true });
  const capture = join(dir, 'adversarial.pcap');
  const out = join(dir, 'adversarial.jsonl');
  const sizes = { syn: 2_000_000 * scale, dnsAnswers: 1_000_000 * scale, halfHellos: 50_000 * scale, hugeRecords: 50_000 * scale, dnsTcpHuge: 50_000 * scale };
  let t = Date.now();
  const packets = writeAdversarialCapture(capture, sizes);
  console.log(`capture: ${packets} packets, ${(statSync(capture).size / 2 ** 20).toFixed(0)} MiB, written in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  console.log(`floods: ${JSON.stringify(sizes)}`);
  console.log(`caps: ${JSON.stringify(caps)}`);

  t = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', capture, out, JSON.stringify(caps)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const samples: [number, number][] = [];
  const rssKb = (): number => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  };
  const timer = setInterval(() => {
    const kb = rssKb();
    if (kb > 0) samples.push([Date.now() - t, kb]);
  }, 100);
  const code: number = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  clearInterval(timer);
  if (code !== 0) {
    console.error(`pipeline child exited with ${code}`);
    process.exit(1);
  }
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as RunReport;
  const peak = samples.reduce((m, [, kb]) => Math.max(m, kb), 0);
  console.log(`\nRSS over time (MiB, every ~1 s of ${samples.length} samples at 100 ms):`);
  const every = Math.max(1, Math.round(samples.length / 30));
  console.log(samples.filter((_, i) => i % every === 0).map(([ms, kb]) => `${(ms / 1000).toFixed(1)}s:${(kb / 1024).toFixed(0)}`).join(' '));
  console.log(`\npeak RSS: ${(peak / 1024).toFixed(0)} MiB; pipeline wall time ${(r.wallMs / 1000).toFixed(1)} s (${((packets / r.wallMs) * 1000 / 1e6).toFixed(2)} M packets/s)`);
  const pick = (re: RegExp): [string, number][] => Object.entries(r.counters).filter(([k]) => re.test(k));
  console.log('evictions and table counters:');
  for (const [k, v] of pick(/evicted|flows_created|reassembly_gave_up|dns_tcp_resync|dns_skipped|tls_malformed|learned|dns_cache_size|dropped\{reason=dedup\}|detections$/)) console.log(`  ${k} = ${v}`);
  const missing = missingPasteDetections(r.detections);
  const pasteSeen = r.detections.filter((d) => /^10\.25[01]\./.test(d.client));
  console.log(`mixed-in paste detections: ${pasteSeen.length} of 6 expected${missing.length ? `; MISSING: ${missing.join('; ')}` : ''}`);
  for (const d of pasteSeen) console.log(`  ${d.client} ${d.service} via ${d.evidence.join(',')}`);
  console.log(`all detections: ${r.detections.length}`);
  process.exit(missing.length ? 1 : 0);
}
