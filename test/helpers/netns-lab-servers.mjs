// The "internet" of the network-namespace lab (test/helpers/netns-lab.ts): a DNS responder that answers
// the lab's names with this namespace's address, an HTTPS listener (443), a plain HTTP listener (80) and an
// HTTP proxy that handles CONNECT (3128). Run inside the internet namespace:
//   node netns-lab-servers.mjs ADDRESS CERT KEY NAME[=IP]...   (IP defaults to ADDRESS)
// Prints "ready" on stdout once every listener is up.
import dgram from 'node:dgram';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';

const [address, certFile, keyFile, ...names] = process.argv.slice(2);
const known = new Map(names.map((n) => { const [name, ip] = n.toLowerCase().split('='); return [name, (ip || address).split('.').map(Number)]; }));

function readName(msg, off) {
  const labels = [];
  while (off < msg.length && msg[off] !== 0) {
    const len = msg[off];
    labels.push(msg.subarray(off + 1, off + 1 + len).toString('latin1'));
    off += 1 + len;
  }
  return { name: labels.join('.').toLowerCase(), end: off + 1 };
}

// Answers A queries for known names (and their subdomains) with `address`; AAAA and others get an empty
// NOERROR answer for known names, NXDOMAIN for the rest.
function answer(msg) {
  const { name, end } = readName(msg, 12);
  const qtype = msg.readUInt16BE(end);
  const question = msg.subarray(12, end + 4);
  const hit = [...known.keys()].find((k) => name === k || name.endsWith(`.${k}`));
  const isKnown = hit !== undefined;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(msg.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8180 | (isKnown ? 0 : 3), 2); // QR, RD, RA; rcode 0 or 3
  header.writeUInt16BE(1, 4);
  const withA = isKnown && qtype === 1;
  header.writeUInt16BE(withA ? 1 : 0, 6);
  const parts = [header, question];
  if (withA) {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(1, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(4, 10);
    Buffer.from(known.get(hit)).copy(rr, 12);
    parts.push(rr);
  }
  return Buffer.concat(parts);
}

const dns = dgram.createSocket('udp4');
dns.on('message', (msg, rinfo) => {
  try {
    dns.send(answer(msg), rinfo.port, rinfo.address);
  } catch {
    // a malformed query gets no answer
  }
});

const handler = (req, res) => {
  let n = 0;
  req.on('data', (d) => (n += d.length));
  req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`ok ${req.method} ${req.headers.host}${req.url} ${n}\n`));
};
const tls = https.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, handler);
const plain = http.createServer(handler);
const proxy = http.createServer((req, res) => res.writeHead(405).end());
proxy.on('connect', (req, client, head) => {
  // Every name of the lab lives here: tunnel to our own HTTPS listener.
  const port = Number(req.url.split(':')[1] || 443);
  const upstream = net.connect(port, address, () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
});

let pending = 4;
const up = () => {
  if (--pending === 0) process.stdout.write('ready\n');
};
dns.bind(53, address, up);
tls.listen(443, up); // every address: look-alikes live on their own IP
plain.listen(80, address, up);
proxy.listen(3128, address, up);
process.on('SIGTERM', () => process.exit(0));
