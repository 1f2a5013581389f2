import { Controller, Get, Inject, Patch, Post } from '@nestjs/common';
import {
  CreateUserRequestSchema,
  MeResponseSchema,
  UserListResponseSchema,
  UserSchema,
  UpdateUserRequestSchema,
  UserIdParamSchema,
  type CreateUserRequest,
  type MeResponse,
  type UpdateUserRequest,
  type User,
  type UserListResponse,
} from '@vigil/contracts';
import { Allow, CurrentUser, type AuthUser } from '../auth/auth.decorators';
import { Responds } from '../common/api-doc.decorators';
import { ValidBody, ValidParam } from '../common/zod-validation.pipe';
import { UsersService } from './users.service';

/** User management: admins only. */
@Controller('api/users')
@Allow('admin')
export class UsersController {
  constructor(@Inject(UsersService) private readonly users: UsersService) {}

  @Get()
  @Responds({ status: 200, description: 'Every user', body: UserListResponseSchema })
  async list(): Promise<UserListResponse> {
    return { items: await this.users.list() };
  }

  @Post()
  @Responds(
    { status: 201, description: 'The user created', body: UserSchema },
    { status: 409, description: 'CONFLICT: username taken' },
  )
  create(@ValidBody(CreateUserRequestSchema) body: CreateUserRequest): Promise<User> {
    return this.users.create(body);
  }

  @Patch(':id')
  @Responds({ status: 200, description: 'The user changed', body: UserSchema })
  update(
    @ValidParam('id', UserIdParamSchema) id: string,
    @ValidBody(UpdateUserRequestSchema) body: UpdateUserRequest,
  ): Promise<User> {
    return this.users.update(id, body);
  }
}

/** The signed-in user (every role). */
@Controller('api/me')
@Allow('admin', 'operator', 'traffic_analyst', 'auditor')
export class MeController {
  constructor(@Inject(UsersService) private readonly users: UsersService) {}

  @Get()
  @Responds({ status: 200, description: 'The signed-in user', body: MeResponseSchema })
  me(@CurrentUser() user: AuthUser): Promise<MeResponse> {
    return this.users.get(user.id);
  }
}
