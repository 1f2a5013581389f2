-- Messages refused (at validation, or by the database for their data) whose envelope was readable close their seq
-- as *rejected*: the commit ack moves past them and no replay is asked for them (a refused message would be refused
-- again). The dead letter says which seq it closed; the delivery state counts them per stream.
ALTER TABLE dead_letters ADD COLUMN boot_id uuid;
ALTER TABLE dead_letters ADD COLUMN seq bigint;

-- Seqs of the stream closed as rejected, each counted once (a redelivered refusal adds none).
ALTER TABLE delivery_state ADD COLUMN rejected bigint NOT NULL DEFAULT 0;
