"""What every part of dpabot stands on: configuration, the running service's shared parts
(database, job queue, tenants, mail transports, signers), errors, and secrets kept out of logs."""
