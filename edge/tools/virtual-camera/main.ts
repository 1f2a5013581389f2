import { parseArgs } from 'node:util';
import { startVirtualCamera, type RtspTransport } from './virtual-camera';

const USAGE = `Usage: tsx edge/tools/virtual-camera/main.ts --clip <video file> [options]

  --clip <file>             video served as the camera picture (looped at real time)
  --port <n>                ONVIF HTTP port (default: any free port)
  --rtsp-port <n>           RTSP port (default: any free port)
  --host <ip>               address to bind and advertise (default 127.0.0.1)
  --name <text>             camera name in discovery scopes (default "Vigil Virtual Camera")
  --username <user>         ONVIF user (or VIGIL_CAMERA_USERNAME)
  --password <password>     ONVIF password (or VIGIL_CAMERA_PASSWORD, preferred: argv is visible in ps)
  --transport <t>           tcp+udp (default), tcp or udp
  --rtsp-auth               require RTSP Digest auth with the same credentials
  --discovery-port <n>      WS-Discovery UDP port (default 3702)
  --no-discovery            do not answer WS-Discovery
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clip: { type: 'string' },
      port: { type: 'string' },
      'rtsp-port': { type: 'string' },
      host: { type: 'string' },
      name: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      transport: { type: 'string' },
      'rtsp-auth': { type: 'boolean' },
      'discovery-port': { type: 'string' },
      'no-discovery': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  const username = values.username ?? process.env.VIGIL_CAMERA_USERNAME;
  const password = values.password ?? process.env.VIGIL_CAMERA_PASSWORD;
  if (values.help || !values.clip || !username || !password) {
    process.stderr.write(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const transport = (values.transport ?? 'tcp+udp') as RtspTransport;
  if (!['tcp+udp', 'tcp', 'udp'].includes(transport)) throw new Error(`unknown transport ${transport}`);
  const port = (value: string | undefined): number | undefined => (value === undefined ? undefined : Number(value));

  const cam = await startVirtualCamera({
    clip: values.clip,
    username,
    password,
    onvifPort: port(values.port),
    rtspPort: port(values['rtsp-port']),
    host: values.host,
    name: values.name,
    transport,
    rtspAuth: values['rtsp-auth'] ?? false,
    discovery: values['no-discovery'] ? false : { port: port(values['discovery-port']) },
  });
  const lines = [
    `ONVIF device service  ${cam.onvifXAddr}`,
    ...cam.profiles.map(
      (p) => `${p.name.padEnd(10)} ${p.width}x${p.height} @ ${p.fps} fps  ${p.rtspUrl}  snapshot ${p.snapshotUrl}`,
    ),
    cam.discoveryPort === null
      ? 'WS-Discovery          off'
      : `WS-Discovery          udp/${cam.discoveryPort}${cam.discoveryMulticast ? ' (multicast 239.255.255.250)' : ' (directed probes only)'}`,
    `RTSP auth             ${values['rtsp-auth'] ? 'Digest, same credentials as ONVIF' : 'off'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    cam.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`virtual camera: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
