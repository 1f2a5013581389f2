/**
 * Cuts a raw video byte stream into frame-sized buffers. Pipe chunks (typically 64 KiB) have nothing to do with frame
 * boundaries, so a frame can start in one chunk and end several chunks later.
 *
 * Copies only what it must: a frame that lies entirely inside one chunk is handed out as a view of that chunk
 * (no copy); a frame that spans chunks is assembled once into its own buffer. Every emitted buffer is owned by the
 * receiver: nothing is reused, because a consumer may still hold the previous frame.
 */
export class FrameSplitter {
  private partial: Buffer | null = null;
  private filled = 0;

  constructor(
    readonly frameBytes: number,
    private readonly onFrame: (frame: Buffer) => void,
  ) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) {
      throw new Error(`frame size must be a positive integer, got ${frameBytes}`);
    }
  }

  /** Bytes of an incomplete frame held back until more data arrives. */
  get pendingBytes(): number {
    return this.filled;
  }

  push(chunk: Buffer): void {
    const size = this.frameBytes;
    let offset = 0;
    if (this.partial !== null) {
      const take = Math.min(size - this.filled, chunk.length);
      chunk.copy(this.partial, this.filled, 0, take);
      this.filled += take;
      offset = take;
      if (this.filled < size) return;
      const frame = this.partial;
      this.partial = null;
      this.filled = 0;
      this.onFrame(frame);
    }
    while (chunk.length - offset >= size) {
      this.onFrame(chunk.subarray(offset, offset + size));
      offset += size;
    }
    if (offset < chunk.length) {
      this.partial = Buffer.allocUnsafe(size);
      chunk.copy(this.partial, 0, offset);
      this.filled = chunk.length - offset;
    }
  }

  /** Drops an incomplete frame (a decoder restart starts a fresh byte stream). */
  reset(): void {
    this.partial = null;
    this.filled = 0;
  }
}
