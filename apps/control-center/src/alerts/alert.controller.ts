import { Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import {
  AlertAssignBodySchema,
  AlertConfirmBodySchema,
  AlertListQuerySchema,
  AlertNoteBodySchema,
  AlertTransitionBodySchema,
  CursorSchema,
  type Alert,
  type AlertAssignBody,
  type AlertConfirmBody,
  type AlertDetail,
  type AlertListQuery,
  type AlertNoteBody,
  type AlertTransitionBody,
  type Page,
} from '@vigil/contracts';
import { Allow, CurrentUser, type AuthUser } from '../auth/auth.decorators';
import { ValidBody, ValidParam, ValidQuery } from '../common/zod-validation.pipe';
import { ALERT_ACTION_ROLES, ALERT_READ_ROLES } from './alert-workflow';
import { AlertService } from './alert.service';

/**
 * Alerts for the control room. Thin: the service checks role and site scope again and owns the workflow; the
 * route roles come from the workflow's role table so the guard and the service cannot disagree. Traffic analysts
 * are refused by the guard on every route (they see counts only).
 */
@Controller('api/alerts')
@Allow(...ALERT_READ_ROLES)
export class AlertController {
  // Explicit token: `npm start` runs under tsx (esbuild), which emits no decorator metadata.
  constructor(@Inject(AlertService) private readonly alerts: AlertService) {}

  @Get()
  list(@CurrentUser() user: AuthUser, @ValidQuery(AlertListQuerySchema) query: AlertListQuery): Promise<Page<Alert>> {
    return this.alerts.list(user, query);
  }

  @Get(':id')
  async get(@CurrentUser() user: AuthUser, @ValidParam('id', CursorSchema) id: string): Promise<AlertDetail> {
    const alert = await this.alerts.get(user, id);
    return { ...alert, history: await this.alerts.history(user, id) };
  }

  @Post(':id/transitions')
  @HttpCode(200)
  @Allow(...ALERT_ACTION_ROLES.acknowledge)
  transition(
    @CurrentUser() user: AuthUser,
    @ValidParam('id', CursorSchema) id: string,
    @ValidBody(AlertTransitionBodySchema) body: AlertTransitionBody,
  ): Promise<Alert> {
    return this.alerts.transition(user, id, body.action, body.expectedVersion, body.note);
  }

  @Post(':id/notes')
  @HttpCode(200)
  @Allow(...ALERT_ACTION_ROLES.note)
  addNote(
    @CurrentUser() user: AuthUser,
    @ValidParam('id', CursorSchema) id: string,
    @ValidBody(AlertNoteBodySchema) body: AlertNoteBody,
  ): Promise<Alert> {
    return this.alerts.addNote(user, id, body.note);
  }

  @Post(':id/assign')
  @HttpCode(200)
  @Allow(...ALERT_ACTION_ROLES.assign)
  assign(
    @CurrentUser() user: AuthUser,
    @ValidParam('id', CursorSchema) id: string,
    @ValidBody(AlertAssignBodySchema) body: AlertAssignBody,
  ): Promise<Alert> {
    return this.alerts.assign(user, id, body.assignee, body.expectedVersion);
  }

  @Post(':id/confirm')
  @HttpCode(200)
  @Allow(...ALERT_ACTION_ROLES.confirm)
  confirm(
    @CurrentUser() user: AuthUser,
    @ValidParam('id', CursorSchema) id: string,
    @ValidBody(AlertConfirmBodySchema) body: AlertConfirmBody,
  ): Promise<Alert> {
    return this.alerts.confirmViolation(user, id, body.expectedVersion);
  }
}
