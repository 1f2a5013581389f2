-- Sequence numbers an edge announced it can no longer deliver (`delivery_gap`): published, then evicted from its
-- outbox by the byte or age bound before the centre committed them. They are closed in the delivery state (the
-- commit ack may pass them, no replay is asked for them) and every newly closed range is kept for audit.

-- Announced-lost ranges above committed_up_to, flattened [from1, to1, from2, to2, ...]; below the mark they are
-- simply part of it.
ALTER TABLE delivery_state ADD COLUMN lost bigint[] NOT NULL DEFAULT '{}';

-- One row per range newly closed by an announcement (a repeated announcement adds none: ranges are computed under
-- the stream's row lock against what the state already holds).
CREATE TABLE delivery_losses (
  site_id text NOT NULL,
  node_id text NOT NULL,
  boot_id uuid NOT NULL,
  from_seq bigint NOT NULL,
  to_seq bigint NOT NULL,
  reporter_boot_id uuid NOT NULL,
  request_id uuid,
  reported_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL,
  PRIMARY KEY (site_id, node_id, boot_id, from_seq),
  CHECK (to_seq >= from_seq)
);

CREATE INDEX delivery_losses_recorded_at ON delivery_losses (recorded_at);

INSERT INTO retention_policy (relation, keep, why) VALUES
  ('delivery_losses', '400 days', 'audit of data an edge could not deliver: as long as the decision log it leaves gaps in');
