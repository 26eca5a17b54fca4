-- The queue namespace (QUEUE_PREFIX) a run was submitted to: reconcilers re-enqueue only the runs
-- of their own namespace. Runs recorded before this column belong to the default namespace.
ALTER TABLE "Run" ADD COLUMN "queuePrefix" TEXT NOT NULL DEFAULT 'brainalign';

-- One reconciler acts per namespace at a time: whoever holds the unexpired lease.
CREATE TABLE "ReconcilerLease" (
    "namespace" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ReconcilerLease_pkey" PRIMARY KEY ("namespace")
);
