import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { ProcessAttributor } from '../../src/process/attributor.js';
import { TelemetryRegistry } from '../../src/component/telemetry.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const CID = 'c0ffee'.padEnd(64, '7');

/** A procfs look-alike: net/tcp and net/udp tables and a few /proc/PID directories with fd links. */
function makeProc(): string {
  const root = mkdtempSync(join(tmpdir(), 'pw-proc-'));
  mkdirSync(join(root, 'net'));
  writeFileSync(
    join(root, 'net/tcp'),
    HEADER +
      // 10.0.0.2:50000 -> 10.0.0.1:443, inode 987654 (owned by pid 200)
      '   0: 0200000A:C350 0100000A:01BB 01 00000000:00000000 00:00000000 00000000  1000        0 987654 1 0 20 4 30 10 -1\n' +
      // TIME_WAIT leftover on another port: inode 0
      '   1: 0200000A:C351 0100000A:01BB 06 00000000:00000000 03:000005D6 00000000     0        0 0 3 0\n',
  );
  // unconnected UDP socket 0.0.0.0:40000 (a resolver's query socket), inode 5555 owned by pid 300
  writeFileSync(join(root, 'net/udp'), HEADER + '   0: 00000000:9C40 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5555 2 0 0\n');
  const proc = (pid: number, comm: string, ppid: number, opts: { exe?: string; cmdline?: string; fds?: Record<string, string>; uid?: number; cgroup?: string } = {}): void => {
    const d = join(root, String(pid));
    mkdirSync(join(d, 'fd'), { recursive: true });
    writeFileSync(join(d, 'stat'), `${pid} (${comm}) S ${ppid} ${pid} ${ppid} 0 -1 4194304 1 0 0 0 0 0 0 0 20 0 1 0 ${1000 + pid} 3133440 415\n`);
    writeFileSync(join(d, 'status'), `Name:\t${comm}\nUid:\t${opts.uid ?? 0}\t0\t0\t0\n`);
    writeFileSync(join(d, 'cmdline'), opts.cmdline ?? '');
    writeFileSync(join(d, 'cgroup'), opts.cgroup ?? '0::/\n');
    if (opts.exe) symlinkSync(opts.exe, join(d, 'exe'));
    for (const [fd, target] of Object.entries(opts.fds ?? {})) symlinkSync(target, join(d, 'fd', fd));
  };
  proc(1, 'init', 0, { exe: '/sbin/init', cmdline: '/sbin/init\0' });
  proc(100, 'bash', 1, { exe: '/usr/bin/bash', cmdline: 'bash\0-c\0make test\0' });
  proc(200, 'curl', 100, {
    exe: '/usr/bin/curl',
    cmdline: 'curl\0-H\0Authorization: Bearer s3cr3tT0k3n\0https://bob:hunter2@pastebin.com/api\0--data\0QWxhZGRpbjpvcGVuIHNlc2FtZQZZZZZZZZZZZZZZZZ99\0',
    fds: { '0': '/dev/null', '1': 'pipe:[11]', '3': 'socket:[987654]' },
    uid: 1000,
    cgroup: `0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-${CID}.scope\n`,
  });
  proc(300, 'getent', 100, { exe: '/usr/bin/getent (deleted)', cmdline: 'getent\0hosts\0paste.ee\0', fds: { '4': 'socket:[5555]' } });
  return root;
}

