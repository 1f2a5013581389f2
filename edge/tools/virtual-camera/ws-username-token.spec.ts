import { createHash } from 'node:crypto';
import { parseXml } from './soap';
import { passwordDigest, readUsernameToken, UsernameTokenVerifier, type UsernameToken } from './ws-username-token';

const DIGEST_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
const NOW = Date.parse('2026-03-01T12:00:00.000Z');

function token(password: string, overrides: Partial<UsernameToken> = {}): UsernameToken {
  const nonce = overrides.nonce ?? Buffer.from(`nonce-${Math.random()}`).toString('base64');
  const created = overrides.created ?? new Date(NOW).toISOString();
  return {
    username: 'admin',
    password: passwordDigest(nonce, created, password),
    passwordType: DIGEST_TYPE,
    nonce,
    created,
    ...overrides,
  };
}

describe('passwordDigest', () => {
  it('is Base64(SHA-1(nonce bytes + Created + password)) with the nonce decoded from Base64', () => {
    const nonce = Buffer.from([0, 1, 2, 250]);
    const expected = createHash('sha1')
      .update(Buffer.concat([nonce, Buffer.from('2026-03-01T12:00:00Z'), Buffer.from('pw')]))
      .digest('base64');
    expect(passwordDigest(nonce.toString('base64'), '2026-03-01T12:00:00Z', 'pw')).toBe(expected);
  });
});

describe('UsernameTokenVerifier', () => {
  const verifier = (): UsernameTokenVerifier => new UsernameTokenVerifier('admin', 'pa ss', 5 * 60_000, () => NOW);

  it('accepts the right digest', () => {
    expect(verifier().verify(token('pa ss'))).toEqual({ ok: true });
  });

  it('refuses a wrong password, a wrong user, a missing token and a plain-text password', () => {
    const v = verifier();
    expect(v.verify(token('wrong')).ok).toBe(false);
    expect(v.verify(token('pa ss', { username: 'root' })).ok).toBe(false);
    expect(v.verify(undefined).ok).toBe(false);
    expect(v.verify({ ...token('pa ss'), password: 'pa ss', passwordType: undefined }).ok).toBe(false);
  });

  it('refuses a replayed nonce and a Created outside the clock skew', () => {
    const v = verifier();
    const t = token('pa ss');
    expect(v.verify(t).ok).toBe(true);
    expect(v.verify(t)).toEqual({ ok: false, reason: 'nonce replayed' });
    const stale = token('pa ss', { created: new Date(NOW - 6 * 60_000).toISOString() });
    expect(v.verify(stale)).toEqual({ ok: false, reason: 'Created outside the allowed clock skew' });
  });
});

describe('readUsernameToken', () => {
  it('reads the token the way the onvif package sends it', () => {
    const xml =
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>' +
      '<Security s:mustUnderstand="1" xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">' +
      `<UsernameToken><Username>42</Username><Password Type="${DIGEST_TYPE}">ZGln</Password>` +
      '<Nonce EncodingType="x">bm9u</Nonce><Created xmlns="u">2026-03-01T12:00:00.000Z</Created></UsernameToken>' +
      '</Security></s:Header><s:Body/></s:Envelope>';
    const header = (parseXml(xml).Envelope as Record<string, unknown>).Header;
    expect(readUsernameToken(header)).toEqual({
      username: '42',
      password: 'ZGln',
      passwordType: DIGEST_TYPE,
      nonce: 'bm9u',
      created: '2026-03-01T12:00:00.000Z',
    });
    expect(readUsernameToken(undefined)).toBeUndefined();
  });
});
