import { z } from 'zod';
import { IdSchema, TextSchema } from '../common.schema';
import { RoleSchema } from './role.schema';

/** Languages of the console (English, and Bulgarian: the city's). */
export const LANGUAGES = ['en', 'bg'] as const;
export const LanguageSchema = z.enum(LANGUAGES);
export type Language = z.infer<typeof LanguageSchema>;

export const USER_LIMITS = { username: 64, displayName: 128, passwordMin: 10, passwordMax: 256, sites: 200 } as const;

/** A login name: letters, digits, ".", "_", "-", "@"; folded to lower case (one account whatever the case). */
export const UsernameSchema = z
  .string()
  .min(1)
  .max(USER_LIMITS.username)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, 'must be letters, digits, ".", "_", "-" or "@"')
  .transform((v) => v.toLowerCase());

/** A new password: long enough to resist guessing, bounded so hashing cannot be used to burn CPU. */
export const NewPasswordSchema = TextSchema.min(USER_LIMITS.passwordMin).max(USER_LIMITS.passwordMax);

export const DisplayNameSchema = TextSchema.trim().min(1).max(USER_LIMITS.displayName);

/** Sites a user is scoped to (no duplicates). */
export const SiteIdsSchema = z
  .array(IdSchema)
  .max(USER_LIMITS.sites)
  .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a site');

/** A user as the API shows it (never the password hash). */
export const UserSchema = z.object({
  id: z.uuid(),
  username: z.string(),
  displayName: z.string(),
  role: RoleSchema,
  language: LanguageSchema,
  siteIds: z.array(z.string()),
  /** True for roles that see every site (admin, auditor), whatever `siteIds` lists. */
  allSites: z.boolean(),
  disabled: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type User = z.infer<typeof UserSchema>;

/** `GET /api/me`. */
export const MeResponseSchema = UserSchema;
export type MeResponse = z.infer<typeof MeResponseSchema>;

/** `GET /api/users`. */
export const UserListResponseSchema = z.object({ items: z.array(UserSchema) });
export type UserListResponse = z.infer<typeof UserListResponseSchema>;

/** `POST /api/users` (admin). Strict: an unknown field is an error. */
export const CreateUserRequestSchema = z.strictObject({
  username: UsernameSchema,
  displayName: DisplayNameSchema.optional(),
  password: NewPasswordSchema,
  role: RoleSchema,
  language: LanguageSchema.default('en'),
  siteIds: SiteIdsSchema.default([]),
});
export type CreateUserRequest = z.infer<typeof CreateUserRequestSchema>;

/** `PATCH /api/users/:id` (admin): any of these; `password` resets it (and ends the user's sessions). */
export const UpdateUserRequestSchema = z
  .strictObject({
    displayName: DisplayNameSchema.optional(),
    role: RoleSchema.optional(),
    language: LanguageSchema.optional(),
    siteIds: SiteIdsSchema.optional(),
    disabled: z.boolean().optional(),
    password: NewPasswordSchema.optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'must change at least one field');
export type UpdateUserRequest = z.infer<typeof UpdateUserRequestSchema>;

/** The `:id` of a user route. */
export const UserIdParamSchema = z.uuid();
