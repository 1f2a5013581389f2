import { Public } from '../auth/auth.decorators';
import { Controller, Get, Header, Inject } from '@nestjs/common';
import { MetricsService } from './metrics.service';

@Controller('metrics')
@Public()
export class MetricsController {
  // Explicit token: `npm start` runs under tsx (esbuild), which emits no decorator metadata.
  constructor(@Inject(MetricsService) private readonly metrics: MetricsService) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
