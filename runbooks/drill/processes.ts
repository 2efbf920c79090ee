import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * The servers the drill starts, tracked so that none outlives the run: whoever starts a group of
 * them stops it, and if the process ends first (an error, Ctrl-C, a kill) the exit and signal
 * handlers stop every group still registered.
 */
export interface OwnedServers {
  /** Stop every server now, synchronously: the exit handlers cannot wait. */
  killNow(): void;
}

const running = new Set<OwnedServers>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const killAll = () => {
    for (const servers of running) servers.killNow();
  };
  process.on('exit', killAll);
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(name, () => {
      killAll();
      process.exit(name === 'SIGINT' ? 130 : 143);
    });
  }
}

export function own(servers: OwnedServers): void {
  installExitHandlers();
  running.add(servers);
}

export function disown(servers: OwnedServers): void {
  running.delete(servers);
}

/** A free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** A process's direct children (PostgreSQL's backends run in sessions of their own, so not in its process group). */
export function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}
