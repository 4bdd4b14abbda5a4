-- One flash-sale checkout as one transaction, for pgbench -M prepared:
--   pgbench -n -M prepared -f flash_sale.sql -D sku=FLASH -D location=DC -D units=1 ...
-- The conditional update holds the units only while they last; a refused checkout
-- writes nothing else.
BEGIN;
WITH held AS (
    UPDATE flash_pgbench.stock
    SET reserved = reserved + :units, updated_at = now()
    WHERE sku = :sku AND location_id = :location AND on_hand - reserved >= :units
    RETURNING sku
)
SELECT count(*) AS held FROM held \gset
\if :held
INSERT INTO flash_pgbench.reservation
    (id, idempotency_key, sku, location_id, quantity, status, expires_at, created_at)
VALUES (gen_random_uuid(), gen_random_uuid()::text, :sku, :location, :units, 'ACTIVE',
        now() + interval '15 minutes', now());
INSERT INTO flash_pgbench.orders
    (id, idempotency_key, channel, location_id, currency, status, created_at)
VALUES (gen_random_uuid(), 'pgbench-' || gen_random_uuid(), 'web', :location, 'EUR',
        'PENDING', now())
RETURNING id AS order_id \gset
INSERT INTO flash_pgbench.order_line (id, order_id, position, sku, quantity, unit_price, tax_rate)
VALUES (gen_random_uuid(), :order_id, 1, :sku, :units, 10.99, 0.19);
INSERT INTO flash_pgbench.outbox (id, type, partition_key, occurred_at, payload)
VALUES (gen_random_uuid(), 'OrderPlaced', :order_id, now(),
        jsonb_build_object('order_id', :order_id::text, 'sku', :sku::text, 'quantity', :units::int));
INSERT INTO flash_pgbench.erp_posting
    (order_id, kind, reference, payload, status, next_attempt_at, created_at)
VALUES (:order_id, 'ORDER', 'order-' || :order_id, jsonb_build_object('order_id', :order_id::text),
        'PENDING', now(), now());
\endif
COMMIT;
