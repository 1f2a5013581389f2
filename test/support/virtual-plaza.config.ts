import type { EdgeConfigInput } from '@vigil/contracts';

/**
 * The edge e2e configuration: the virtual ONVIF camera at `xaddr` (opencv_vtest.avi, a plaza) with a no-parking zone
 * over its top-right corner, where people stand about, and a parking rule on it. `patch` replaces whole fields.
 */
export function virtualPlazaConfig(
  version: number,
  xaddr: string,
  patch: Partial<EdgeConfigInput> = {},
): EdgeConfigInput {
  return {
    version,
    issuedAt: new Date().toISOString(),
    detection: { modelId: 'yolox_nano_416' },
    cameras: [
      {
        id: 'cam-1',
        name: 'Virtual plaza camera',
        source: { kind: 'onvif', xaddr, transport: 'tcp' },
        credentialsRef: 'cam-1',
        detectFps: 5,
      },
    ],
    zones: [
      {
        id: 'top-right',
        cameraId: 'cam-1',
        name: 'No parking top right',
        kind: 'no_parking',
        polygon: [
          [0.55, 0.0],
          [1.0, 0.0],
          [1.0, 0.45],
          [0.55, 0.45],
        ],
      },
    ],
    rules: [{ id: 'no-parking', kind: 'parking_violation', zoneId: 'top-right', dwellSeconds: 15 }],
    ...patch,
  };
}
