import { Inject, type OnApplicationShutdown } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  type OnGatewayConnection,
  type OnGatewayInit,
} from '@nestjs/websockets';
import {
  AlertsSinceRequestSchema,
  WS_SINCE_MAX,
  WS_UNAUTHENTICATED,
  wsFrame,
  type Alert,
  type AlertsSinceResponse,
  type Role,
  type WsClientEventName,
  type WsServerEventName,
} from '@vigil/contracts';
import type { DefaultEventsMap, Namespace, Socket } from 'socket.io';
import { ALERT_READ_ROLES } from '../alerts/alert-workflow';
import { AlertService } from '../alerts/alert.service';
import { Public } from '../auth/auth.decorators';
import type { AuthUser } from '../auth/auth.decorators';
import { TokenService } from '../auth/token.service';
import { AppError } from '../common/app-error';
import type { Logger } from '../common/logger';
import { LOGGER } from '../common/tokens';
import { EventBus } from '../events/event-bus';

/** The socket.io namespace of the operator console. */
export const PUSH_NAMESPACE = '/live';
/** Room of the consoles that see every site (admins, auditors). */
export const ALL_SITES_ROOM = 'sites:all';
export const siteRoom = (siteId: string) => `site:${siteId}`;

/**
 * Who may receive each server event and send each client event: deny by default, one explicit entry per event of the
 * contracts (a `Record` over both maps: an event added to `libs/contracts` without a policy here does not compile).
 * The global guard does not apply to sockets (see the class comment); this table does.
 */
export const WS_EVENT_POLICY: Readonly<Record<WsServerEventName | WsClientEventName, readonly Role[]>> = {
  'alert.created': ALERT_READ_ROLES,
  'alert.updated': ALERT_READ_ROLES,
  'alerts.since': ALERT_READ_ROLES,
  // Not pushed yet: nobody receives them until they are.
  'camera.status': [],
  'edge.status': [],
};

type LiveSocket = Socket<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, { user?: AuthUser; expiresAt?: number }>;

/** The user the handshake verified (every connected socket of this namespace has one). */
function userOf(socket: LiveSocket): AuthUser {
  const user = socket.data.user;
  if (!user) throw new Error('socket without a verified user');
  return user;
}

/** Expiry (ms since the epoch) of a token `verifyAccess` accepted: its `exp` claim. */
function expiryOf(token: string): number {
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp?: unknown };
  return typeof claims.exp === 'number' ? claims.exp * 1000 : 0;
}

/** The bearer token of a handshake: `auth.token` (browsers) or an `Authorization: Bearer` header. */
export function handshakeToken(socket: Socket): string | null {
  const auth = socket.handshake.auth as Record<string, unknown> | undefined;
  if (typeof auth?.token === 'string' && auth.token !== '') return auth.token;
  const header = socket.handshake.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match ? match[1] : null;
}

/**
 * Live alerts for the console. The global guard does not run on connect, so the handshake checks the access token
 * itself (a refused connection gets `connect_error` "UNAUTHENTICATED"); `@Public()` only lets the guard pass the
 * message handlers, which use the user the handshake stored. Each socket joins one room per site it may see (or the
 * all-sites room); traffic analysts join none (they see counts only, over REST). Alerts are pushed from the bus's
 * `alert.created` / `alert.updated`, which are emitted after the commit, so a pushed alert is always stored.
 */
@Public()
@WebSocketGateway({ namespace: PUSH_NAMESPACE })
export class PushGateway implements OnGatewayInit, OnGatewayConnection, OnApplicationShutdown {
  @WebSocketServer() private readonly ns!: Namespace;
  private seq = 0;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly log: Logger;

  constructor(
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(AlertService) private readonly alerts: AlertService,
    @Inject(EventBus) private readonly events: EventBus,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ c: 'push' });
  }

  afterInit(ns: Namespace): void {
    ns.use((socket, next) => {
      const token = handshakeToken(socket);
      const user = token === null ? null : this.tokens.verifyAccess(token);
      if (!user) return next(new Error(WS_UNAUTHENTICATED));
      (socket as LiveSocket).data.user = user;
      (socket as LiveSocket).data.expiresAt = expiryOf(token!);
      next();
    });
    this.unsubscribe.push(
      this.events.on('alert.created', (e) => this.push('alert.created', e.alert)),
      this.events.on('alert.updated', (e) => this.push('alert.updated', e.alert)),
    );
  }

  async handleConnection(socket: LiveSocket): Promise<void> {
    const user = userOf(socket);
    // A socket lives no longer than its token (a disabled user's access runs out as over REST): at expiry it is
    // disconnected, and the console reconnects with a refreshed token.
    const ttl = (socket.data.expiresAt ?? 0) - Date.now();
    const timer = setTimeout(() => socket.disconnect(true), Math.max(0, ttl));
    socket.once('disconnect', () => clearTimeout(timer));
    // Both alert events share one policy, so one set of rooms serves them (checked by the policy test).
    if (!WS_EVENT_POLICY['alert.created'].includes(user.role)) return;
    await socket.join(user.allSites ? ALL_SITES_ROOM : user.siteIds.map(siteRoom));
  }

  /** Catch-up: the caller's alerts with an id greater than `after`, ascending (at most `limit`, default 500). */
  @SubscribeMessage('alerts.since')
  async since(@ConnectedSocket() socket: LiveSocket, @MessageBody() body: unknown): Promise<AlertsSinceResponse> {
    const user = userOf(socket);
    if (!WS_EVENT_POLICY['alerts.since'].includes(user.role)) {
      return { error: { code: 'FORBIDDEN', message: `a ${user.role} may not read alerts` } };
    }
    const parsed = AlertsSinceRequestSchema.safeParse(body ?? {});
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      return { error: { code: 'VALIDATION_FAILED', message } };
    }
    const limit = parsed.data.limit ?? WS_SINCE_MAX;
    try {
      const page = await this.alerts.list(user, {
        after: parsed.data.after ?? undefined,
        order: 'asc',
        limit,
      });
      return { items: page.items, more: page.nextCursor !== null };
    } catch (err) {
      if (err instanceof AppError) return { error: { code: err.code, message: err.message } };
      this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'alerts.since failed');
      return { error: { code: 'INTERNAL', message: 'catch-up failed, try again' } };
    }
  }

  onApplicationShutdown(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private push(event: Extract<WsServerEventName, 'alert.created' | 'alert.updated'>, alert: Alert): void {
    // Through the adapter: with Redis, every replica's sockets in these rooms get it (a socket in both, once).
    this.ns.to([siteRoom(alert.siteId), ALL_SITES_ROOM]).emit(event, wsFrame(event, ++this.seq, alert));
  }
}
