import { Public } from '../auth/auth.decorators';
import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import {
  LivenessResponseSchema,
  ReadinessResponseSchema,
  type LivenessResponse,
  type ReadinessResponse,
} from '@vigil/contracts';
import type { Response } from 'express';
import { Responds } from '../common/api-doc.decorators';
import { READINESS, type ReadinessProbe } from './readiness';

@Controller('health')
@Public()
export class HealthController {
  constructor(@Inject(READINESS) private readonly readiness: ReadinessProbe) {}

  /** The process is up (for restarts by the supervisor). */
  @Get('live')
  @HttpCode(200)
  @Responds({ status: 200, description: 'The process is up', body: LivenessResponseSchema })
  live(): LivenessResponse {
    return LivenessResponseSchema.parse({ status: 'ok' });
  }

  /** Database reachable, ingest committing, MQTT connected: 200, otherwise 503 with what is failing. */
  @Get('ready')
  @Responds(
    { status: 200, description: 'Ready', body: ReadinessResponseSchema },
    { status: 503, description: 'Not ready: which check fails', body: ReadinessResponseSchema },
  )
  async ready(@Res() res: Response): Promise<void> {
    const checks = await this.readiness.check();
    const ok = Object.values(checks).every(Boolean);
    // Parsed on the way out: the body is exactly the contract's, whatever the probe returned.
    const body: ReadinessResponse = ReadinessResponseSchema.parse({ status: ok ? 'ok' : 'unavailable', checks });
    res.status(ok ? 200 : 503).json(body);
  }
}
