import { z } from 'zod';
import { Controller, Get, HttpCode, Inject, Post, Res } from '@nestjs/common';
import {
  AlertAssignBodySchema,
  AlertConfirmBodySchema,
  AlertDetailSchema,
  AlertListQuerySchema,
  AlertNoteBodySchema,
  AlertPageSchema,
  AlertSchema,
  AlertTransitionBodySchema,
  CursorSchema,
  ViolationExportQuerySchema,
  ViolationExportRowSchema,
  type Alert,
  type AlertAssignBody,
  type AlertConfirmBody,
  type AlertDetail,
  type AlertListQuery,
  type AlertNoteBody,
  type AlertTransitionBody,
  type Page,
  type ViolationExportQuery,
} from '@vigil/contracts';
import type { Response } from 'express';
import { Allow, CurrentUser, type AuthUser } from '../auth/auth.decorators';
import { Responds } from '../common/api-doc.decorators';
import { ValidBody, ValidParam, ValidQuery } from '../common/zod-validation.pipe';
import { ALERT_ACTION_ROLES, ALERT_READ_ROLES } from './alert-workflow';
import { AlertService } from './alert.service';
import { csvHeader, csvLine, ViolationExportService } from './violation-export.service';

/**
 * Alerts for the control room. Thin: the service checks role and site scope again and owns the workflow; the
 * route roles come from the workflow's role table so the guard and the service cannot disagree. Traffic analysts
 * are refused by the guard on every route (they see counts only).
 */
@Controller('api/alerts')
@Allow(...ALERT_READ_ROLES)
export class AlertController {
  // Explicit token: `npm start` runs under tsx (esbuild), which emits no decorator metadata.
  constructor(
    @Inject(AlertService) private readonly alerts: AlertService,
    @Inject(ViolationExportService) private readonly exports: ViolationExportService,
  ) {}

  @Get()
  @Responds({ status: 200, description: 'A page of alerts, newest first unless order=asc', body: AlertPageSchema })
  list(@CurrentUser() user: AuthUser, @ValidQuery(AlertListQuerySchema) query: AlertListQuery): Promise<Page<Alert>> {
    return this.alerts.list(user, query);
  }

  /**
   * Confirmed parking violations, streamed as CSV (the documented columns) or a JSON array. Declared before
   * `:id` so Express does not take `export` for an id. The first row is read before the headers go out, so a
   * refusal or a database error is still a proper error response.
   */
  @Get('export')
  @Responds(
    { status: 200, description: 'CSV (columns as in VIOLATION_EXPORT_COLUMNS)', body: { mediaType: 'text/csv' } },
    { status: 200, description: 'JSON array (format=json)', body: z.array(ViolationExportRowSchema) },
  )
  async export(
    @CurrentUser() user: AuthUser,
    @ValidQuery(ViolationExportQuerySchema) query: ViolationExportQuery,
    @Res() res: Response,
  ): Promise<void> {
    const rows = this.exports.rows(user, query);
    let next = await rows.next();
    const csv = query.format === 'csv';
    res.status(200);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', csv ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="violations.${query.format}"`);
    res.write(csv ? csvHeader() : '[');
    try {
      for (let first = true; !next.done; first = false, next = await rows.next()) {
        const chunk = csv ? csvLine(next.value) : `${first ? '' : ','}${JSON.stringify(next.value)}`;
        // Back-pressure: wait for the socket to drain before reading the next page.
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
      }
    } catch (err) {
      // Headers are gone: cut the download short so a truncated file is never taken for a whole one.
      res.destroy(err as Error);
      return;
    }
    res.end(csv ? '' : ']');
  }

  @Get(':id')
  @Responds({ status: 200, description: 'The alert and its history', body: AlertDetailSchema })
  async get(@CurrentUser() user: AuthUser, @ValidParam('id', CursorSchema) id: string): Promise<AlertDetail> {
    const alert = await this.alerts.get(user, id);
    return { ...alert, history: await this.alerts.history(user, id) };
  }

  @Post(':id/transitions')
  @HttpCode(200)
  @Responds(
    { status: 200, description: 'The alert after the step', body: AlertSchema },
    { status: 409, description: 'CONFLICT' },
  )
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
  @Responds(
    { status: 200, description: 'The alert (version unchanged)', body: AlertSchema },
    { status: 409, description: 'CONFLICT' },
  )
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
  @Responds(
    { status: 200, description: 'The alert, assigned', body: AlertSchema },
    { status: 409, description: 'CONFLICT' },
  )
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
  @Responds(
    { status: 200, description: 'The alert, confirmed', body: AlertSchema },
    { status: 409, description: 'CONFLICT' },
  )
  @Allow(...ALERT_ACTION_ROLES.confirm)
  confirm(
    @CurrentUser() user: AuthUser,
    @ValidParam('id', CursorSchema) id: string,
    @ValidBody(AlertConfirmBodySchema) body: AlertConfirmBody,
  ): Promise<Alert> {
    return this.alerts.confirmViolation(user, id, body.expectedVersion);
  }
}
