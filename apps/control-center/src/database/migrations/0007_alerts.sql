-- Alerts for control-room operators (issue 12): one per violation event id, and one per open system condition.
-- Ordinary tables on both flavours: alerts are few next to the time series, live for their workflow, and are
-- paged by their monotonic id.
CREATE TABLE alerts (
  id              bigserial   PRIMARY KEY,
  site_id         text        NOT NULL,
  node_id         text        NOT NULL,
  camera_id       text,
  kind            text        NOT NULL CHECK (kind IN ('parking_violation', 'pedestrian_blocking', 'camera_down',
                                                       'node_offline', 'outbox_eviction', 'delivery_loss')),
  severity        text        NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  -- The violation event id, or the system condition's key (node, camera, when it began).
  source          text        NOT NULL,
  -- The violation's own lifecycle beside the workflow (null for system alerts).
  violation_state text        CHECK (violation_state IN ('start', 'update', 'end')),
  state           text        NOT NULL DEFAULT 'new'
                              CHECK (state IN ('new', 'acknowledged', 'in_progress', 'resolved', 'false_positive')),
  assignee        text,
  -- Human oversight: who confirmed a parking violation, and when.
  confirmed_by    text,
  confirmed_at    timestamptz,
  -- Optimistic concurrency: every workflow change names the version it saw and bumps it.
  version         int         NOT NULL DEFAULT 1,
  -- When the violation or condition began, and when it ended or cleared (edge time where the edge said).
  opened_at       timestamptz NOT NULL,
  cleared_at      timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  details         jsonb       NOT NULL DEFAULT '{}',
  CHECK ((violation_state IS NULL) = (kind NOT IN ('parking_violation', 'pedestrian_blocking'))),
  CHECK ((confirmed_by IS NULL) = (confirmed_at IS NULL))
);

-- One alert per violation event id, and per system condition occurrence (a replayed batch creates nothing twice).
CREATE UNIQUE INDEX alerts_source_key ON alerts (site_id, kind, source);
-- At most one OPEN system alert per (site, node, camera or '', condition).
CREATE UNIQUE INDEX alerts_open_condition_key ON alerts (site_id, node_id, coalesce(camera_id, ''), kind)
  WHERE cleared_at IS NULL AND kind IN ('camera_down', 'node_offline');
-- The list query: scoped by site, filtered by state, severity, camera, kind or creation time, paged by id.
CREATE INDEX alerts_site_id_idx ON alerts (site_id, id);
CREATE INDEX alerts_site_state_idx ON alerts (site_id, state, id);
CREATE INDEX alerts_site_severity_idx ON alerts (site_id, severity, id);
CREATE INDEX alerts_site_camera_idx ON alerts (site_id, camera_id, id);
CREATE INDEX alerts_site_created_idx ON alerts (site_id, created_at);
-- The latest occurrence alert of a node (evictions, losses merge into it within their window).
CREATE INDEX alerts_node_kind_idx ON alerts (site_id, node_id, kind, id);

CREATE TABLE alert_history (
  id         bigserial   PRIMARY KEY,
  alert_id   bigint      NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text        NOT NULL,
  action     text        NOT NULL,
  from_state text,
  to_state   text,
  note       text
);
CREATE INDEX alert_history_alert_idx ON alert_history (alert_id, id);
