import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { disown, type OwnedServers, own, signal } from './processes';

/**
 * A loopback endpoint that drops every new connection, as a region whose packets go nowhere: a
 * listening socket whose process never accepts, with a backlog of one that is kept full, so the
 * kernel leaves further SYNs unanswered and a client's connect hangs until its own timeout. Real
 * transports (the AWS SDK's, with the runbooks' timeouts) are pointed at it.
 */
export class Blackhole implements OwnedServers {
  private readonly fillers: Socket[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(): Promise<Blackhole> {
    // A process that listens, says where, then blocks its only thread for good: nothing ever accepts.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const s = require('node:net').createServer();
         s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
           process.stdout.write(String(s.address().port) + '\\n', () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0));
         });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.stdout?.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim())));
    });
    const blackhole = new Blackhole(child, port);
    own(blackhole);
    // Fill the accept queue (backlog + 1 completed handshakes): from then on, SYNs are dropped.
    for (let i = 0; i < 3; i++) {
      const socket = connect({ host: '127.0.0.1', port });
      socket.on('error', () => undefined);
      blackhole.fillers.push(socket);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return blackhole;
  }

  killNow(): void {
    for (const socket of this.fillers) socket.destroy();
    if (this.child.pid) signal(this.child.pid, 'SIGKILL');
  }

  async stop(): Promise<void> {
    this.killNow();
    disown(this);
    if (this.child.exitCode === null && this.child.signalCode === null) await new Promise((resolve) => this.child.once('exit', resolve));
  }
}