describe('ProcessAttributor on a procfs fixture', () => {
  const root = makeProc();
  after(() => rmSync(root, { recursive: true, force: true }));
  const local = (): string[] => ['10.0.0.2', '127.0.0.1'];

  test('maps a TCP flow to its process with redacted command line, uid, container id and ancestry', () => {
    const reg = new TelemetryRegistry();
    const a = new ProcessAttributor({ procRoot: root, ancestryDepth: 4, refreshIntervalMs: 1000, localAddresses: local }, reg.forComponent('receiver', 'pcap'));
    const info = a.lookup('tcp', { address: '10.0.0.2', port: 50000 }, { address: '10.0.0.1', port: 443 });
    assert.ok(info);
    assert.equal(info.pid, 200);
    assert.equal(info.ppid, 100);
    assert.equal(info.executableName, 'curl');
    assert.equal(info.executablePath, '/usr/bin/curl');
    assert.equal(info.uid, 1000);
    assert.equal(info.containerId, CID);
    assert.deepEqual(info.ancestry, ['100:bash', '1:init']);
    assert.ok(info.commandLine?.startsWith('curl -H "Authorization: Bearer [REDACTED]'), info.commandLine);
    assert.ok(!info.commandLine?.includes('s3cr3tT0k3n'), info.commandLine);
    assert.ok(!info.commandLine?.includes('hunter2'), info.commandLine);
    assert.ok(info.commandLine?.includes('https://bob:***@pastebin.com/api'), info.commandLine);
    assert.ok(!info.commandLine?.includes('QWxhZGRpbjpvcGVuIHNlc2FtZQ'), info.commandLine);
    assert.equal(reg.get('pcap', 'process_attribution', { result: 'hit' }), 1);
  });

  test('ancestry_depth bounds the ancestry', () => {
    const a = new ProcessAttributor({ procRoot: root, ancestryDepth: 1, refreshIntervalMs: 1000, localAddresses: local });
    assert.deepEqual(a.lookup('tcp', { address: '10.0.0.2', port: 50000 }, { address: '10.0.0.1', port: 443 })?.ancestry, ['100:bash']);
  });

  test('a DNS query from an unconnected UDP socket maps to its owner; a deleted executable keeps its path', () => {
    const a = new ProcessAttributor({ procRoot: root, ancestryDepth: 4, refreshIntervalMs: 1000, localAddresses: local });
    const info = a.lookup('udp', { address: '10.0.0.2', port: 40000 }, { address: '10.0.0.53', port: 53 });
    assert.equal(info?.pid, 300);
    assert.equal(info?.executablePath, '/usr/bin/getent');
    assert.equal(info?.commandLine, 'getent hosts paste.ee');
  });

  test('the incoming direction uses the destination as the local side', () => {
    const a = new ProcessAttributor({ procRoot: root, ancestryDepth: 4, refreshIntervalMs: 1000, localAddresses: local });
    assert.equal(a.lookup('tcp', { address: '10.0.0.1', port: 443 }, { address: '10.0.0.2', port: 50000 })?.pid, 200);
  });

  test('flows touching no local address are not looked up; unknown sockets are counted misses', () => {
    const reg = new TelemetryRegistry();
    const a = new ProcessAttributor({ procRoot: root, ancestryDepth: 4, refreshIntervalMs: 1000, localAddresses: local }, reg.forComponent('receiver', 'pcap'));
    assert.equal(a.lookup('tcp', { address: '192.0.2.7', port: 1234 }, { address: '198.51.100.1', port: 443 }), undefined);
    assert.equal(a.lookup('tcp', { address: '10.0.0.2', port: 50001 }, { address: '10.0.0.1', port: 443 }), undefined); // TIME_WAIT, inode 0
    assert.equal(a.lookup('udp', { address: '10.0.0.2', port: 50000 }, { address: '10.0.0.1', port: 443 }), undefined); // wrong transport
    assert.deepEqual([a.stats().notLocal, a.stats().miss, a.stats().hit], [1, 2, 0]);
    assert.equal(reg.get('pcap', 'process_attribution', { result: 'miss' }), 2);
    assert.equal(reg.get('pcap', 'process_attribution', { result: 'not_local' }), 1);
  });

  test('a socket that appears after the table was cached is found by the re-read on a miss', () => {
    const a = new ProcessAttributor({ procRoot: root, ancestryDepth: 4, refreshIntervalMs: 60_000, localAddresses: local });
    assert.equal(a.lookup('tcp', { address: '10.0.0.2', port: 50000 }, { address: '10.0.0.1', port: 443 })?.pid, 200);
    // a new connection by pid 100 (bash) on port 50002
    appendFileSync(join(root, 'net/tcp'), '   2: 0200000A:C352 0100000A:0050 01 00000000:00000000 00:00000000 00000000     0        0 424242 1 0 20 4 30 10 -1\n');
    symlinkSync('socket:[424242]', join(root, '100', 'fd', '9'));
    const info = a.lookup('tcp', { address: '10.0.0.2', port: 50002 }, { address: '10.0.0.1', port: 80 });
    assert.equal(info?.pid, 100);
    assert.equal(info?.executableName, 'bash');
    assert.equal(a.stats().socketTableReads, 2);
  });
});

