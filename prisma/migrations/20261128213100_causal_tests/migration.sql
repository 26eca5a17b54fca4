-- CreateTable
CREATE TABLE "ConceptQuery" (
    "id" UUID NOT NULL,
    "datasetId" UUID NOT NULL,
    "stimulusSetId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "concept" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "positivePositions" INTEGER[],
    "counterfactualPositions" INTEGER[],
    "baselinePositions" INTEGER[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ConceptQuery_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DistractorGroup" (
    "id" UUID NOT NULL,
    "conceptQueryId" UUID NOT NULL,
    "cue" TEXT NOT NULL,
    "positions" INTEGER[],

    CONSTRAINT "DistractorGroup_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ConceptQuery_stimulusSetId_key" ON "ConceptQuery"("stimulusSetId");

-- CreateIndex
CREATE UNIQUE INDEX "ConceptQuery_datasetId_name_key" ON "ConceptQuery"("datasetId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "DistractorGroup_conceptQueryId_cue_key" ON "DistractorGroup"("conceptQueryId", "cue");

-- AddForeignKey
ALTER TABLE "ConceptQuery" ADD CONSTRAINT "ConceptQuery_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConceptQuery" ADD CONSTRAINT "ConceptQuery_stimulusSetId_fkey" FOREIGN KEY ("stimulusSetId") REFERENCES "StimulusSet"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DistractorGroup" ADD CONSTRAINT "DistractorGroup_conceptQueryId_fkey" FOREIGN KEY ("conceptQueryId") REFERENCES "ConceptQuery"("id") ON DELETE CASCADE ON UPDATE CASCADE;

