/**
 * Child process for the SIGKILL test: runs an otlp_http exporter with storage: file, consumes COUNT
 * detections (seq attribute 0..COUNT-1), prints "QUEUED <n>" once consume() returned for all, then keeps
 * running (the backend may be down) until killed. Args: endpoint directory count.
 */
import { otlpHttpFactory } from '../../../src/exporters/otlp_http/factory.js';
import { makeDetection } from '../../helpers/detections.js';
import { testSettings } from '../../helpers/exporter-settings.js';

const [endpoint, directory, countText] = process.argv.slice(2);
const s = testSettings('otlp_http/kill');
const e = otlpHttpFactory.create(s, otlpHttpFactory.schema.parse({
  endpoint,
  retry: { initial_interval_ms: 50, max_interval_ms: 200, max_elapsed_ms: 0 },
  sending_queue: { storage: 'file', directory, batch_size: 4 },
}));
await e.start();
const n = Number(countText);
for (let i = 0; i < n; i++) e.consume(makeDetection({ attributes: { 'kill.seq': i } }), 'logs');
process.stdout.write(`QUEUED ${n}\n`);
setInterval(() => undefined, 1000);
