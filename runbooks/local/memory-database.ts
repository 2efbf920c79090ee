import type { DatabaseEndpoint, DatabasePlane, HeartbeatMark } from '../core/database';
import { ERROR, RunbookError } from '../core/errors';

interface MemoryInstance {
  readonly heartbeats: Map<string, HeartbeatMark[]>;
  /** A replica (in recovery): nothing writes. */
  readOnly: boolean;
  /** The application roles are NOLOGIN: no client session is admitted. Replicates, as roles do. */
  fenced: boolean;
  /** Open client sessions, which the fence ends. */
  readonly sessions: Set<MemorySession>;
  /** Another instance this one copies heartbeats from when `replicate` runs. */
  source?: string;
}

/** A client session of an application role on one instance. */
export interface MemorySession {
  readonly instance: string;
  open: boolean;
}

/**
 * An in-memory database plane for unit tests: heartbeats per instance, replication as an explicit
 * step, unreachable regions, and the fence as PostgreSQL gives it: the application roles NOLOGIN (a
 * new client session is refused) and their sessions ended; the runbook role is not fenced. The local drill runs real PostgreSQL
 * servers instead; this keeps the state machine tests fast.
 */
export class MemoryDatabasePlane implements DatabasePlane {
  public readonly instances = new Map<string, MemoryInstance>();
  public readonly unreachable = new Set<string>();

  add(id: string, source?: string): void {
    this.instances.set(id, { heartbeats: new Map(), readOnly: source !== undefined, fenced: false, sessions: new Set(), source });
  }

  /** A client (an application role) connects: refused while the instance is fenced. */
  connect(id: string): MemorySession {
    const instance = this.get(id);
    if (instance.fenced) throw new RunbookError('LoginRefused', `${id}: the application role is not permitted to log in`);
    const session = { instance: id, open: true };
    instance.sessions.add(session);
    return session;
  }

  /** A client session writes heartbeat `seq`: refused on a replica, and once the fence ended the session. */
  writeIn(session: MemorySession, writer: string, seq: number, at: string): void {
    const instance = this.get(session.instance);
    if (!session.open) throw new RunbookError('SessionTerminated', `${session.instance}: the session was terminated`);
    this.append(instance, session.instance, writer, seq, at);
  }

  /** A client acknowledges heartbeat `seq` written at `at`, in a session of its own. */
  write(id: string, writer: string, seq: number, at: string): void {
    const session = this.connect(id);
    try {
      this.writeIn(session, writer, seq, at);
    } finally {
      session.open = false;
      this.get(id).sessions.delete(session);
    }
  }

  private append(instance: MemoryInstance, id: string, writer: string, seq: number, at: string): void {
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
      instance.fenced = source.fenced;
    }
  }

  /** Promotion: the instance stops replicating and takes writes (its roles stay as replicated: a fence holds until unfenced). */
  promote(id: string): void {
    const instance = this.get(id);
    instance.source = undefined;
    instance.readOnly = false;
  }

  /** An Aurora member after a switchover or failover: read-only again, replicating the new writer's volume. */
  follow(id: string, source: string): void {
    const instance = this.get(id);
    instance.source = source;
    instance.readOnly = true;
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

  /** As the runbook role, which the fence does not touch. */
  async writeHeartbeat(endpoint: DatabaseEndpoint, writer: string, seq: number, writtenAt: string): Promise<void> {
    this.append(this.reach(endpoint), endpoint.instanceIdentifier, writer, seq, writtenAt);
  }

  async fence(endpoint: DatabaseEndpoint): Promise<{ terminatedSessions: number }> {
    const instance = this.reach(endpoint);
    // ALTER ROLE is a write: a replica refuses it, as PostgreSQL does in recovery.
    if (instance.readOnly) throw new RunbookError('ReadOnlyTransaction', `cannot execute ALTER ROLE in a read-only transaction`);
    instance.fenced = true;
    const terminatedSessions = instance.sessions.size;
    for (const session of instance.sessions) session.open = false;
    instance.sessions.clear();
    return { terminatedSessions };
  }

  async unfence(endpoint: DatabaseEndpoint): Promise<void> {
    const instance = this.reach(endpoint);
    if (instance.readOnly) throw new RunbookError('ReadOnlyTransaction', `cannot execute ALTER ROLE in a read-only transaction`);
    instance.fenced = false;
  }
}
