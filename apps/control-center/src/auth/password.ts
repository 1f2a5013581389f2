import argon2 from 'argon2';

/**
 * argon2id with the library's defaults (OWASP's second recommended profile: 64 MiB, 3 passes, parallelism 4);
 * the parameters and salt are stored in the hash's PHC string, so raising them later needs no migration.
 */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false; // a malformed stored hash never signs anyone in
  }
}

/** Verified against when the username is unknown, so a wrong username costs as long as a wrong password. */
let dummyHash: Promise<string> | undefined;
export function timingDummyHash(): Promise<string> {
  dummyHash ??= hashPassword('vigil-timing-equaliser');
  return dummyHash;
}
