/** What every redacted secret is replaced with. */
export const REDACTED = '***';

// scheme://userinfo@ — greedy up to the last '@' of the authority, so an unencoded '@' inside a password is still
// covered; '/', '?', '#' and whitespace end the authority.
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#'"]*@/gi;

/**
 * Replaces the userinfo (`user:password@`) of every URL in `text` with `***@`. Works on a bare URL and on free text
 * (ffmpeg's stderr echoes the input URL, credentials included).
 */
export function redactUrl(text: string): string {
  return text.replace(URL_USERINFO, `$1${REDACTED}@`);
}

/** The forms a secret can take in a URL or a log line: as typed, and percent-encoded. */
function secretForms(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret), encodeURI(secret)]);
  return [...forms].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

/**
 * Redacts URL userinfo and then every occurrence of the given secrets (raw and percent-encoded). Use it on anything
 * that may echo a credential: process output, error messages, status reasons.
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined | null)[] = []): string {
  let out = redactUrl(text);
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of secretForms(secret)) {
      out = out.split(form).join(REDACTED);
    }
  }
  return out;
}

/** Userinfo of a URL, decoded, for callers that must redact it elsewhere too; empty when there is none. */
export function urlCredentials(url: string): { username: string; password: string } {
  try {
    const parsed = new URL(url);
    return { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
  } catch {
    return { username: '', password: '' };
  }
}
