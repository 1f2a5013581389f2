import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { PgMessageFramer } from './pg-message.framer';

const NO_ENCRYPTION = Buffer.from('N');

/**
 * A socket look-alike for pglite-socket's handler that delivers whole PostgreSQL messages instead of TCP chunks.
 * It starts reading only once the handler listens for 'data' (the handler attaches asynchronously; bytes that
 * arrived before would otherwise be lost), answers SSL/GSSAPI probes itself, and closes on Terminate or Cancel.
 */
export class FramedSocket extends EventEmitter {
  private readonly framer = new PgMessageFramer();
  private reading = false;

  constructor(
    private readonly socket: Socket,
    private readonly onProtocolError: (reason: string) => void,
  ) {
    super();
    socket.on('error', (err) => this.emit('error', err));
    socket.on('close', () => this.emit('close'));
    this.on('newListener', (event: string) => {
      if (event === 'data' && !this.reading) {
        this.reading = true;
        socket.on('data', (chunk: Buffer) => this.receive(chunk));
      }
    });
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  get writable(): boolean {
    return this.socket.writable;
  }

  write(data: Uint8Array, cb?: (err?: Error | null) => void): boolean {
    return this.socket.write(data, cb);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    for (const out of this.framer.push(chunk)) {
      switch (out.type) {
        case 'messages':
          this.emit('data', out.bytes);
          break;
        case 'refuse-encryption':
          this.socket.write(NO_ENCRYPTION);
          break;
        case 'close':
          this.socket.end();
          break;
        case 'error':
          this.onProtocolError(out.reason);
          this.socket.destroy();
          break;
      }
    }
  }
}
