import { CameraStatusSchema, ConfigAckSchema } from '@vigil/contracts';

import { clipAckErrors, clipStatusReason } from './report-limits';

const ENVELOPE = { bootId: '5b0d7c7e-3f0a-4c8e-9a51-2f8e4c1d9b01', seq: 1, ts: '2026-11-23T10:00:00.000Z' };

describe('report limits', () => {
  it('keeps a config ack with an oversize error text and too many errors within the contract', () => {
    const errors = Array.from({ length: 150 }, (_, i) => ({
      path: 'p'.repeat(300),
      message: `${i}: ${'x'.repeat(5000)}`,
    }));
    const ack = { ...ENVELOPE, configVersion: 4, status: 'rejected' as const, errors: clipAckErrors(errors) };
    expect(ConfigAckSchema.safeParse(ack).success).toBe(true);
    expect(ack.errors).toHaveLength(100);
    expect(ack.errors[0].message.startsWith('0: xxx')).toBe(true);
    expect(ack.errors[99].message).toBe('and 51 more errors');
  });

  it('keeps a camera status reason within the contract', () => {
    const status = {
      ...ENVELOPE,
      state: 'failed' as const,
      reason: clipStatusReason('ffmpeg: '.repeat(200)),
      attempt: 1,
      nextRetryMs: 1000,
      frameSize: null,
    };
    expect(CameraStatusSchema.safeParse(status).success).toBe(true);
    expect(clipStatusReason(null)).toBeNull();
    // ffmpeg's output or an exception can hold a NUL or a cut-off surrogate: the report still passes the contract.
    const hostile = { ...status, reason: clipStatusReason(`bad\u0000byte \uD800 ${'y'.repeat(600)}`) };
    expect(CameraStatusSchema.safeParse(hostile).success).toBe(true);
    expect(hostile.reason).toContain('bad\uFFFDbyte \uFFFD');
  });
});
