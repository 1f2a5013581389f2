import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '../common/logger';
import { APP_CONFIG, LOGGER } from '../common/tokens';
import type { AppConfig } from './app-config';

/**
 * The validated configuration and the process logger, for every module. The environment is parsed once, before
 * Nest starts (`loadConfig` in main.ts: bad configuration exits with 78 and names every bad variable).
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
      ],
      exports: [APP_CONFIG, LOGGER],
    };
  }
}
