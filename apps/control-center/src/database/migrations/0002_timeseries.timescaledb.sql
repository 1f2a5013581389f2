-- Time-series tables as TimescaleDB hypertables (1-day chunks). Every unique key is the message identity
-- (site, node, boot, seq) plus the partitioning time, which a replay carries unchanged. Keep the column lists
-- identical to 0002_timeseries.postgres.sql (a test compares the two).

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
);
SELECT create_hypertable('detection_events', by_range('ts', INTERVAL '1 day'));
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
);
-- Partitioned by the counted interval (not the message time): the flow aggregates bucket on it.
SELECT create_hypertable('line_counts', by_range('interval_start', INTERVAL '1 day'));
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
);
SELECT create_hypertable('count_intervals', by_range('interval_start', INTERVAL '1 day'));
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
);
SELECT create_hypertable('line_crossings', by_range('ts', INTERVAL '1 day'));
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
);
SELECT create_hypertable('evidence', by_range('ts', INTERVAL '1 day'));
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
);
SELECT create_hypertable('camera_status', by_range('ts', INTERVAL '1 day'));
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
);
SELECT create_hypertable('node_status', by_range('ts', INTERVAL '1 day'));
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
);
SELECT create_hypertable('heartbeats', by_range('ts', INTERVAL '1 day'));
CREATE INDEX heartbeats_node_idx ON heartbeats (site_id, node_id, ts DESC);

-- Compression (columnstore) once a chunk is cold. Counts compress after their aggregates' refresh window
-- (8-10 days) so refreshes never read compressed chunks.
ALTER TABLE detection_events SET (timescaledb.compress, timescaledb.compress_segmentby = 'site_id, node_id', timescaledb.compress_orderby = 'ts DESC');
ALTER TABLE line_counts SET (timescaledb.compress, timescaledb.compress_segmentby = 'site_id, node_id, camera_id, line_id', timescaledb.compress_orderby = 'interval_start DESC');
ALTER TABLE count_intervals SET (timescaledb.compress, timescaledb.compress_segmentby = 'site_id, node_id, camera_id, line_id', timescaledb.compress_orderby = 'interval_start DESC');
ALTER TABLE line_crossings SET (timescaledb.compress, timescaledb.compress_segmentby = 'site_id, node_id, camera_id', timescaledb.compress_orderby = 'ts DESC');
ALTER TABLE evidence SET (timescaledb.compress, timescaledb.compress_segmentby = 'site_id, node_id', timescaledb.compress_orderby = 'ts DESC');
ALTER TABLE camera_status SET (timescaledb.compress, timescaledb.compress_segmentby = 'site_id, node_id', timescaledb.compress_orderby = 'ts DESC');
ALTER TABLE node_status SET (timescaledb.compress, timescaledb.compress_segmentby = 'site_id, node_id', timescaledb.compress_orderby = 'ts DESC');
ALTER TABLE heartbeats SET (timescaledb.compress, timescaledb.compress_segmentby = 'site_id, node_id', timescaledb.compress_orderby = 'ts DESC');

SELECT add_compression_policy('detection_events', compress_after => INTERVAL '7 days');
SELECT add_compression_policy('line_counts', compress_after => INTERVAL '12 days');
SELECT add_compression_policy('count_intervals', compress_after => INTERVAL '12 days');
SELECT add_compression_policy('line_crossings', compress_after => INTERVAL '7 days');
SELECT add_compression_policy('evidence', compress_after => INTERVAL '7 days');
SELECT add_compression_policy('camera_status', compress_after => INTERVAL '7 days');
SELECT add_compression_policy('node_status', compress_after => INTERVAL '7 days');
SELECT add_compression_policy('heartbeats', compress_after => INTERVAL '7 days');

-- Retention drops whole chunks older than retention_policy.keep.
SELECT add_retention_policy(relation, drop_after => keep)
FROM retention_policy
WHERE relation IN ('detection_events', 'line_counts', 'count_intervals', 'line_crossings', 'evidence',
                   'camera_status', 'node_status', 'heartbeats')
ORDER BY relation;
