import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { READINESS, type ReadinessProbe } from './readiness';

@Controller('health')
export class HealthController {
  constructor(@Inject(READINESS) private readonly readiness: ReadinessProbe) {}

  /** The process is up (for restarts by the supervisor). */
  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Database reachable, ingest committing, MQTT connected: 200, otherwise 503 with what is failing. */
  @Get('ready')
  async ready(@Res() res: Response): Promise<void> {
    const checks = await this.readiness.check();
    const ok = Object.values(checks).every(Boolean);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks });
  }
}
