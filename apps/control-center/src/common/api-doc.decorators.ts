import { SetMetadata } from '@nestjs/common';
import type { z } from 'zod';

export const RESPONSES_KEY = 'vigil:responses';

export interface DocumentedResponse {
  status: number;
  description: string;
  /** A zod schema from libs/contracts for a JSON body, a media type for anything else, or nothing (no body). */
  body?: z.ZodType | { mediaType: string };
}

/**
 * The success responses a route documents in the OpenAPI document (errors are derived from its policy and its
 * validated inputs). Several may be given.
 */
export const Responds = (...responses: DocumentedResponse[]) => SetMetadata(RESPONSES_KEY, responses);
