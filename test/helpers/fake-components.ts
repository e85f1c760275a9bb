/** Small real components for runtime and config tests: a scripted receiver, a tagging processor, a recording exporter. */
import { z } from 'zod';
import { map } from 'rxjs';
import type { ExporterFactory, ProcessorFactory, ReceiverFactory, ReceiverSink, Signal } from '../../src/component/types.js';
import type { PipelineItem } from '../../src/model/detection.js';
import { observation } from '../../src/model/observation.js';

/** Events every fake component appends to, in order (lifecycle assertions). */
export const events: string[] = [];

/** The name interest each scripted receiver was given by the runtime. */
export const interests = new Map<string, ((name: string) => boolean) | undefined>();

/** Receiver `scripted`: emits `count` observations then ends (finite) or stays open (finite: false). */
export const scriptedReceiverFactory: ReceiverFactory<{ count: number; finite: boolean; fail_after: number; interval_ms: number }> = {
  type: 'scripted',
  kind: 'receiver',
  description: 'test receiver',
  schema: z.strictObject({ count: z.number().int().min(0).default(3), finite: z.boolean().default(true), fail_after: z.number().int().default(-1), interval_ms: z.number().default(0) }),
  create: (s, c) => {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    return {
      setNameInterest(i: ((name: string) => boolean) | undefined) {
        interests.set(s.id, i);
      },
      async start(sink: ReceiverSink) {
        events.push(`start receiver ${s.id}`);
        let i = 0;
        const one = (): void => {
          if (stopped) return;
          if (i === c.fail_after) {
            sink.fail(new Error(`${s.id}: input broke after ${i}`));
            return;
          }
          if (i >= c.count) {
            if (c.finite) sink.end();
            return;
          }
          sink.emit(observation({ kind: 'connection', timeUnixNano: BigInt(i), receiver: s.id, attributes: { seq: i } }));
          i++;
          if (c.interval_ms > 0) timer = setTimeout(one, c.interval_ms);
          else one();
        };
        setImmediate(one);
      },
      async shutdown() {
        stopped = true;
        clearTimeout(timer);
        events.push(`shutdown receiver ${s.id}`);
      },
    };
  },
};

/** Processor `tag`: adds attribute tag=<value> to observations; can hold items until completion (hold: true). */
export const tagProcessorFactory: ProcessorFactory<{ value: string; interest_suffix: string }> = {
  type: 'tag',
  kind: 'processor',
  description: 'test processor',
  schema: z.strictObject({ value: z.string().default('x'), interest_suffix: z.string().default('') }),
  create: (s, c) => ({
    nameInterest: () => (c.interest_suffix ? (name: string) => name.endsWith(c.interest_suffix) : undefined),
    async start() {
      events.push(`start processor ${s.id}@${s.pipelineId}`);
    },
    async shutdown() {
      events.push(`shutdown processor ${s.id}@${s.pipelineId}`);
    },
    operator: () => map((item: PipelineItem) => (item.type === 'observation' ? { ...item, attributes: { ...item.attributes, [`tag_${s.pipelineId}`]: c.value } } : item)),
  }),
};

/** What recording exporters received, by id. */
export const received = new Map<string, { item: PipelineItem; signal: Signal }[]>();

/** Exporter `record`: records items; `throw_on_consume` makes it fail every consume; flush_delay_ms delays flush. */
export const recordExporterFactory: ExporterFactory<{ throw_on_consume: boolean; flush_delay_ms: number }> = {
  type: 'record',
  kind: 'exporter',
  description: 'test exporter',
  schema: z.strictObject({ throw_on_consume: z.boolean().default(false), flush_delay_ms: z.number().default(0) }),
  create: (s, c) => ({
    async start() {
      events.push(`start exporter ${s.id}`);
      received.set(s.id, []);
    },
    consume(item, signal) {
      if (c.throw_on_consume) throw new Error('backend exploded');
      received.get(s.id)!.push({ item, signal });
    },
    async flush() {
      if (c.flush_delay_ms) await new Promise((r) => setTimeout(r, c.flush_delay_ms));
      events.push(`flush exporter ${s.id}`);
    },
    async shutdown() {
      events.push(`shutdown exporter ${s.id}`);
    },
  }),
};

/** The fake factories as a list. */
export const FAKE_FACTORIES = [scriptedReceiverFactory, tagProcessorFactory, recordExporterFactory];

/** Clears recorded events between tests. */
export function resetFakes(): void {
  events.length = 0;
  received.clear();
  interests.clear();
}
