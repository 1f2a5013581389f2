-- Traffic flows as continuous aggregates over the per-interval line counts, bucketed in UTC on the counted
-- interval's start: 15 min from the raw rows, 1 h from the 15-min aggregate, 1 d from the hourly one.
-- Real-time aggregation (materialized_only = false) adds the not-yet-materialised tail, so a report is complete
-- without waiting for a refresh.
--
-- Refresh windows reach back 8-10 days (an edge outbox holds up to 7 days, so a replay after a long outage still
-- lands in the aggregates); raw counts live 35 days, longer than any window, so a refresh never sees rows that
-- retention has removed (which would silently empty the buckets).

CREATE MATERIALIZED VIEW flow_15m WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '15 minutes', interval_start) AS bucket,
       site_id, node_id, camera_id, line_id, object_class, direction,
       sum(count)::bigint AS count
FROM line_counts
GROUP BY 1, 2, 3, 4, 5, 6, 7
WITH NO DATA;

CREATE MATERIALIZED VIEW flow_1h WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 hour', bucket) AS bucket,
       site_id, node_id, camera_id, line_id, object_class, direction,
       sum(count)::bigint AS count
FROM flow_15m
GROUP BY 1, 2, 3, 4, 5, 6, 7
WITH NO DATA;

CREATE MATERIALIZED VIEW flow_1d WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 day', bucket) AS bucket,
       site_id, node_id, camera_id, line_id, object_class, direction,
       sum(count)::bigint AS count
FROM flow_1h
GROUP BY 1, 2, 3, 4, 5, 6, 7
WITH NO DATA;

SELECT add_continuous_aggregate_policy('flow_15m', start_offset => INTERVAL '8 days', end_offset => INTERVAL '15 minutes', schedule_interval => INTERVAL '5 minutes');
SELECT add_continuous_aggregate_policy('flow_1h', start_offset => INTERVAL '9 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '15 minutes');
SELECT add_continuous_aggregate_policy('flow_1d', start_offset => INTERVAL '10 days', end_offset => INTERVAL '1 day', schedule_interval => INTERVAL '1 hour');

SELECT add_retention_policy(relation, drop_after => keep)
FROM retention_policy
WHERE relation IN ('flow_15m', 'flow_1h', 'flow_1d')
ORDER BY relation;
