-- Who looked at which evidence image, when, and from where (issue 12): images show people and plates, so every
-- view is accountable. Append-only; one ordinary table on both flavours. Kept as long as the evidence metadata.
CREATE TABLE evidence_views (
  id          bigserial   PRIMARY KEY,
  evidence_id uuid        NOT NULL,
  site_id     text        NOT NULL,
  user_id     uuid        NOT NULL,
  username    text        NOT NULL,
  role        text        NOT NULL,
  viewed_at   timestamptz NOT NULL DEFAULT now(),
  -- The client address as the centre saw it (behind a proxy: the proxy's, unless trust proxy is configured).
  client_ip   text        NOT NULL,
  user_agent  text
);
CREATE INDEX evidence_views_evidence_idx ON evidence_views (evidence_id, viewed_at);
CREATE INDEX evidence_views_user_idx ON evidence_views (username, viewed_at);
