import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { DATABASE } from '../database/database.tokens';
import type { Database } from '../database/database.types';
import { EvidenceRepository } from '../database/repositories/evidence.repository';
import { EvidenceViewRepository } from '../database/repositories/evidence-view.repository';
import { EvidenceController } from './evidence.controller';
import { EvidenceService } from './evidence.service';

/** Evidence images over HTTP, with the audit trail of who viewed them. */
@Module({
  imports: [DatabaseModule],
  controllers: [EvidenceController],
  providers: [
    {
      provide: EvidenceService,
      inject: [DATABASE],
      useFactory: (db: Database) => new EvidenceService(new EvidenceRepository(db), new EvidenceViewRepository(db)),
    },
  ],
})
export class EvidenceModule {}
