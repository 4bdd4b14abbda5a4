-- The tables a flash-sale checkout writes, reduced to what PostgreSQL must do for it:
-- inventory's stock row and reservation, orders' order and line, an outbox row and
-- the ERP posting. Made in a schema of its own in the run's scratch database.
DROP SCHEMA IF EXISTS flash_pgbench CASCADE;
CREATE SCHEMA flash_pgbench;
SET search_path TO flash_pgbench;

CREATE TABLE stock (
    sku text NOT NULL,
    location_id text NOT NULL,
    on_hand integer NOT NULL,
    reserved integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, location_id),
    CHECK (on_hand >= 0 AND reserved >= 0)
);

CREATE TABLE reservation (
    id uuid PRIMARY KEY,
    idempotency_key text NOT NULL UNIQUE,
    sku text NOT NULL,
    location_id text NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    status text NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX ON reservation (sku, location_id, status);

CREATE TABLE orders (
    seq bigserial PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    idempotency_key text NOT NULL UNIQUE,
    channel text NOT NULL,
    location_id text NOT NULL,
    currency char(3) NOT NULL,
    status text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX ON orders (location_id);
CREATE INDEX ON orders (status);

CREATE TABLE order_line (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    position integer NOT NULL,
    sku text NOT NULL,
    quantity integer NOT NULL,
    unit_price numeric NOT NULL,
    tax_rate numeric NOT NULL
);
CREATE INDEX ON order_line (order_id);
CREATE INDEX ON order_line (sku);

CREATE TABLE outbox (
    seq bigserial PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    type text NOT NULL,
    partition_key text NOT NULL,
    occurred_at timestamptz NOT NULL,
    payload jsonb NOT NULL,
    published_at timestamptz
);
CREATE INDEX ON outbox (published_at);

CREATE TABLE erp_posting (
    seq bigserial PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    kind text NOT NULL,
    reference text NOT NULL UNIQUE,
    payload jsonb NOT NULL,
    status text NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX ON erp_posting (status, next_attempt_at);
