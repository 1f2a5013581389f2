import { EVIDENCE_VIEW_ROLES } from '@vigil/contracts';
import { canSeeSite, type AuthUser } from '../auth/auth.decorators';
import { AppError } from '../common/app-error';
import type { EvidenceRepository } from '../database/repositories/evidence.repository';
import type { EvidenceViewRepository } from '../database/repositories/evidence-view.repository';

/** Where a view came from, for the audit trail. */
export interface ViewOrigin {
  clientIp: string;
  userAgent: string | null;
}

/**
 * Evidence images for the people who decide on violations. Another site's image is NOT_FOUND, exactly like one that
 * does not exist (or has expired), so ids tell nothing; every image served is recorded first, so no view escapes
 * the audit trail.
 */
export class EvidenceService {
  constructor(
    private readonly images: EvidenceRepository,
    private readonly views: EvidenceViewRepository,
  ) {}

  async view(user: AuthUser, evidenceId: string, origin: ViewOrigin): Promise<Buffer> {
    if (!EVIDENCE_VIEW_ROLES.includes(user.role)) {
      throw new AppError('FORBIDDEN', `a ${user.role} may not view evidence`);
    }
    const image = await this.images.findImage(evidenceId);
    if (!image || !canSeeSite(user, image.siteId)) throw new AppError('NOT_FOUND', `no evidence ${evidenceId}`);
    await this.views.record({
      evidenceId,
      siteId: image.siteId,
      userId: user.id,
      username: user.username,
      role: user.role,
      clientIp: origin.clientIp,
      userAgent: origin.userAgent?.slice(0, 512) ?? null,
    });
    return image.image;
  }
}
