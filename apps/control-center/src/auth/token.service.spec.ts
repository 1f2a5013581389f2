import { JwtService } from '@nestjs/jwt';
import { TokenService } from './token.service';

const SECRET = 'unit-secret-0123456789abcdef0123456789abcdef';
const user = {
  id: '4b1c1f5e-5f9e-4a57-9d4f-1d2b0d3c4e5f',
  username: 'ana',
  role: 'operator' as const,
  siteIds: ['s1'],
};

describe('TokenService', () => {
  const tokens = new TokenService(SECRET, 900, 3_600_000);

  it('signs an access token that verifies back to the user, with allSites only for admin and auditor', () => {
    expect(tokens.verifyAccess(tokens.signAccess(user))).toEqual({
      id: user.id,
      username: 'ana',
      role: 'operator',
      siteIds: ['s1'],
      allSites: false,
    });
    expect(tokens.verifyAccess(tokens.signAccess({ ...user, role: 'auditor' }))?.allSites).toBe(true);
    expect(tokens.verifyAccess(tokens.signAccess({ ...user, role: 'traffic_analyst' }))?.allSites).toBe(false);
  });

  it('expires access tokens after their lifetime', () => {
    jest.useFakeTimers({ now: Date.now() });
    try {
      const token = tokens.signAccess(user);
      jest.setSystemTime(Date.now() + 899_000);
      expect(tokens.verifyAccess(token)).not.toBeNull();
      jest.setSystemTime(Date.now() + 2_000);
      expect(tokens.verifyAccess(token)).toBeNull();
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses tokens signed with another key, unsigned, tampered, of another audience or with bad claims', () => {
    const other = new TokenService('another-secret-0123456789abcdef0123456789', 900, 1000);
    expect(tokens.verifyAccess(other.signAccess(user))).toBeNull();
    const [h, p] = tokens.signAccess(user).split('.');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect(tokens.verifyAccess(`${none}.${p}.`)).toBeNull();
    const admin = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), role: 'admin' }),
    ).toString('base64url');
    const sig = tokens.signAccess(user).split('.')[2];
    expect(tokens.verifyAccess(`${h}.${admin}.${sig}`)).toBeNull();
    const jwt = new JwtService({ secret: SECRET });
    const claims = { sub: user.id, username: 'ana', role: 'operator', sites: [] };
    expect(tokens.verifyAccess(jwt.sign(claims, { issuer: 'vigil-centre', audience: 'elsewhere' }))).toBeNull();
    expect(
      tokens.verifyAccess(jwt.sign({ ...claims, role: 'root' }, { issuer: 'vigil-centre', audience: 'vigil-api' })),
    ).toBeNull();
    expect(tokens.verifyAccess('not.a.jwt')).toBeNull();
  });

  it('makes random refresh tokens whose stored form is their sha256', () => {
    const a = tokens.newRefresh();
    const b = tokens.newRefresh();
    expect(a.token).not.toBe(b.token);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.hash).toEqual(TokenService.hashRefresh(a.token));
    expect(a.hash.length).toBe(32);
    expect(a.expiresAt.getTime() - Date.now()).toBeGreaterThan(3_590_000);
  });
});
