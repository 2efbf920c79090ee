import type { DatabaseEndpoint, DatabasePlane, HeartbeatMark } from '../core/database';
import { ERROR, RunbookError } from '../core/errors';

interface MemoryInstance {
  readonly heartbeats: Map<string, HeartbeatMark[]>;
  readOnly: boolean;
  /** Another instance this one copies heartbeats from when `replicate` runs. */
  source?: string;
}

/**
 * An in-memory database plane for unit tests: heartbeats per instance, replication as an explicit
 * step, fencing as a read-only flag, unreachable regions. The local drill runs real PostgreSQL
 * servers instead; this keeps the state machine tests fast.
 */
export class MemoryDatabasePlane implements DatabasePlane {
  public readonly instances = new Map<string, MemoryInstance>();
  public readonly unreachable = new Set<string>();

  add(id: string, source?: string): void {
    this.instances.set(id, { heartbeats: new Map(), readOnly: source !== undefined, source });
  }

  /** The primary acknowledges heartbeat `seq` written at `at`. */
  write(id: string, writer: string, seq: number, at: string): void {
    const instance = this.get(id);
    if (instance.readOnly) throw new RunbookError('ReadOnlyTransaction', `${id} is read-only`);
    const rows = instance.heartbeats.get(writer) ?? [];
    rows.push({ seq, writtenAt: at });
    instance.heartbeats.set(writer, rows);
  }

  /** Every replica catches up with its source. */
  replicate(): void {
    for (const instance of this.instances.values()) {
      if (!instance.source) continue;
      const source = this.get(instance.source);
      for (const [writer, rows] of source.heartbeats) instance.heartbeats.set(writer, [...rows]);
    }
  }

  /** Promotion: the instance stops replicating and takes writes. */
  promote(id: string): void {
    const instance = this.get(id);
    instance.source = undefined;
    instance.readOnly = false;
  }

  private get(id: string): MemoryInstance {
    const instance = this.instances.get(id);
    if (!instance) throw new Error(`no instance ${id}`);
    return instance;
  }

  private reach(endpoint: DatabaseEndpoint): MemoryInstance {
    if (this.unreachable.has(endpoint.region))
      throw new RunbookError(ERROR.unreachable, `database ${endpoint.instanceIdentifier} in ${endpoint.region} did not answer`);
    return this.get(endpoint.instanceIdentifier);
  }

  async latestHeartbeat(endpoint: DatabaseEndpoint, writer = 'platform'): Promise<HeartbeatMark | undefined> {
    return this.reach(endpoint).heartbeats.get(writer)?.at(-1);
  }

  async writeHeartbeat(endpoint: DatabaseEndpoint, writer: string, seq: number, writtenAt: string): Promise<void> {
    this.reach(endpoint);
    this.write(endpoint.instanceIdentifier, writer, seq, writtenAt);
  }

  async fence(endpoint: DatabaseEndpoint): Promise<{ terminatedSessions: number }> {
    this.reach(endpoint).readOnly = true;
    return { terminatedSessions: 0 };
  }

  async unfence(endpoint: DatabaseEndpoint): Promise<void> {
    const instance = this.reach(endpoint);
    if (!instance.source) instance.readOnly = false;
  }
}
