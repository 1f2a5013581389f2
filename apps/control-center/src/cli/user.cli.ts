import { CreateUserRequestSchema } from '@vigil/contracts';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { createLogger } from '../common/logger';
import { AppError } from '../common/app-error';
import { ConfigError, loadConfig } from '../config/app-config';
import { openDatabase } from '../database/database';
import { RefreshTokenRepository } from '../users/refresh-token.repository';
import { UserRepository } from '../users/user.repository';
import { UsersService } from '../users/users.service';

const USAGE = `usage: npm run user -- add <username> --role <admin|operator|traffic_analyst|auditor>
                          [--sites a,b] [--display-name "Name"] [--language en|bg]
The password is read from VIGIL_USER_PASSWORD, else from standard input (one line), else asked for.
The database is the centre's (DATABASE_URL, or the embedded one under DATA_DIR: stop the centre first).`;

/** The new user's password: the environment, a piped line, or a prompt that does not echo. */
async function readPassword(): Promise<string> {
  const fromEnv = process.env.VIGIL_USER_PASSWORD;
  if (fromEnv !== undefined) return fromEnv;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  if (process.stdin.isTTY) {
    process.stdout.write('password: ');
    // Mute the echo: readline writes what is typed through _writeToOutput.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  }
  try {
    for await (const line of rl) return line.replace(/\r$/, '');
    return '';
  } finally {
    rl.close();
    if (process.stdin.isTTY) process.stdout.write('\n');
  }
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      role: { type: 'string' },
      sites: { type: 'string' },
      'display-name': { type: 'string' },
      language: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals[0] !== 'add' || positionals.length !== 2) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 64; // EX_USAGE
  }
  const parsed = CreateUserRequestSchema.safeParse({
    username: positionals[1],
    role: values.role,
    siteIds: values.sites
      ? values.sites
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
    displayName: values['display-name'],
    language: values.language,
    password: await readPassword(),
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) process.stderr.write(`${issue.path.join('.')}: ${issue.message}\n`);
    return 64;
  }
  const config = loadConfig();
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', 'vigil-user');
  const db = await openDatabase({
    url: config.database.url,
    dataDir: config.database.dataDir,
    embeddedPort: config.database.embeddedPort,
    logger: logger.child({ c: 'database' }),
  });
  try {
    const users = new UsersService(new UserRepository(db), new RefreshTokenRepository(db));
    const user = await users.create(parsed.data);
    const sites = user.allSites ? 'all sites' : `sites: ${user.siteIds.join(', ') || '(none)'}`;
    process.stdout.write(`created ${user.role} "${user.username}" (${user.id}), ${sites}\n`);
    return 0;
  } catch (err) {
    if (err instanceof AppError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
