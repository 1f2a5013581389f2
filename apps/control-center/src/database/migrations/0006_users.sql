-- Users of the centre (operators, analysts, auditors, admins), the sites each may see, and the refresh tokens of
-- their sessions. One file for both flavours: nothing here is time-series.
CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Stored lower-case (the API folds it), so "Ana" and "ana" are one account.
  username text NOT NULL UNIQUE CHECK (username = lower(username) AND length(username) BETWEEN 1 AND 64),
  display_name text NOT NULL CHECK (length(display_name) <= 128),
  -- argon2id, in its PHC string form (algorithm, parameters and salt travel with the hash).
  password_hash text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'operator', 'traffic_analyst', 'auditor')),
  language text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'bg')),
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The sites a user is scoped to (admins and auditors see every site whatever is listed here).
CREATE TABLE user_sites (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  site_id text NOT NULL,
  PRIMARY KEY (user_id, site_id)
);

-- Refresh tokens: only their sha256 is stored. Each rotation revokes the presented token and issues one of the same
-- family; a revoked token presented again (a stolen copy) revokes the whole family.
CREATE TABLE refresh_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id uuid NOT NULL,
  token_hash bytea NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
