import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compressIPv6, containerIdFromCgroup, decodeProcAddress, parseCmdline, parseProcNet, parseStat, parseStatusUid } from '../../src/process/procfs.js';

// Rows as the kernel prints them (x86-64), taken from a real /proc/net/tcp, tcp6 and udp.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1580 1 000000006eaff484 100 0 0 10 0
   1: 0100007F:AD53 0100007F:C760 06 00000000:00000000 03:000005D6 00000000     0        0 0 3 00000000139119d1
   2: 0200000A:C350 0100000A:01BB 01 00000000:00000000 00:00000000 00000000  1000        0 987654 1 0000000000000000 20 4 30 10 -1
   garbage line
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 000080FE00000000FF000000010000FE:9C40 00000000000000000000000001000000:0050 01 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 20 4 0 10 -1
   1: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0
`;

describe('parseProcNet', () => {
  test('decodes IPv4 rows: addresses, ports, state, uid, inode; skips malformed rows', () => {
    const { entries, skipped } = parseProcNet(TCP, 'tcp');
    assert.equal(skipped, 1);
    assert.equal(entries.length, 3);
    assert.deepEqual(entries[0], { transport: 'tcp', localAddress: '0.0.0.0', localPort: 2024, remoteAddress: '0.0.0.0', remotePort: 0, state: 0x0a, uid: 0, inode: 1580 });
    assert.equal(entries[1].inode, 0);
    assert.deepEqual(
      [entries[2].localAddress, entries[2].localPort, entries[2].remoteAddress, entries[2].remotePort, entries[2].uid, entries[2].inode],
      ['10.0.0.2', 50000, '10.0.0.1', 443, 1000, 987654],
    );
  });
  test('decodes IPv6 rows, including IPv4-mapped addresses', () => {
    const { entries } = parseProcNet(TCP6, 'tcp');
    assert.equal(entries[0].localAddress, 'fe80::ff:fe00:1');
    assert.equal(entries[0].remoteAddress, '::1');
    assert.equal(entries[0].localPort, 40000);
    assert.equal(entries[1].localAddress, '::ffff:127.0.0.1');
    assert.equal(entries[1].localPort, 8080);
  });
  test('decodeProcAddress rejects odd lengths; compressIPv6 follows RFC 5952', () => {
    assert.equal(decodeProcAddress('abc'), '');
    assert.equal(compressIPv6([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]), '2001:db8::1:0:0:1');
    assert.equal(compressIPv6([0, 0, 0, 0, 0, 0, 0, 0]), '::');
    assert.equal(compressIPv6([1, 0, 2, 0, 3, 0, 4, 0]), '1:0:2:0:3:0:4:0');
  });
});

describe('parseStat', () => {
  test('reads pid, comm with spaces and parentheses, state, ppid and start time', () => {
    const s = parseStat('4242 (my (weird) prog) S 17 4242 17 0 -1 4194304 102 0 0 0 0 0 0 0 20 0 1 0 94361 3133440 415 18446744073709551615');
    assert.deepEqual(s, { pid: 4242, comm: 'my (weird) prog', state: 'S', ppid: 17, startTime: 94361 });
  });
  test('returns undefined for text that is not a stat line', () => {
    assert.equal(parseStat('no parentheses here'), undefined);
    assert.equal(parseStat('x (a) S notanumber'), undefined);
  });
});

describe('status, cmdline, cgroup', () => {
  test('parseStatusUid reads the real uid', () => {
    assert.equal(parseStatusUid('Name:\tcurl\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\n'), 1000);
    assert.equal(parseStatusUid('Name:\tcurl\n'), undefined);
  });
  test('parseCmdline joins NUL-separated arguments and quotes those with spaces', () => {
    assert.equal(parseCmdline(Buffer.from('curl\0-s\0https://pastebin.com/raw/x\0')), 'curl -s https://pastebin.com/raw/x');
    assert.equal(parseCmdline('sh\0-c\0echo hi\0'), 'sh -c "echo hi"');
  });
  test('containerIdFromCgroup finds docker, containerd, cri-o and kubepods ids', () => {
    const id = 'a'.repeat(32) + '0123456789abcdef0123456789abcdef';
    assert.equal(containerIdFromCgroup(`0::/system.slice/docker-${id}.scope\n`), id);
    assert.equal(containerIdFromCgroup(`0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/cri-containerd-${id}.scope\n`), id);
    assert.equal(containerIdFromCgroup(`12:memory:/kubepods/besteffort/pod5f0d/${id}\n`), id);
    assert.equal(containerIdFromCgroup(`0::/machine.slice/libpod-${id}.scope/container\n`), id);
    assert.equal(containerIdFromCgroup(`1:name=systemd:/docker/${id}\n`), id);
    assert.equal(containerIdFromCgroup('0::/user.slice/user-1000.slice/session-3.scope\n'), undefined);
    assert.equal(containerIdFromCgroup('4:memory:/process_api/c8610345ae3b806836a90b5dac5ddc1b\n'), undefined);
  });
});
