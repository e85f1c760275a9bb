/**
 * Components whose implementation pulls in heavy libraries (gRPC, the OpenTelemetry SDK) load it in
 * start(), not when the CLI starts: `pastewatch scan` or `validate` never pays for modules it does not use.
 */
import type { ComponentSettings, Exporter, Receiver, ReceiverSink, NameInterest } from './types.js';

/** An exporter whose implementation module is imported on start(). */
export function lazyExporter<C>(settings: ComponentSettings, config: C, load: () => Promise<(s: ComponentSettings, c: C) => Exporter>): Exporter {
  let inner: Exporter | undefined;
  return {
    async start() {
      const make = await load();
      inner = make(settings, config);
      await inner.start();
    },
    consume(item, signal) {
      if (inner) inner.consume(item, signal);
      else settings.telemetry.dropped('not_started');
    },
    async flush(deadlineMs) {
      await inner?.flush(deadlineMs);
    },
    async shutdown() {
      await inner?.shutdown();
    },
  };
}

/** A receiver whose implementation module is imported on start(). */
export function lazyReceiver<C>(settings: ComponentSettings, config: C, load: () => Promise<(s: ComponentSettings, c: C) => Receiver>): Receiver {
  let inner: Receiver | undefined;
  let interest: NameInterest | undefined;
  let stopped = false;
  return {
    setNameInterest(i) {
      interest = i;
    },
    async start(sink: ReceiverSink) {
      const make = await load();
      if (stopped) return;
      inner = make(settings, config);
      inner.setNameInterest?.(interest);
      await inner.start(sink);
    },
    async shutdown() {
      stopped = true;
      await inner?.shutdown();
    },
  };
}
