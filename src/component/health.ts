/** Component health: each component reports a status; /healthz and /readyz read the aggregate. */

/** A component's state. */
export type HealthStatus = 'starting' | 'ok' | 'degraded' | 'failed' | 'stopped';

/** One component's last reported status. */
export interface HealthEntry {
  id: string;
  kind: string;
  status: HealthStatus;
  message?: string;
  since: number;
}

/** Holds the health of every component of the running service. */
export class HealthRegistry {
  private readonly entries = new Map<string, HealthEntry>();

  /** Records a component's status (message says why when not ok). */
  set(kind: string, id: string, status: HealthStatus, message?: string): void {
    const key = `${kind}/${id}`;
    const prev = this.entries.get(key);
    if (prev && prev.status === status && prev.message === message) return;
    this.entries.set(key, { id, kind, status, message, since: Date.now() });
  }

  /** Every entry. */
  list(): HealthEntry[] {
    return [...this.entries.values()];
  }

  /** Live: nothing has failed. */
  live(): boolean {
    return this.list().every((e) => e.status !== 'failed');
  }

  /** Ready: every component started and none degraded or failed. */
  ready(): boolean {
    const l = this.list();
    return l.length > 0 && l.every((e) => e.status === 'ok');
  }
}
