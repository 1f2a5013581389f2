import 'reflect-metadata';
import pino from 'pino';
import { EdgeAgent } from './agent/edge-agent';
import { EdgeSettingsError, loadEdgeSettings } from './agent/edge-settings';

const USAGE = 'usage: edge --config <settings.yaml>';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const file = argValue('--config') ?? process.env.VIGIL_EDGE_CONFIG;
  if (!file) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(64);
  }
  const logger = pino({ name: 'edge', level: process.env.LOG_LEVEL ?? 'info' });
  let agent: EdgeAgent;
  try {
    const settings = loadEdgeSettings(file);
    agent = new EdgeAgent(settings, logger.child({ site: settings.node.siteId, node: settings.node.nodeId }));
  } catch (err) {
    if (err instanceof EdgeSettingsError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    agent
      .stop()
      .then(() => process.exit(0))
      .catch((err: Error) => {
        logger.error({ err: err.message }, 'unclean stop');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await agent.start();
  logger.info({ bootId: agent.bootId, configVersion: agent.configVersion }, 'edge agent started');
}

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`unhandled rejection: ${String(reason)}\n`);
});

main().catch((err: unknown) => {
  process.stderr.write(`edge agent failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
