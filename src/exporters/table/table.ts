/** The `table` exporter: collects detections and prints one human table when the run flushes. */
import { z } from 'zod';
import type { ComponentSettings, Exporter, ExporterFactory } from '../../component/types.js';
import type { Detection, PipelineItem } from '../../model/detection.js';
import { renderDetections } from '../../report/table.js';

/** `table` exporter settings. */
export const tableSchema = z.strictObject({
  /** Where the table goes. */
  output: z.enum(['stdout', 'stderr']).default('stdout'),
  /** Keep at most this many rows (the rest are counted in a last line). */
  max_rows: z.number().int().positive().default(1000),
});

/** Parsed `table` settings. */
export type TableConfig = z.infer<typeof tableSchema>;

/** Prints detections as a table on flush. */
export class TableExporter implements Exporter {
  private readonly rows: Detection[] = [];
  private omitted = 0;
  private printed = false;
  constructor(private readonly settings: ComponentSettings, private readonly cfg: TableConfig) {}
  async start(): Promise<void> {}
  consume(item: PipelineItem): void {
    if (item.type !== 'detection') return;
    if (this.rows.length < this.cfg.max_rows) this.rows.push(item);
    else this.omitted++;
  }
  async flush(): Promise<void> {
    if (this.printed) return;
    this.printed = true;
    let text = renderDetections(this.rows);
    if (this.omitted) text += `(${this.omitted} more detections not shown)\n`;
    (this.cfg.output === 'stdout' ? process.stdout : process.stderr).write(text);
  }
  async shutdown(): Promise<void> {}
}

/** Makes `table` exporters. */
export const tableFactory: ExporterFactory<TableConfig> = {
  type: 'table',
  kind: 'exporter',
  description: 'Prints the detections of a run as one human-readable table when the run ends.',
  schema: tableSchema,
  create: (settings, config) => new TableExporter(settings, config),
};
