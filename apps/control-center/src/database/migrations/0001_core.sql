-- Tables that are the same on every flavour: small, keyed, not time-partitioned.

-- How long each data class is kept: the one source of these numbers. The TimescaleDB migration builds its
-- retention policies from it; on plain PostgreSQL the maintenance job reads it every run.
CREATE TABLE retention_policy (
  relation text PRIMARY KEY,
  keep interval NOT NULL CHECK (keep > interval '0'),
  why text NOT NULL
);

INSERT INTO retention_policy (relation, keep, why) VALUES
  ('detection_events', '400 days', 'decision log with model provenance: AI Act asks for at least 6 months; 13 months spans a year of appeals'),
  ('evidence', '400 days', 'evidence metadata (hash, masking) follows its events'),
  ('evidence_images', '72 hours', 'EDPB 3/2019: images 72 h unless kept for a case (keep = true)'),
  ('line_counts', '35 days', 'raw per-minute counts: longer than every aggregate refresh window (8-10 days) plus a month of audits'),
  ('count_intervals', '35 days', 'which intervals each line reported (coverage); same life as the counts'),
  ('line_crossings', '35 days', 'per-vehicle audit trail of the counts'),
  ('camera_status', '90 days', 'availability history behind the reports'),
  ('node_status', '90 days', 'availability history behind the reports'),
  ('heartbeats', '30 days', 'operational telemetry'),
  ('config_acks', '400 days', 'configuration audit trail'),
  ('dead_letters', '30 days', 'diagnosis of rejected input; also capped in rows'),
  ('delivery_state', '30 days', 'per-boot sequence state; a boot silent this long is over'),
  ('flow_15m', '731 days', '15-minute flows: two years of comparisons'),
  ('flow_1h', '1827 days', 'hourly flows: five years'),
  ('flow_1d', '3653 days', 'daily flows: ten years');

-- Evidence JPEGs (masked at the edge). Not partitioned: 72 h of images, purged row by row unless kept.
CREATE TABLE evidence_images (
  site_id text NOT NULL,
  node_id text NOT NULL,
  camera_id text NOT NULL,
  boot_id uuid NOT NULL,
  seq bigint NOT NULL,
  ts timestamptz NOT NULL,
  evidence_id uuid NOT NULL,
  sha256 text NOT NULL,
  bytes integer NOT NULL,
  image bytea NOT NULL,
  received_at timestamptz NOT NULL,
  keep boolean NOT NULL DEFAULT false,
  keep_reason text,
  PRIMARY KEY (site_id, node_id, boot_id, seq)
);
-- JPEG does not compress: skip TOAST's compression attempt.
ALTER TABLE evidence_images ALTER COLUMN image SET STORAGE EXTERNAL;
CREATE INDEX evidence_images_evidence_idx ON evidence_images (evidence_id);
CREATE INDEX evidence_images_expiry_idx ON evidence_images (received_at) WHERE NOT keep;

CREATE TABLE config_acks (
  site_id text NOT NULL,
  node_id text NOT NULL,
  boot_id uuid NOT NULL,
  seq bigint NOT NULL,
  ts timestamptz NOT NULL,
  config_version integer NOT NULL,
  status text NOT NULL,
  errors jsonb NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (site_id, node_id, boot_id, seq)
);
CREATE INDEX config_acks_node_idx ON config_acks (site_id, node_id, config_version);

-- Input that failed validation. Bounded: the repository caps the row count (oldest go first) and the payload
-- prefix kept; the full size is recorded.
CREATE TABLE dead_letters (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at timestamptz NOT NULL,
  topic text NOT NULL,
  code text NOT NULL,
  path text,
  reason text NOT NULL,
  payload bytea NOT NULL,
  payload_bytes integer NOT NULL
);
CREATE INDEX dead_letters_received_idx ON dead_letters (received_at);

-- Delivery progress per (node, boot): every seq <= committed_up_to is stored; `pending` holds stored seqs above
-- it (a hole below them); hole_since is when the oldest hole was first seen.
CREATE TABLE delivery_state (
  site_id text NOT NULL,
  node_id text NOT NULL,
  boot_id uuid NOT NULL,
  committed_up_to bigint NOT NULL DEFAULT 0,
  pending bigint[] NOT NULL DEFAULT '{}',
  hole_since timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site_id, node_id, boot_id)
);
