-- CreateTable
CREATE TABLE "SiteIdentity" (
    "id" TEXT NOT NULL DEFAULT 'self',
    "publicKey" TEXT NOT NULL,
    "keySha256" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SiteIdentity_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TrustedSite" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "publicKey" TEXT NOT NULL,
    "url" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TrustedSite_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SiteBundleImport" (
    "bundleId" TEXT NOT NULL,
    "siteId" UUID NOT NULL,
    "bundleCreatedAt" TIMESTAMP(3) NOT NULL,
    "nScores" INTEGER NOT NULL,
    "imported" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SiteBundleImport_pkey" PRIMARY KEY ("bundleId")
);

-- CreateTable
CREATE TABLE "ImportedScore" (
    "id" UUID NOT NULL,
    "siteId" UUID NOT NULL,
    "benchmarkId" UUID NOT NULL,
    "originRunId" TEXT NOT NULL,
    "metric" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "ciLow" DOUBLE PRECISION,
    "ciHigh" DOUBLE PRECISION,
    "normalized" DOUBLE PRECISION,
    "n" INTEGER,
    "modelName" TEXT NOT NULL DEFAULT '',
    "modelFamily" TEXT NOT NULL DEFAULT '',
    "subjectName" TEXT NOT NULL DEFAULT '',
    "datasetName" TEXT NOT NULL DEFAULT '',
    "provenance" JSONB NOT NULL DEFAULT '{}',
    "arrays" JSONB NOT NULL DEFAULT '{}',
    "originCreatedAt" TIMESTAMP(3) NOT NULL,
    "bundleId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ImportedScore_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "TrustedSite_name_key" ON "TrustedSite"("name");

-- CreateIndex
CREATE INDEX "SiteBundleImport_siteId_bundleCreatedAt_idx" ON "SiteBundleImport"("siteId", "bundleCreatedAt");

-- CreateIndex
CREATE INDEX "ImportedScore_benchmarkId_metric_scope_idx" ON "ImportedScore"("benchmarkId", "metric", "scope");

-- CreateIndex
CREATE UNIQUE INDEX "ImportedScore_siteId_originRunId_metric_scope_key" ON "ImportedScore"("siteId", "originRunId", "metric", "scope");

-- AddForeignKey
ALTER TABLE "SiteBundleImport" ADD CONSTRAINT "SiteBundleImport_siteId_fkey" FOREIGN KEY ("siteId") REFERENCES "TrustedSite"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ImportedScore" ADD CONSTRAINT "ImportedScore_siteId_fkey" FOREIGN KEY ("siteId") REFERENCES "TrustedSite"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ImportedScore" ADD CONSTRAINT "ImportedScore_benchmarkId_fkey" FOREIGN KEY ("benchmarkId") REFERENCES "Benchmark"("id") ON DELETE CASCADE ON UPDATE CASCADE;

