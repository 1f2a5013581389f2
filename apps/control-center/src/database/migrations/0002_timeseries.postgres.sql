-- Time-series tables on plain PostgreSQL: native range partitions by day, created ahead of time by the service
-- (and on demand for a late day), dropped whole when older than retention_policy.keep. Every unique key is the
-- message identity (site, node, boot, seq) plus the partitioning time, which a replay carries unchanged. Keep the
-- column lists identical to 0002_timeseries.timescaledb.sql (a test compares the two).

CREATE TABLE detection_events (
  ts timestamptz NOT NULL,
  site_id text NOT NULL,
  node_id text NOT NULL,
  camera_id text NOT NULL,
  boot_id uuid NOT NULL,
  seq bigint NOT NULL,
  event_id uuid NOT NULL,
  phase text NOT NULL,
  kind text NOT NULL,
  rule_id text NOT NULL,
  zone_id text NOT NULL,
  object_class text NOT NULL,
  track_id integer NOT NULL,
  score real NOT NULL,
  max_score real NOT NULL,
  box real[] NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at timestamptz,
  end_reason text,
  dwell_seconds double precision NOT NULL,
  pedestrians_present integer,
  evidence_id uuid,
  evidence_sha256 text,
  model_id text NOT NULL,
  model jsonb NOT NULL,
  received_at timestamptz NOT NULL,
  UNIQUE (site_id, node_id, boot_id, seq, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX detection_events_event_idx ON detection_events (event_id, ts);
CREATE INDEX detection_events_camera_idx ON detection_events (site_id, node_id, camera_id, ts DESC);

CREATE TABLE line_counts (
  interval_start timestamptz NOT NULL,
  interval_end timestamptz NOT NULL,
  site_id text NOT NULL,
  node_id text NOT NULL,
  camera_id text NOT NULL,
  line_id text NOT NULL,
  object_class text NOT NULL,
  direction text NOT NULL,
  count integer NOT NULL,
  boot_id uuid NOT NULL,
  seq bigint NOT NULL,
  ts timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  UNIQUE (site_id, node_id, boot_id, seq, interval_start, object_class, direction)
) PARTITION BY RANGE (interval_start);
-- Partitioned by the counted interval (not the message time): the flow rollups bucket on it.
CREATE INDEX line_counts_line_idx ON line_counts (site_id, node_id, camera_id, line_id, interval_start);

CREATE TABLE count_intervals (
  interval_start timestamptz NOT NULL,
  interval_end timestamptz NOT NULL,
  site_id text NOT NULL,
  node_id text NOT NULL,
  camera_id text NOT NULL,
  line_id text NOT NULL,
  boot_id uuid NOT NULL,
  seq bigint NOT NULL,
  ts timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  row_count integer NOT NULL,
  total integer NOT NULL,
  UNIQUE (site_id, node_id, boot_id, seq, interval_start)
) PARTITION BY RANGE (interval_start);
CREATE INDEX count_intervals_line_idx ON count_intervals (site_id, node_id, camera_id, line_id, interval_start);

CREATE TABLE line_crossings (
  ts timestamptz NOT NULL,
  site_id text NOT NULL,
  node_id text NOT NULL,
  camera_id text NOT NULL,
  boot_id uuid NOT NULL,
  seq bigint NOT NULL,
  crossing_id uuid NOT NULL,
  line_id text NOT NULL,
  track_id integer NOT NULL,
  object_class text NOT NULL,
  direction text NOT NULL,
  at timestamptz NOT NULL,
  point real[] NOT NULL,
  score real NOT NULL,
  received_at timestamptz NOT NULL,
  UNIQUE (site_id, node_id, boot_id, seq, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX line_crossings_line_idx ON line_crossings (site_id, node_id, camera_id, line_id, at);

CREATE TABLE evidence (
  ts timestamptz NOT NULL,
  site_id text NOT NULL,
  node_id text NOT NULL,
  camera_id text NOT NULL,
  boot_id uuid NOT NULL,
  seq bigint NOT NULL,
  evidence_id uuid NOT NULL,
  event_id uuid,
  captured_at timestamptz NOT NULL,
  content_type text NOT NULL,
  bytes integer NOT NULL,
  width integer NOT NULL,
  height integer NOT NULL,
  sha256 text NOT NULL,
  box real[],
  persons_blurred integer NOT NULL,
  privacy_zones text[] NOT NULL,
  received_at timestamptz NOT NULL,
  UNIQUE (site_id, node_id, boot_id, seq, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX evidence_evidence_idx ON evidence (evidence_id, ts);
CREATE INDEX evidence_event_idx ON evidence (event_id, ts);

CREATE TABLE camera_status (
  ts timestamptz NOT NULL,
  site_id text NOT NULL,
  node_id text NOT NULL,
  camera_id text NOT NULL,
  boot_id uuid NOT NULL,
  seq bigint NOT NULL,
  state text NOT NULL,
  reason text,
  attempt integer NOT NULL,
  next_retry_ms integer,
  frame_width integer,
  frame_height integer,
  received_at timestamptz NOT NULL,
  UNIQUE (site_id, node_id, boot_id, seq, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX camera_status_camera_idx ON camera_status (site_id, node_id, camera_id, ts DESC);

-- seq is 0 for the MQTT last will, the one node message the broker publishes without a sequence number.
CREATE TABLE node_status (
  ts timestamptz NOT NULL,
  site_id text NOT NULL,
  node_id text NOT NULL,
  boot_id uuid NOT NULL,
  seq bigint NOT NULL,
  state text NOT NULL,
  reason text,
  version text NOT NULL,
  config_version integer,
  cameras text[] NOT NULL,
  received_at timestamptz NOT NULL,
  UNIQUE (site_id, node_id, boot_id, seq, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX node_status_node_idx ON node_status (site_id, node_id, ts DESC);

CREATE TABLE heartbeats (
  ts timestamptz NOT NULL,
  site_id text NOT NULL,
  node_id text NOT NULL,
  boot_id uuid NOT NULL,
  seq bigint NOT NULL,
  uptime_s double precision NOT NULL,
  config_version integer,
  cameras jsonb NOT NULL,
  outbox_depth integer NOT NULL,
  outbox_bytes bigint NOT NULL,
  outbox_oldest_age_s double precision,
  outbox_evicted jsonb NOT NULL,
  outbox_evicted_total bigint NOT NULL,
  received_at timestamptz NOT NULL,
  UNIQUE (site_id, node_id, boot_id, seq, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX heartbeats_node_idx ON heartbeats (site_id, node_id, ts DESC);

-- Flow rollups, the plain-PostgreSQL stand-in for continuous aggregates: same names and columns, maintained by the
-- service. Buckets are UTC, aligned like time_bucket (15 min and 1 h on the epoch, days at midnight UTC).
CREATE TABLE flow_15m (
  bucket timestamptz NOT NULL,
  site_id text NOT NULL,
  node_id text NOT NULL,
  camera_id text NOT NULL,
  line_id text NOT NULL,
  object_class text NOT NULL,
  direction text NOT NULL,
  count bigint NOT NULL,
  PRIMARY KEY (bucket, site_id, node_id, camera_id, line_id, object_class, direction)
);
CREATE TABLE flow_1h (LIKE flow_15m INCLUDING ALL);
CREATE TABLE flow_1d (LIKE flow_15m INCLUDING ALL);

-- 15-minute buckets of each line touched by ingest since the last refresh. Written in the same transaction as the
-- counts (an upsert that takes a row lock, so a refresh that deletes a marker either waits for the writer or the
-- writer re-inserts it after the refresh), consumed by the refresh.
CREATE TABLE flow_dirty (
  site_id text NOT NULL,
  node_id text NOT NULL,
  camera_id text NOT NULL,
  line_id text NOT NULL,
  bucket timestamptz NOT NULL,
  touched bigint NOT NULL DEFAULT 1,
  PRIMARY KEY (site_id, node_id, camera_id, line_id, bucket)
);
