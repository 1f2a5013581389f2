import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { EVIDENCE_VIEW_ROLES, EvidenceIdParamSchema } from '@vigil/contracts';
import type { Request, Response } from 'express';
import { Allow, CurrentUser, type AuthUser } from '../auth/auth.decorators';
import { Responds } from '../common/api-doc.decorators';
import { ValidParam } from '../common/zod-validation.pipe';
import { EvidenceService } from './evidence.service';

/** Evidence images (masked at the edge), served to the roles that decide on violations; every view recorded. */
@Controller('api/evidence')
@Allow(...EVIDENCE_VIEW_ROLES)
export class EvidenceController {
  // Explicit token: `npm start` runs under tsx (esbuild), which emits no decorator metadata.
  constructor(@Inject(EvidenceService) private readonly evidence: EvidenceService) {}

  @Get(':evidenceId')
  @Responds({
    status: 200,
    description: 'The masked JPEG (not cached); the view is recorded',
    body: { mediaType: 'image/jpeg' },
  })
  async image(
    @CurrentUser() user: AuthUser,
    @ValidParam('evidenceId', EvidenceIdParamSchema) evidenceId: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const jpeg = await this.evidence.view(user, evidenceId, {
      clientIp: req.ip ?? req.socket.remoteAddress ?? 'unknown',
      userAgent: req.get('user-agent') ?? null,
    });
    // Personal data: never kept by browsers or proxies.
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.type('image/jpeg').send(jpeg);
  }
}
