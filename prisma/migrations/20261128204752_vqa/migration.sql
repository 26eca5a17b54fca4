-- CreateTable
CREATE TABLE "VqaSource" (
    "benchmarkId" UUID NOT NULL,
    "artifactId" UUID NOT NULL,
    "sha256" TEXT NOT NULL,
    "stimulusSetId" UUID NOT NULL,
    "nQuestions" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "VqaSource_pkey" PRIMARY KEY ("benchmarkId")
);

-- CreateTable
CREATE TABLE "VqaQuestion" (
    "id" UUID NOT NULL,
    "benchmarkId" UUID NOT NULL,
    "questionId" TEXT NOT NULL,
    "stimulusId" UUID NOT NULL,
    "category" TEXT NOT NULL,
    "question" TEXT NOT NULL,
    "answerType" TEXT NOT NULL,
    "answers" TEXT[],
    "choices" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "line" INTEGER NOT NULL,

    CONSTRAINT "VqaQuestion_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "VqaQuestion_stimulusId_idx" ON "VqaQuestion"("stimulusId");

-- CreateIndex
CREATE UNIQUE INDEX "VqaQuestion_benchmarkId_questionId_key" ON "VqaQuestion"("benchmarkId", "questionId");

-- AddForeignKey
ALTER TABLE "VqaSource" ADD CONSTRAINT "VqaSource_benchmarkId_fkey" FOREIGN KEY ("benchmarkId") REFERENCES "Benchmark"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VqaQuestion" ADD CONSTRAINT "VqaQuestion_benchmarkId_fkey" FOREIGN KEY ("benchmarkId") REFERENCES "Benchmark"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VqaQuestion" ADD CONSTRAINT "VqaQuestion_stimulusId_fkey" FOREIGN KEY ("stimulusId") REFERENCES "Stimulus"("id") ON DELETE CASCADE ON UPDATE CASCADE;
