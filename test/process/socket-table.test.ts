import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { SocketTableReader, scanRows } from '../../src/process/socket-table.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const HEADER6 = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

/** A /proc/net/tcp row as the kernel prints it (addresses in host byte order, little-endian). */
function row4(sl: number, local: string, lport: number, remote: string, rport: number, st: number, inode: number): string {
  const hex = (a: string): string => a.split('.').map((x) => Number(x).toString(16).padStart(2, '0').toUpperCase()).reverse().join('');
  const p = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
  return `${String(sl).padStart(4)}: ${hex(local)}:${p(lport)} ${hex(remote)}:${p(rport)} ${st.toString(16).toUpperCase().padStart(2, '0')} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 20 4 30 10 -1\n`;
}

describe('scanRows', () => {
  test('finds rows on the port only, decoding addresses, state and inode', () => {
    const text = HEADER + row4(0, '10.0.0.2', 50000, '10.0.0.1', 443, 1, 987654) + row4(1, '0.0.0.0', 22, '0.0.0.0', 0, 0x0a, 1111) + row4(2, '10.0.0.2', 50000, '10.0.0.9', 80, 6, 0);
    const b = Buffer.from(text, 'latin1');
    const seen: unknown[] = [];
    const r = scanRows(b, 0, b.length, 50000, (l, ra, rp, st, inode) => (seen.push([l, ra, rp, st, inode]), false));
    assert.deepEqual(seen, [['10.0.0.2', '10.0.0.1', 443, 1, 987654], ['10.0.0.2', '10.0.0.9', 80, 6, 0]]);
    assert.equal(r.next, b.length);
    assert.equal(r.stopped, false);
  });

  test('stops when asked, and leaves an incomplete last line for the next read', () => {
    const full = HEADER + row4(0, '10.0.0.2', 50000, '10.0.0.1', 443, 1, 5) + row4(1, '10.0.0.2', 50000, '10.0.0.1', 444, 1, 6);
    const b = Buffer.from(full, 'latin1');
    const stop = scanRows(b, 0, b.length, 50000, () => true);
    assert.equal(stop.stopped, true);
    assert.equal(stop.next, HEADER.length + row4(0, '10.0.0.2', 50000, '10.0.0.1', 443, 1, 5).length);
    const cut = b.length - 10;
    const part = scanRows(b, 0, cut, 50000, () => false);
    assert.equal(part.next, stop.next, 'the cut line is not consumed');
  });

  test('IPv6 rows, v4-mapped peers and malformed rows', () => {
    const v6 = '   0: 0000000000000000FFFF00000200000A:C350 0000000000000000FFFF00000100000A:01BB 01 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 20 4 30 10 -1\n';
    const bad = '   1: 0200000A:C350 0100000A:ZZZZ 01 00000000:00000000 00:00000000 00000000     0        0 77 1\n   2: 0200000A:C350 0100000A:01BB 01 short\n';
    const b = Buffer.from(HEADER6 + v6 + bad, 'latin1');
    const seen: unknown[] = [];
    scanRows(b, 0, b.length, 50000, (l, ra, rp, st, inode) => (seen.push([l, ra, rp, st, inode]), false));
    assert.deepEqual(seen, [['::ffff:10.0.0.2', '::ffff:10.0.0.1', 443, 1, 4242]]);
  });
});

describe('SocketTableReader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-sock-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('prefers the exact peer, falls back to a wildcard (unconnected) socket, and reports closed rows', () => {
    const f = join(dir, 'udp');
    writeFileSync(f, HEADER + row4(0, '0.0.0.0', 40000, '0.0.0.0', 0, 7, 5555) + row4(1, '10.0.0.2', 40001, '10.0.0.53', 53, 1, 6666));
    const r = new SocketTableReader();
    assert.deepEqual(r.find(f, { localAddress: '10.0.0.2', localPort: 40000, remoteAddress: '10.0.0.53', remotePort: 53 }), { inode: 5555, state: 7, exact: false });
    assert.deepEqual(r.find(f, { localAddress: '10.0.0.2', localPort: 40001, remoteAddress: '10.0.0.53', remotePort: 53 }), { inode: 6666, state: 1, exact: true });
    assert.equal(r.find(f, { localAddress: '10.0.0.2', localPort: 40002, remoteAddress: '10.0.0.53', remotePort: 53 }), undefined);
    // a socket bound to another local address is not ours
    assert.equal(r.find(f, { localAddress: '10.0.0.3', localPort: 40001, remoteAddress: '10.0.0.53', remotePort: 53 }), undefined);
    const t = join(dir, 'tcp');
    writeFileSync(t, HEADER + row4(0, '10.0.0.2', 50001, '10.0.0.1', 443, 6, 0));
    assert.deepEqual(r.find(t, { localAddress: '10.0.0.2', localPort: 50001, remoteAddress: '10.0.0.1', remotePort: 443 }), { inode: 0, state: 6, exact: true });
    assert.equal(r.find(join(dir, 'missing'), { localAddress: '10.0.0.2', localPort: 1, remoteAddress: '10.0.0.1', remotePort: 2 }), undefined);
  });

  test('a table far bigger than the buffer is read across chunk boundaries, stopping at the socket', () => {
    const f = join(dir, 'big');
    let text = HEADER;
    for (let i = 0; i < 3000; i++) text += row4(i, '10.0.0.2', 20000 + i, '10.0.0.1', 443, 1, 100000 + i);
    writeFileSync(f, text);
    assert.ok(text.length > 4 * 65536);
    const r = new SocketTableReader();
    for (const i of [0, 1, 436, 437, 1500, 2999]) {
      assert.deepEqual(r.find(f, { localAddress: '10.0.0.2', localPort: 20000 + i, remoteAddress: '10.0.0.1', remotePort: 443 }), { inode: 100000 + i, state: 1, exact: true }, `row ${i}`);
    }
    r.find(f, { localAddress: '10.0.0.2', localPort: 20001, remoteAddress: '10.0.0.1', remotePort: 443 });
    assert.ok(r.lastBytes < 1000, `stopped early (${r.lastBytes} bytes read)`);
    assert.equal(r.find(f, { localAddress: '10.0.0.2', localPort: 19999, remoteAddress: '10.0.0.1', remotePort: 443 }), undefined);
    assert.equal(r.lastBytes, text.length, 'a miss reads the whole table');
    assert.ok(r.lastReads < 400, `syscalls stay few on a busy table (${r.lastReads})`);
  });

  test('finds a real listening and a real connected socket in /proc/net/tcp', async () => {
    const server = createServer((s) => s.on('error', () => {}));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const { connect } = await import('node:net');
    const c = connect(port, '127.0.0.1');
    await once(c, 'connect');
    try {
      const r = new SocketTableReader();
      const listen = r.find('/proc/net/tcp', { localAddress: '127.0.0.1', localPort: port, remoteAddress: '127.0.0.1', remotePort: 1 });
      assert.equal(listen?.state, 0x0a);
      assert.ok((listen?.inode ?? 0) > 0);
      const conn = r.find('/proc/net/tcp', { localAddress: '127.0.0.1', localPort: c.localPort!, remoteAddress: '127.0.0.1', remotePort: port });
      assert.equal(conn?.exact, true);
      assert.equal(conn?.state, 1);
      assert.notEqual(conn?.inode, listen?.inode);
    } finally {
      c.destroy();
      server.close();
    }
  });
});
