/**
 * Reassembles PostgreSQL frontend messages from a TCP byte stream.
 *
 * pglite-socket 0.0.20 hands every TCP chunk to PGlite as if it were whole messages; a query larger than one chunk
 * (a batch insert, an evidence image) then reaches the WASM backend cut in half and aborts it (fixed upstream in
 * electric-sql/pglite#873, after the version pinned here). This framer emits only complete messages, and holds
 * extended-protocol messages (Parse/Bind/Describe/Execute/Close) until the Sync or Flush that ends their group, so
 * PGlite always sees the same units a real server would act on.
 */

/** Startup-phase request codes (no type byte, int32 length first). */
const PROTOCOL_V3 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

/** Extended-protocol messages answered only at the next Sync/Flush. */
const HELD = new Set(['P', 'B', 'D', 'E', 'C'].map((c) => c.charCodeAt(0)));
const TERMINATE = 'X'.charCodeAt(0);

/**
 * PGlite reads a call's input through PostgreSQL's 8 KiB receive buffer and stops at the first message boundary
 * where that buffer is exactly used up: when a boundary inside one call's input falls on a multiple of 8192 bytes,
 * every message after it is silently dropped (seen: a Sync at byte 16384, an Execute at 32768; the client then
 * waits for ever for the reply). Nothing in the protocol lets a client avoid this, so the framer does.
 */
export const PGLITE_RECV_BUFFER = 8192;
const FLUSH = Buffer.from([0x48, 0, 0, 0, 4]); // 'H', length 4

/** Offsets where one message ends and another starts (not 0, not the end). Whole messages only. */
export function innerBoundaries(bytes: Buffer): number[] {
  const out: number[] = [];
  let off = 0;
  while (off + 5 <= bytes.length) {
    off += 1 + bytes.readInt32BE(off + 1);
    if (off < bytes.length) out.push(off);
  }
  return out;
}

/**
 * The same messages, preceded by as few Flush messages as needed (each shifts every boundary by 5 bytes; a Flush
 * asks only for pending output, which PGlite returns anyway) so that no inner boundary is a multiple of the receive
 * buffer size.
 */
export function padForPglite(bytes: Buffer, bufferSize = PGLITE_RECV_BUFFER): Buffer {
  const inner = innerBoundaries(bytes);
  if (!inner.some((b) => b % bufferSize === 0)) return bytes;
  for (let flushes = 1; ; flushes++) {
    const shift = flushes * FLUSH.length;
    const hits = (b: number) => b % bufferSize === 0;
    // The padding's own boundaries (after each Flush) count too.
    const padEnds = Array.from({ length: flushes }, (_, i) => (i + 1) * FLUSH.length);
    if (!inner.some((b) => hits(b + shift)) && !padEnds.some(hits)) {
      return Buffer.concat([...Array.from({ length: flushes }, () => FLUSH), bytes]);
    }
  }
}

/** Frames larger than this are refused: PostgreSQL itself caps a message at 1 GiB, our largest is a few MiB. */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

export type FramerOutput =
  /** Complete messages to hand to the backend, in order. */
  | { type: 'messages'; bytes: Buffer }
  /** A startup-phase request the backend cannot serve (SSL, GSSAPI encryption): answer 'N' and go on. */
  | { type: 'refuse-encryption' }
  /** A cancel request or a terminate: the connection should be closed without involving the backend. */
  | { type: 'close' }
  | { type: 'error'; reason: string };

export class PgMessageFramer {
  private buf: Buffer = Buffer.alloc(0);
  private startup = true;
  private failed = false;

  /** Adds received bytes; returns what is now complete, in order. */
  push(chunk: Buffer): FramerOutput[] {
    if (this.failed) return [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: FramerOutput[] = [];
    let off = 0;
    let cut = 0;
    const parts: Buffer[] = [];
    for (;;) {
      if (this.startup) {
        if (this.buf.length - off < 8) break;
        const len = this.buf.readInt32BE(off);
        if (len < 8 || len > MAX_MESSAGE_BYTES) return this.fail(out, `bad startup message length ${len}`);
        if (this.buf.length - off < len) break;
        const code = this.buf.readInt32BE(off + 4);
        const msg = this.buf.subarray(off, off + len);
        off += len;
        cut = off;
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          out.push({ type: 'refuse-encryption' });
        } else if (code === CANCEL_REQUEST) {
          out.push({ type: 'close' });
          this.failed = true;
          break;
        } else if (code === PROTOCOL_V3) {
          this.startup = false;
          out.push({ type: 'messages', bytes: Buffer.from(msg) });
        } else {
          return this.fail(out, `unsupported protocol ${code >> 16}.${code & 0xffff}`);
        }
        continue;
      }
      if (this.buf.length - off < 5) break;
      const type = this.buf[off];
      const len = this.buf.readInt32BE(off + 1);
      if (len < 4 || len > MAX_MESSAGE_BYTES) return this.fail(out, `bad message length ${len}`);
      if (this.buf.length - off < len + 1) break;
      if (type === TERMINATE) {
        // A pooled single backend must outlive its clients; PGlite also misbehaves when it is asked to exit.
        if (off > cut) parts.push(this.buf.subarray(cut, off));
        off += len + 1;
        cut = off;
        if (parts.length > 0) out.push({ type: 'messages', bytes: padForPglite(Buffer.concat(parts)) });
        out.push({ type: 'close' });
        this.failed = true;
        this.buf = Buffer.alloc(0);
        return out;
      }
      off += len + 1;
      if (!HELD.has(type)) {
        parts.push(this.buf.subarray(cut, off));
        cut = off;
      }
    }
    if (parts.length > 0) out.push({ type: 'messages', bytes: padForPglite(Buffer.concat(parts)) });
    // Keep only the incomplete tail (copied, so the consumed chunk can be collected).
    this.buf = cut === 0 ? this.buf : Buffer.from(this.buf.subarray(cut));
    return out;
  }

  private fail(out: FramerOutput[], reason: string): FramerOutput[] {
    this.failed = true;
    this.buf = Buffer.alloc(0);
    out.push({ type: 'error', reason });
    return out;
  }
}
