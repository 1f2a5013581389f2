import { Module } from '@nestjs/common';
import { AlertsModule } from '../alerts/alerts.module';
import { AuthModule } from '../auth/auth.module';
import { PushGateway } from './push.gateway';

/**
 * Live push to the operator console over socket.io (namespace `/live`). The socket.io server itself comes from the
 * application's WebSocket adapter (`PushIoAdapter`, set where the app is created, with Redis when `REDIS_URL` is set).
 */
@Module({
  imports: [AlertsModule, AuthModule],
  providers: [PushGateway],
})
export class PushModule {}