describe('ProcessAttributor on the real /proc', () => {
  test('finds a live child process holding a TCP connection and a UDP socket, then counts a miss once it exited', async () => {
    const server = createServer((s) => s.on('error', () => {}));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const secret = 'ghp_' + 'Zq8'.repeat(12);
    const script = `
      const net = require('node:net'); const dgram = require('node:dgram');
      const u = dgram.createSocket('udp4'); u.bind(0, '127.0.0.1', () => {
        const c = net.connect(${port}, '127.0.0.1', () => { console.log(JSON.stringify({ tcp: c.localPort, udp: u.address().port })); });
      });
      setTimeout(() => process.exit(0), 20000);`;
    const child = spawn(process.execPath, ['-e', script, '--', `--token=${secret}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const ports = JSON.parse(line.toString()) as { tcp: number; udp: number };
      const reg = new TelemetryRegistry();
      // A 1 ms refresh interval: once the child is gone, the next lookup re-reads procfs instead of trusting
      // what it cached while the child was alive.
      const a = new ProcessAttributor({ procRoot: '/proc', ancestryDepth: 4, refreshIntervalMs: 1 }, reg.forComponent('receiver', 'pcap'));
      const tcp = a.lookup('tcp', { address: '127.0.0.1', port: ports.tcp }, { address: '127.0.0.1', port });
      assert.equal(tcp?.pid, child.pid);
      assert.equal(tcp?.ppid, process.pid);
      assert.equal(tcp?.executablePath, process.execPath);
      assert.equal(tcp?.executableName, 'node');
      assert.ok(tcp?.commandLine?.includes('--token=[REDACTED]'), tcp?.commandLine);
      assert.ok(!tcp?.commandLine?.includes(secret));
      assert.match(tcp?.ancestry?.[0] ?? '', new RegExp(`^${process.pid}:`));
      const udp = a.lookup('udp', { address: '127.0.0.1', port: ports.udp }, { address: '127.0.0.1', port: 53 });
      assert.equal(udp?.pid, child.pid);
      child.kill('SIGKILL');
      await once(child, 'exit');
      await new Promise((r) => setTimeout(r, 5));
      // the socket is gone with the process: a miss, counted
      assert.equal(a.lookup('udp', { address: '127.0.0.1', port: ports.udp }, { address: '127.0.0.1', port: 53 }), undefined);
      assert.equal(reg.get('pcap', 'process_attribution', { result: 'miss' }), 1);
      assert.equal(reg.get('pcap', 'process_attribution', { result: 'hit' }), 2);
    } finally {
      child.kill('SIGKILL');
      server.close();
    }
  });
});

describe('ProcessAttributor: young processes now, older ones in the background', () => {
  /** A node child that, on "go" on stdin, opens a TCP connection to `port` and prints its local port. */
  const spawnClient = (port: number): ReturnType<typeof spawn> =>
    spawn(process.execPath, ['-e', `
      const net = require('node:net');
      console.log('ready');
      process.stdin.once('data', () => { const c = net.connect(${port}, '127.0.0.1', () => console.log('port ' + c.localPort)); });
      setTimeout(() => process.exit(0), 20000);`], { stdio: ['pipe', 'pipe', 'inherit'] });
  const nextLine = async (child: ReturnType<typeof spawn>, prefix: string): Promise<string> => {
    let buf = '';
    for (;;) {
      const [d] = (await once(child.stdout!, 'data')) as [Buffer];
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.startsWith(prefix));
      if (line) return line;
    }
  };

  test('a process older than youngMs is found by the background scan and answered late; a new one at once', async () => {
    const server = createServer((s) => s.on('error', () => {}));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const old = spawnClient(port);
    try {
      await nextLine(old, 'ready');
      const reg = new TelemetryRegistry();
      const a = new ProcessAttributor({ procRoot: '/proc', ancestryDepth: 2, refreshIntervalMs: 1000 }, reg.forComponent('receiver', 'pcap'));
      a.prime(); // `old` is running now: it is not young
      old.stdin!.write('go\n');
      const oldPort = Number((await nextLine(old, 'port ')).split(' ')[1]);
      let answered: number | undefined | null = null;
      const late = new Promise<void>((resolve) => {
        const got = a.lookup('tcp', { address: '127.0.0.1', port: oldPort }, { address: '127.0.0.1', port }, (info) => {
          answered = info?.pid;
          resolve();
        });
        assert.equal(got, undefined, 'not answered synchronously');
      });
      assert.equal(a.lastTrace.result, 'pending');
      assert.equal(a.pendingCount(), 1);
      await late;
      assert.equal(answered, old.pid);
      assert.equal(a.stats().late, 1);
      assert.equal(a.stats().hit, 1);
      assert.equal(reg.get('pcap', 'process_attribution', { result: 'hit' }), 1);

      // A process started after prime() is young: found synchronously, the callback never used.
      const young = spawnClient(port);
      try {
        await nextLine(young, 'ready');
        young.stdin!.write('go\n');
        const youngPort = Number((await nextLine(young, 'port ')).split(' ')[1]);
        const info = a.lookup('tcp', { address: '127.0.0.1', port: youngPort }, { address: '127.0.0.1', port }, () => assert.fail('no late answer expected'));
        assert.equal(info?.pid, young.pid);
        assert.equal(a.lastTrace.result, 'hit');
        // Only processes that appeared since prime() were read (other tests on this host may add a few).
        const total = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
        assert.ok(a.lastTrace.pidsScanned < Math.max(10, total / 2), `newest processes first (${a.lastTrace.pidsScanned} of ${total} scanned)`);
      } finally {
        young.kill('SIGKILL');
      }
    } finally {
      old.kill('SIGKILL');
      server.close();
    }
  });

  test('close() answers lookups still waiting, unattributed, and counts them as misses', () => {
    const root = makeProc();
    try {
      // pid 200 owns the socket, but everything in this fixture is "old" after prime(), so the socket
      // waits for the background scan; close() comes first.
      const a = new ProcessAttributor({ procRoot: root, ancestryDepth: 1, refreshIntervalMs: 1000, localAddresses: () => ['10.0.0.2'] });
      a.prime();
      a['owners'].clear(); // forget what prime() saw, as if the socket were opened after it
      const answers: unknown[] = [];
      assert.equal(a.lookup('tcp', { address: '10.0.0.2', port: 50000 }, { address: '10.0.0.1', port: 443 }, (i) => answers.push(i?.pid)), undefined);
      assert.equal(a.lastTrace.result, 'pending');
      a.close();
      assert.deepEqual(answers, [undefined]);
      assert.equal(a.stats().miss, 1);
      assert.equal(a.stats().missNoOwner, 1);
      assert.equal(a.pendingCount(), 0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('misses say why: a closed socket (TIME_WAIT) is not scanned for, and an ownerless socket is not rescanned at once', () => {
    const root = makeProc();
    try {
      appendFileSync(join(root, 'net/udp'), '   1: 0200000A:9C41 3500000A:0035 01 00000000:00000000 00:00000000 00000000     0        0 7777 2 0 0\n');
      const a = new ProcessAttributor({ procRoot: root, ancestryDepth: 1, refreshIntervalMs: 60_000, localAddresses: () => ['10.0.0.2'] });
      assert.equal(a.lookup('tcp', { address: '10.0.0.2', port: 50001 }, { address: '10.0.0.1', port: 443 }), undefined);
      assert.equal(a.lastTrace.result, 'closed');
      assert.equal(a.stats().fdScans, 0);
      // inode 7777 is in the table but no process holds it
      assert.equal(a.lookup('udp', { address: '10.0.0.2', port: 40001 }, { address: '10.0.0.53', port: 53 }), undefined);
      assert.equal(a.lastTrace.result, 'no_owner');
      assert.equal(a.stats().fdScans, 1);
      assert.equal(a.lookup('udp', { address: '10.0.0.2', port: 40001 }, { address: '10.0.0.53', port: 53 }), undefined);
      assert.equal(a.stats().fdScans, 1, 'the second query of the same socket does not scan again');
      assert.equal(a.lookup('tcp', { address: '10.0.0.2', port: 50009 }, { address: '10.0.0.1', port: 443 }), undefined);
      assert.equal(a.lastTrace.result, 'no_socket');
      assert.deepEqual([a.stats().missClosed, a.stats().missNoOwner, a.stats().missNoSocket, a.stats().miss], [1, 2, 1, 4]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
