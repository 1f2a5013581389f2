import { Public } from '../auth/auth.decorators';
import { Controller, Get, Header, Inject } from '@nestjs/common';
import { Responds } from '../common/api-doc.decorators';
import { MetricsService } from './metrics.service';

@Controller('metrics')
@Public()
export class MetricsController {
  // Explicit token: `npm start` runs under tsx (esbuild), which emits no decorator metadata.
  constructor(@Inject(MetricsService) private readonly metrics: MetricsService) {}

  @Get()
  @Responds({ status: 200, description: 'Prometheus text format', body: { mediaType: 'text/plain' } })
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
