-- Runs once, when the postgres_data volume is first initialised (docker-entrypoint-initdb.d),
-- as the superuser POSTGRES_USER (cloud). One database per service that has one
-- (operations.md §2 lists order_db, inventory_db and payment_db; catalog and notification are
-- persisted in this implementation too). The services would also create a missing database
-- themselves at startup (the role may); creating them here keeps the first boot quiet and lets
-- a stricter role be used later.
CREATE DATABASE order_db;
CREATE DATABASE inventory_db;
CREATE DATABASE payment_db;
CREATE DATABASE catalog_db;
CREATE DATABASE notification_db;
