import { Body, Param, Query, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import type { ApiErrorDetail } from '@vigil/contracts';
import type { z } from 'zod';
import { AppError, AppErrorCode } from './app-error';

/**
 * The one validation pipe: parses a request part with a zod schema from `libs/contracts` and hands the handler the
 * parsed (coerced, defaulted) value. A failure is a 400 `VALIDATION_FAILED` naming every offending field path.
 */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  /** Public so the OpenAPI document is built from the very schemas the routes validate with. */
  constructor(readonly schema: S) {}

  transform(value: unknown, metadata: ArgumentMetadata): z.output<S> {
    const parsed = this.schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const where = metadata.data ? `${metadata.type} "${metadata.data}"` : metadata.type;
    const details: ApiErrorDetail[] = parsed.error.issues.map((issue) => ({
      in: metadata.type,
      path: issue.path.map(String).join('.'),
      message: issue.message,
    }));
    const summary = details
      .slice(0, 5)
      .map((d) => (d.path ? `${d.path}: ${d.message}` : d.message))
      .join('; ');
    throw new AppError(AppErrorCode.VALIDATION_FAILED, `invalid ${where}: ${summary}`, details);
  }
}

/** `@ValidBody(Schema) body: z.output<typeof Schema>`: the request body, parsed. */
export const ValidBody = (schema: z.ZodType): ParameterDecorator => Body(new ZodValidationPipe(schema));

/** `@ValidQuery(Schema) query: z.output<typeof Schema>`: the whole query string, parsed. */
export const ValidQuery = (schema: z.ZodType): ParameterDecorator => Query(new ZodValidationPipe(schema));

/** `@ValidParam('id', Schema) id: z.output<typeof Schema>`: one path parameter, parsed. */
export const ValidParam = (name: string, schema: z.ZodType): ParameterDecorator =>
  Param(name, new ZodValidationPipe(schema));
