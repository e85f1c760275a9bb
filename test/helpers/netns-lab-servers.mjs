// The "internet" of the network-namespace lab (test/helpers/netns-lab.ts): a DNS responder that answers
// the lab's names with this namespace's address, an HTTPS listener (443), a plain HTTP listener (80) and an
// HTTP proxy that handles CONNECT (3128). Run inside the internet namespace:
//   node netns-lab-servers.mjs ADDRESS CERT KEY NAME[=IP]...   (IP defaults to ADDRESS)
// Prints "ready" on stdout once every listener is up. PW_LAB_DNS_DELAY_MS delays every DNS answer and
// PW_LAB_TCP_DELAY_MS the start of every TCP conversation (the server's first byte: ServerHello, HTTP
// response, CONNECT reply), standing in for the distance to a real resolver and a real server: with
// none, a client's whole exchange can end within half a millisecond of its first packet.
import dgram from 'node:dgram';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';

const [address, certFile, keyFile, ...names] = process.argv.slice(2);
const dnsDelay = Number(process.env.PW_LAB_DNS_DELAY_MS ?? 0);
const tcpDelay = Number(process.env.PW_LAB_TCP_DELAY_MS ?? 0);
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
  let reply;
  try {
    reply = answer(msg);
  } catch {
    return; // a malformed query gets no answer
  }
  if (dnsDelay > 0) setTimeout(() => dns.send(reply, rinfo.port, rinfo.address), dnsDelay);
  else dns.send(reply, rinfo.port, rinfo.address);
});

// Accepts connections itself and hands each to `server` after the TCP delay (the documented way to feed
// a socket to an http/https server is to emit 'connection').
function listenDelayed(server, port, host, cb) {
  if (tcpDelay <= 0) return host ? server.listen(port, host, cb) : server.listen(port, cb);
  const front = net.createServer({ pauseOnConnect: true }, (socket) =>
    setTimeout(() => {
      server.emit('connection', socket);
      // http.Server reads through 'data' events: a socket paused on connect must be resumed for it
      // (https.Server takes the handle over and reads by itself).
      if (!(server instanceof https.Server)) socket.resume();
    }, tcpDelay));
  return host ? front.listen(port, host, cb) : front.listen(port, cb);
}

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
listenDelayed(tls, 443, undefined, up); // every address: look-alikes live on their own IP
listenDelayed(plain, 80, address, up);
listenDelayed(proxy, 3128, address, up);
process.on('SIGTERM', () => process.exit(0));
