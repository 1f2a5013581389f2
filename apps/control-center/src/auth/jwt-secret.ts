import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../common/logger';

export const JWT_SECRET_FILE = 'jwt-secret';

/**
 * The access tokens' signing key: JWT_SECRET when set; otherwise the one kept in `<dataDir>/jwt-secret`, generated
 * (256 random bits, file mode 0600) on first start, so restarts keep sessions. Several replicas must set JWT_SECRET.
 */
export function resolveJwtSecret(configured: string | undefined, dataDir: string, logger: Logger): string {
  if (configured !== undefined) return configured;
  const file = join(dataDir, JWT_SECRET_FILE);
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 32) {
      logger.info({ file }, 'JWT_SECRET not set: using the signing key kept in the data dir');
      return kept;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  logger.warn(
    { file },
    'JWT_SECRET not set: generated a signing key and kept it in the data dir (set JWT_SECRET when running several replicas)',
  );
  return secret;
}
